#!/usr/bin/env bash
# Times the whole `dockopt analyze` process over 400 Dockerfiles (the corpus,
# copied until there are 400), in text (analysis) and JSON (analysis, patch
# and static verification of every fix) form.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dockopt" ./cmd/dockopt
n=0
for round in 1 2 3; do
  for d in analyzer/testdata/corpus/[0-9]*; do
    n=$((n + 1))
    [ "$n" -gt 400 ] && break 2
    cp -r "$d" "$tmp/repo-$round-$(basename "$d")"
  done
done
mkdir -p "$tmp/repo" && mv "$tmp"/repo-* "$tmp/repo/"
echo "$(find "$tmp/repo" -name Dockerfile | wc -l) Dockerfiles"
for format in text json; do
  for i in 1 2 3; do
    start=$(date +%s.%N)
    "$tmp/dockopt" analyze --format "$format" "$tmp/repo" > /dev/null || true
    end=$(date +%s.%N)
    awk -v f="$format" -v i="$i" -v s="$start" -v e="$end" 'BEGIN { printf "%s run %d: %.2f s\n", f, i, e - s }'
  done
done
