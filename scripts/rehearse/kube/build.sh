#!/usr/bin/env bash
# Builds, from the Go module proxy only, everything the Kubernetes rehearsal
# runs: etcd, the Kubernetes control plane and kubelet, kubectl and the CNI
# plugins. Binaries land in $KUBE_CACHE/bin and are reused when present, so a
# second run costs nothing.
#
# Usage: scripts/rehearse/kube/build.sh [component...]
#   components: etcd, cni, kube (default: all three)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
KUBE_CACHE=${KUBE_CACHE:-$ROOT/.cache/kube}
BIN=$KUBE_CACHE/bin
SRC=$KUBE_CACHE/src
# 1.35+ kubelets refuse to start on cgroup v1 hosts, which this one is.
K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CNI_VERSION=${CNI_VERSION:-v1.9.0}
KUBE_CMDS=(kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet)

# Never let a go.work or GOFLAGS from the caller's shell change what is built.
export GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
mkdir -p "$BIN" "$SRC"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

have_all() { local b; for b in "$@"; do [ -x "$BIN/$b" ] || return 1; done; }

# The k8s.io/kubernetes module zip has a go.mod that replaces every k8s.io/*
# staging module with ./staging/src/..., but the zip leaves staging/ out
# (nested modules are never part of a module zip), so `go install ...@v`
# refuses it. The staging modules are published on their own as v0.X.Y for a
# v1.X.Y release; requiring those instead gives the same source tree.
prepare_kube_src() {
  local dir=$SRC/kubernetes-$K8S_VERSION
  if [ -f "$dir/.prepared" ]; then echo "$dir"; return; fi
  local mod
  mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [ -d "$mod" ] || { log "go mod download k8s.io/kubernetes@$K8S_VERSION gave no Dir"; exit 1; }
  rm -rf "$dir"
  cp -r "$mod" "$dir"
  chmod -R u+w "$dir"
  # go.work points at the missing staging/ directories too.
  rm -f "$dir/go.work" "$dir/go.work.sum"
  local staging_version=v0.${K8S_VERSION#v1.}
  (
    cd "$dir"
    local mods args=() m
    mods=$(awk '/=> \.\/staging\//{print $1}' go.mod)
    for m in $mods; do args+=("-dropreplace=$m"); done
    go mod edit "${args[@]}"
    # Only the modules kubernetes requires (as the v0.0.0 placeholder); the
    # sample-* replaces have no require to rewrite.
    for m in $mods; do
      if grep -Eq "^[[:space:]]$m v0\.0\.0\$" go.mod; then
        go mod edit -require="$m@$staging_version"
      fi
    done
    go mod download
  ) >&2
  touch "$dir/.prepared"
  echo "$dir"
}

build_kube() {
  if have_all "${KUBE_CMDS[@]}"; then log "kubernetes $K8S_VERSION: cached"; return; fi
  local dir
  dir=$(prepare_kube_src)
  local major=${K8S_VERSION#v}; major=${major%%.*}
  local minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
  # Without these the binaries report v0.0.0-master, which breaks helm's
  # kubeVersion checks and kubectl's version skew warnings.
  local ld="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld="$ld -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local c
  # The apiserver and kubectl first: they are all phase 1 needs, and a
  # failure in the node components should not hold them back.
  for c in "kube-apiserver kubectl" "kube-controller-manager kube-scheduler kubelet"; do
    local want=() pkgs=()
    for b in $c; do [ -x "$BIN/$b" ] || { want+=("$b"); pkgs+=("./cmd/$b"); }; done
    [ ${#want[@]} -eq 0 ] && continue
    log "building ${want[*]} from k8s.io/kubernetes@$K8S_VERSION"
    local t0=$SECONDS
    # Plain cgo-free builds, as the release does for the control plane.
    ( cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$BIN/" "${pkgs[@]}" )
    log "built ${want[*]} in $((SECONDS - t0))s"
  done
}

# go.etcd.io/etcd/v3 (the repository root, which holds the etcd command) is
# not on the proxy, and go.etcd.io/etcd/server/v3 has `replace ... => ../api`
# directives, so neither can be `go install`ed. Its etcdmain package is the
# whole command, though: a two-line main in a throwaway module, requiring the
# published server module, is the same binary.
build_etcd() {
  if have_all etcd; then log "etcd $ETCD_VERSION: cached"; return; fi
  log "building etcd $ETCD_VERSION"
  local t0=$SECONDS dir=$SRC/etcd-$ETCD_VERSION
  mkdir -p "$dir"
  cat >"$dir/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (
    cd "$dir"
    [ -f go.mod ] || go mod init rehearse/etcd
    go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go mod tidy
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" .
  ) >&2
  log "built etcd in $((SECONDS - t0))s"
}

build_cni() {
  local plugins=(bridge host-local loopback portmap)
  if have_all "${plugins[@]/#/cni/}"; then log "cni plugins $CNI_VERSION: cached"; return; fi
  log "building CNI plugins $CNI_VERSION"
  local t0=$SECONDS
  mkdir -p "$BIN/cni"
  CGO_ENABLED=0 GOBIN=$BIN/cni go install -trimpath -ldflags "-s -w" \
    "github.com/containernetworking/plugins/plugins/main/bridge@$CNI_VERSION" \
    "github.com/containernetworking/plugins/plugins/ipam/host-local@$CNI_VERSION" \
    "github.com/containernetworking/plugins/plugins/main/loopback@$CNI_VERSION" \
    "github.com/containernetworking/plugins/plugins/meta/portmap@$CNI_VERSION"
  log "built CNI plugins in $((SECONDS - t0))s"
}

[ $# -eq 0 ] && set -- kube etcd cni
for what in "$@"; do
  case $what in
    kube) build_kube ;;
    etcd) build_etcd ;;
    cni) build_cni ;;
    *) log "unknown component $what"; exit 2 ;;
  esac
done
