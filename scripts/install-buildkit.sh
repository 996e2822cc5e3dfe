#!/usr/bin/env bash
# Installs what a real buildkitd needs on a fresh Debian machine, for
# internal/buildkittest and the patcher's real builds:
#   - runc            the OCI runtime buildkitd's OCI worker executes RUN steps with
#   - bin/busybox     the one static binary the test base images are made of,
#                     unpacked from Debian's busybox-static package, not
#                     installed: installing it would replace the system's
#                     busybox package (they conflict)
#   - bin/buildkitd   built from the buildkit module at go.mod's version
#   - bin/buildctl    not used by tests; handy to poke a running daemon by hand
# No iptables or CNI plugins: the test daemon uses host networking.
# Idempotent; a second run only checks and returns.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/bin"

export DEBIAN_FRONTEND=noninteractive
apt_get=(apt-get)
[ "$(id -u)" -eq 0 ] || apt_get=(sudo apt-get)
if ! command -v runc >/dev/null 2>&1; then
	# The package lists may be missing on a fresh machine; update only then.
	if ! "${apt_get[@]}" install -y --no-install-recommends runc; then
		"${apt_get[@]}" update
		"${apt_get[@]}" install -y --no-install-recommends runc
	fi
fi
# The test images have no libc, so only a static busybox will do; Debian's
# plain busybox package is dynamically linked. internal/buildkittest takes
# the first static busybox on PATH, so bin/busybox serves, and a machine
# that has busybox-static installed needs nothing.
if ! dpkg -s busybox-static >/dev/null 2>&1 && [ ! -x "$bin/busybox" ]; then
	deb=$(mktemp -d)
	trap 'rm -rf "$deb"' EXIT
	chmod 0755 "$deb" # apt-get download fetches as the _apt user
	(cd "$deb" && { apt-get download busybox-static || { "${apt_get[@]}" update && apt-get download busybox-static; }; })
	dpkg-deb -x "$deb"/busybox-static_*.deb "$deb/root"
	mkdir -p "$bin"
	# /bin/busybox in bookworm; /usr/bin/busybox once packages move to /usr.
	install -m 0755 "$(find "$deb/root" -path '*bin/busybox' -type f | head -1)" "$bin/busybox"
	echo "install-buildkit: static busybox from busybox-static in $bin"
fi
# Same version as go.mod, so the daemon and the client library agree.
version=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/moby/buildkit)
stamp="$bin/.buildkit-version"
if [ -x "$bin/buildkitd" ] && [ -x "$bin/buildctl" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
	exit 0
fi
mkdir -p "$bin"
# "go install buildkitd@version" is refused because buildkit's go.mod has
# exclude directives; build inside buildkit's own module instead, so the
# daemon gets exactly the dependency versions buildkit released with.
src=$(cd "$repo" && go mod download -json "github.com/moby/buildkit@$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -d "$src" ]; then
	echo "install-buildkit: cannot download github.com/moby/buildkit@$version" >&2
	exit 1
fi
# CGO off: a static daemon that needs no libseccomp headers; seccomp is
# applied by runc, not by buildkitd itself.
ldflags="-X github.com/moby/buildkit/version.Version=$version"
for cmd in buildkitd buildctl; do
	(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath \
		-ldflags "$ldflags" -o "$bin/$cmd" "./cmd/$cmd")
done
echo "$version" >"$stamp"
echo "install-buildkit: buildkitd $version in $bin"
