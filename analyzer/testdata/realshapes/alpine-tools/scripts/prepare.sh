#!/usr/bin/env bash
set -euo pipefail
shopt -s globstar
for f in migrations/**/*.sql; do echo "checking $f"; done
