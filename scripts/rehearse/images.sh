#!/usr/bin/env bash
# Builds, in the local Docker engine, the three images deploy/compose names,
# on a machine that cannot reach Docker Hub, ghcr.io or gcr.io:
#
#   ghcr.io/dockopt/dockopt:0.1.0    the repository's own Dockerfile, built by
#                                    a real buildkitd; only its two base images
#                                    are stand-ins (golang: Debian + this
#                                    machine's Go; distroless/static: passwd,
#                                    CA certificates, /tmp)
#   postgres:17-alpine               stand-in: Debian's PostgreSQL 15 with the
#                                    official image's user, paths and env contract
#   moby/buildkit:v0.34.2-rootless   stand-in: the same buildkitd and buildctl,
#                                    rootlesskit, the upstream image's layout
#
# Needs: root, a running Docker engine (scripts/rehearse/docker.sh), the
# buildkit binaries (scripts/install-buildkit.sh), debootstrap (installed here).
# First run: ~3 min for the Debian root filesystem, ~2 min for the rest.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/scripts/rehearse"
cache="${DOCKOPT_CACHE:-$repo/.cache}/rehearse"
export PATH="$repo/bin:$PATH"
mkdir -p "$cache"
log() { printf '\n== %s\n' "$*" >&2; }

bash "$repo/scripts/install-buildkit.sh"
if [ ! -x "$repo/bin/rootlesskit" ]; then
	log "rootlesskit (Go module proxy)"
	GOBIN="$repo/bin" CGO_ENABLED=0 go install github.com/rootless-containers/rootlesskit/v2/cmd/rootlesskit@v2.3.6
fi

# One Debian root filesystem serves as the base of every stand-in; its
# packages cover all of them (PostgreSQL, newuidmap and setcap for rootless
# BuildKit, runc, CA certificates).
rootfs="$cache/rootfs"
if [ ! -f "$rootfs/.complete" ]; then
	log "Debian root filesystem (debootstrap)"
	command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	rm -rf "$rootfs"
	debootstrap --variant=minbase --include=postgresql-15,uidmap,libcap2-bin,runc,ca-certificates,iproute2,procps \
		bookworm "$rootfs" http://deb.debian.org/debian
	touch "$rootfs/.complete"
fi
# A private rootful daemon with host networking: the builder stage downloads
# modules from the Go module proxy, as it would anywhere.
bkroot=$(mktemp -d /tmp/rehearse-bk.XXXX)
bkctx=$(mktemp -d)
cat >"$bkroot/buildkitd.toml" <<TOML
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  networkMode = "host"
[worker.containerd]
  enabled = false
TOML
# Its state stays in the cache, so a second run reuses every unchanged step.
buildkitd --config "$bkroot/buildkitd.toml" --root "$cache/buildkitd" --addr "unix://$bkroot/sock" >"$bkroot/log" 2>&1 &
bkpid=$!
cleanup() {
	local rc=$?
	kill "$bkpid" 2>/dev/null
	wait "$bkpid" 2>/dev/null || true
	rm -rf "$bkctx" "$bkroot"
	exit "$rc"
}
trap cleanup EXIT
for _ in $(seq 1 60); do buildctl --addr "unix://$bkroot/sock" debug workers >/dev/null 2>&1 && break; sleep 0.5; done

# Every image is built by that daemon and loaded into the engine. The
# stand-ins start FROM the Debian root filesystem, given as a named context.
build() { # context-dir image-name [buildctl args...]
	local dir=$1 name=$2
	shift 2
	buildctl --addr "unix://$bkroot/sock" build --frontend dockerfile.v0 \
		--local context="$dir" --local dockerfile="$dir" --opt cmdline=dockopt "$@" \
		--output "type=docker,name=$name" | docker load
}
debian=(--local debian="$rootfs" --opt context:dockopt-rehearsal/debian:bookworm=local:debian)

log "postgres:17-alpine (stand-in)"
build "$here/images/postgres" postgres:17-alpine "${debian[@]}"

log "moby/buildkit:v0.34.2-rootless (stand-in)"
cp "$here"/images/buildkit/* "$bkctx/"
cp "$repo/bin/buildkitd" "$repo/bin/buildctl" "$repo/bin/rootlesskit" "$bkctx/"
build "$bkctx" moby/buildkit:v0.34.2-rootless "${debian[@]}"

log "ghcr.io/dockopt/dockopt:0.1.0 from ./Dockerfile"
# The Dockerfile's base images, as named contexts: BuildKit uses a local
# directory in place of the image named in FROM. Go's defaults for the
# golang image's environment (GOPATH=/go) go in $GOROOT/go.env, because a
# local context has no image config.
golang="$cache/golang"
if [ ! -f "$golang/.complete" ]; then
	rm -rf "$golang"
	cp -a "$rootfs" "$golang"
	cp -a "$(go env GOROOT)" "$golang/usr/local/go"
	ln -sf /usr/local/go/bin/go "$golang/usr/local/bin/go"
	printf 'GOPATH=/go\nGOTOOLCHAIN=local\n' >>"$golang/usr/local/go/go.env"
	touch "$golang/.complete"
fi
# The builder downloads modules with this machine's trust store, which may
# hold a CA the stock Debian bundle lacks (an inspecting proxy in front of
# the Go module proxy).
cp /etc/ssl/certs/ca-certificates.crt "$golang/etc/ssl/certs/ca-certificates.crt"
distroless="$cache/distroless"
rm -rf "$distroless"
mkdir -p "$distroless/etc/ssl/certs" "$distroless/tmp" "$distroless/home/nonroot"
chmod 1777 "$distroless/tmp"
chown 65532:65532 "$distroless/home/nonroot"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$distroless/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$distroless/etc/group"
cp /etc/ssl/certs/ca-certificates.crt "$distroless/etc/ssl/certs/"

from() { sed -n "s/^FROM \(--platform=[^ ]* \)\{0,1\}\([^ ]*$1[^ ]*\).*/\2/p" "$repo/Dockerfile"; }
golang_ref=$(from golang)
distroless_ref=$(from distroless)
version=0.1.0
build "$repo" "ghcr.io/dockopt/dockopt:$version" \
	--opt build-arg:VERSION="$version" \
	--opt build-arg:REVISION="$(git -C "$repo" rev-parse HEAD)" \
	--local golang="$golang" --opt "context:$golang_ref=local:golang" \
	--local distroless="$distroless" --opt "context:$distroless_ref=local:distroless"
docker image inspect --format '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Healthcheck.Test}}' "ghcr.io/dockopt/dockopt:$version"
