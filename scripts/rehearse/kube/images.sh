#!/usr/bin/env bash
# Puts into the rehearsal's containerd (namespace k8s.io) every image the pods
# need, under the exact references the chart and manifests render, because
# nothing can be pulled where the rehearsal runs and imagePullPolicy
# IfNotPresent then never tries:
#   registry.k8s.io/pause:3.10.1          the sandbox image containerd is told to use
#   ghcr.io/dockopt/dockopt:0.1.0         dockopt from this checkout, built like the Dockerfile's final stage
#   moby/buildkit:v0.34.2-rootless        only if the Docker engine has it
#
# The images are built with the local Docker engine (FROM scratch: no pulls)
# under rehearsal-only names and renamed inside containerd, so the Docker
# engine, which others use, never carries a fake ghcr.io/dockopt tag.
#
# Usage: images.sh CONTAINERD_SOCKET
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SOCK=$1
PAUSE_REF=${PAUSE_REF:-registry.k8s.io/pause:3.10.1}
DOCKOPT_REF=${DOCKOPT_REF:-ghcr.io/dockopt/dockopt:0.1.0}
BUILDKIT_REF=${BUILDKIT_REF:-moby/buildkit:v0.34.2-rootless}

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
ctr_() { ctr --address "$SOCK" -n k8s.io "$@"; }

# docker.io is implied for short names, as the CRI plugin resolves them.
normalize() {
  case $1 in
    */*.*/* | *.*/*) echo "$1" ;;
    */*) echo "docker.io/$1" ;;
    *) echo "docker.io/library/$1" ;;
  esac
}

# import LOCAL_DOCKER_REF TARGET_REF
import() {
  local src=$1 dst
  dst=$(normalize "$2")
  local id
  id=$(docker image inspect --format '{{.Id}}' "$src")
  # Always re-imported: docker save output carries no digest to compare
  # with, and importing an unchanged image costs seconds.
  log "importing $src ($id) as $dst"
  docker save "$src" | ctr_ images import - >/dev/null
  local imported
  imported=$(normalize "$src")
  if [ "$imported" != "$dst" ]; then
    ctr_ images rm "$dst" >/dev/null 2>&1 || true
    ctr_ images tag "$imported" "$dst" >/dev/null
    ctr_ images rm "$imported" >/dev/null
  fi
}

# build TAG CONTEXT
build() {
  local old new
  old=$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true)
  # The legacy builder: BuildKit (docker buildx) is not installed, and a
  # FROM scratch build needs nothing more.
  DOCKER_BUILDKIT=0 docker build -q -t "$1" "$2" >/dev/null 2>"$2.err" || { cat "$2.err" >&2; return 1; }
  new=$(docker image inspect --format '{{.Id}}' "$1")
  # The engine is shared: leave no untagged image of ours behind.
  if [ -n "$old" ] && [ "$old" != "$new" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The pause image: a static Go stand-in for registry.k8s.io/pause.
mkdir -p "$work/pause"
(cd "$HERE/pause" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go build -trimpath -ldflags '-s -w' -o "$work/pause/pause" .)
cat >"$work/pause/Dockerfile" <<'EOF'
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
EOF
build dockopt-rehearsal-kube/pause:latest "$work/pause"
import dockopt-rehearsal-kube/pause:latest "$PAUSE_REF"

# dockopt: the Dockerfile's build stage (static, trimmed) and a final stage
# holding what gcr.io/distroless/static-debian12:nonroot gives it: the
# nonroot user, CA certificates, a /tmp, and /var/lib/dockopt owned by 65532.
ctx=$work/dockopt
# rootfs/ is copied whole, so the modes of its top-level entries (/tmp's
# sticky bit) survive the legacy builder's COPY.
mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/tmp" "$ctx/data" "$ctx/home"
(cd "$ROOT" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly \
  go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$ctx/rootfs/dockopt-app" ./cmd/dockopt-app)
chmod 0555 "$ctx/rootfs/dockopt-app"
cat >"$ctx/rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$ctx/rootfs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$ctx/rootfs/tmp"
cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 home/ /home/nonroot/
COPY --chown=65532:65532 data/ /var/lib/dockopt/
WORKDIR /var/lib/dockopt
USER 65532:65532
ENV DOCKOPT_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/dockopt-app"]
CMD ["serve"]
EOF
build dockopt-rehearsal-kube/dockopt:latest "$ctx"
import dockopt-rehearsal-kube/dockopt:latest "$DOCKOPT_REF"

if docker image inspect "$BUILDKIT_REF" >/dev/null 2>&1; then
  import "$BUILDKIT_REF" "$BUILDKIT_REF"
else
  log "$BUILDKIT_REF is not in the Docker engine: the BuildKit sidecar cannot start"
fi

ctr_ images ls | awk 'NR==1 || /pause|dockopt|buildkit/ {print $1, $3}' >&2
