#!/usr/bin/env bash
# Installs bin/staticcheck, which scripts/test.sh runs over the whole module.
# It is built from its Go module at a pinned version, so every machine and CI
# run reports the same findings; the repository's go.mod stays free of it.
# Idempotent: a second run with the same version only checks and returns.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/bin"
version=${STATICCHECK_VERSION:-v0.8.2} # staticcheck 2026.2.2
stamp="$bin/.staticcheck-version"

if [ -x "$bin/staticcheck" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
	exit 0
fi
mkdir -p "$bin"
# Outside the repository's module, so "go install pkg@version" resolves
# staticcheck's own go.mod and not ours.
(cd "$bin" && GOFLAGS= GOBIN="$bin" go install -trimpath "honnef.co/go/tools/cmd/staticcheck@$version")
echo "$version" >"$stamp"
echo "install-staticcheck: $("$bin/staticcheck" -version) in $bin"
