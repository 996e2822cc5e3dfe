#!/usr/bin/env bash
# Installs bin/helm for deploy/'s tests (helm template of the chart).
# helm is built from its Go module, the only way it reaches this machine; the
# repository's go.mod stays free of helm, which pulls in half of Kubernetes.
# Idempotent: a second run with the same version only checks and returns.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/bin"
version=${HELM_VERSION:-v3.22.0}
stamp="$bin/.helm-version"

if [ -x "$bin/helm" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
	exit 0
fi
mkdir -p "$bin"
# Outside the repository's module, so "go install pkg@version" resolves helm's
# own go.mod and not ours. CGO off: a static binary with no toolchain needs.
(cd "$bin" && CGO_ENABLED=0 GOFLAGS= GOBIN="$bin" go install -trimpath \
	-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$version" \
	"helm.sh/helm/v3/cmd/helm@$version")
echo "$version" >"$stamp"
echo "install-helm: $("$bin/helm" version --short) in $bin"
