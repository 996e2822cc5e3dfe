#!/usr/bin/env bash
# Installs what a real buildkitd needs on a fresh Debian machine, for
# internal/buildkittest and the patcher's real builds:
#   - runc            the OCI runtime buildkitd's OCI worker executes RUN steps with
#   - busybox-static  the one static binary the test base images are made of
#   - bin/buildkitd   built from the buildkit module at go.mod's version
#   - bin/buildctl    not used by tests; handy to poke a running daemon by hand
# No iptables or CNI plugins: the test daemon uses host networking.
# Idempotent; a second run only checks and returns.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/bin"

need_apt=()
command -v runc >/dev/null 2>&1 || need_apt+=(runc)
# Debian's plain "busybox" package puts a dynamically linked binary at the
# same path; the test images have no libc, so only the static one will do
# (installing it replaces the other).
dpkg -s busybox-static >/dev/null 2>&1 || need_apt+=(busybox-static)
if [ ${#need_apt[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt_get=(apt-get)
	[ "$(id -u)" -eq 0 ] || apt_get=(sudo apt-get)
	# The package lists may be missing on a fresh machine; update only then.
	if ! "${apt_get[@]}" install -y --no-install-recommends "${need_apt[@]}"; then
		"${apt_get[@]}" update
		"${apt_get[@]}" install -y --no-install-recommends "${need_apt[@]}"
	fi
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
