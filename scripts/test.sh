#!/usr/bin/env bash
# Runs every test of dockopt on this machine, after installing what a fresh
# Debian machine lacks and starting the services the tests talk to:
# PostgreSQL (River's multi-replica queue), a real buildkitd with runc
# (build verification), helm (chart rendering). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"

log() { printf '\n== %s\n' "$*" >&2; }

log "PostgreSQL"
if ! command -v pg_isready >/dev/null || ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if ! ls /etc/postgresql >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test" >/dev/null

log "git"
command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git >/dev/null; }

for script in scripts/install-buildkit.sh scripts/install-helm.sh scripts/install-staticcheck.sh; do
  if [ -f "$script" ]; then
    log "$script"
    bash "$script"
  fi
done

log "go mod tidy"
go mod tidy -diff

log "go vet"
go vet ./...

log "staticcheck"
staticcheck ./...

log "go test"
go test -count=1 -timeout 45m ./... "$@"

# The self-hosting rehearsal: deploy/README.md's docker compose installation
# run from its own commands on a real Docker Engine (scripts/rehearse/).
# About 12 minutes on a fresh machine, 3 once its images are cached;
# DOCKOPT_SKIP_REHEARSAL=1 leaves it out of a quick local run.
if [ "${DOCKOPT_SKIP_REHEARSAL:-0}" != 1 ]; then
  log "self-hosting rehearsal (docker compose)"
  bash scripts/rehearse/compose.sh
fi
