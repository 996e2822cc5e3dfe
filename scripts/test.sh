#!/usr/bin/env bash
# Runs every test of dockopt on this machine, after installing what a fresh
# Debian machine lacks and starting the services the tests talk to:
# PostgreSQL (River's multi-replica queue), a real buildkitd with runc
# (build verification), helm (chart rendering). Safe to run repeatedly.
#
# What it changes on the machine, and nothing else (README, "Run every test"):
#   - Debian packages, only those missing: postgresql, git, runc, gcc (for the
#     race detector), and for the rehearsal docker.io, chromium, debootstrap.
#   - Tools built from the Go module proxy into ./bin: buildkitd, buildctl,
#     busybox (static, from Debian's busybox-static package, unpacked, not
#     installed), helm, staticcheck, docker-compose, rootlesskit.
#   - Caches under $DOCKOPT_CACHE (default ./.cache): the rehearsal's Debian
#     root filesystem and BuildKit state, and DOCKER_CONFIG (where docker
#     finds the compose plugin; nothing is written to ~/.docker).
#   - Go's own module and build caches (go env GOMODCACHE GOCACHE), as any
#     go command uses them.
# Daemons it starts (PostgreSQL when it was not running, dockerd for the
# rehearsal) are stopped when it exits, even on failure or Ctrl-C; --keep
# leaves them running for the next run. Other arguments go to go test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
export DOCKOPT_CACHE=${DOCKOPT_CACHE:-$PWD/.cache}
export DOCKER_CONFIG=${DOCKER_CONFIG:-$DOCKOPT_CACHE/docker-config}
export DOCKOPT_KEEP=${DOCKOPT_KEEP:-0}
args=()
for a in "$@"; do
  case "$a" in
  --keep) DOCKOPT_KEEP=1 ;;
  *) args+=("$a") ;;
  esac
done
mkdir -p "$DOCKOPT_CACHE/rehearse"
# shellcheck source=scripts/rehearse/stop-daemons.sh
. scripts/rehearse/stop-daemons.sh
trap stop_started_daemons EXIT

log() { printf '\n== %s\n' "$*" >&2; }

# Earlier versions linked the compose plugin into ~/.docker; take back a
# link into this clone, and only that.
old_plugin="$HOME/.docker/cli-plugins/docker-compose"
if [ -L "$old_plugin" ] && [ "$(readlink "$old_plugin")" = "$PWD/bin/docker-compose" ]; then
  rm -f "$old_plugin"
  rmdir "$HOME/.docker/cli-plugins" "$HOME/.docker" 2>/dev/null || true
  log "removed $old_plugin, a link into this clone an earlier run made"
fi

log "PostgreSQL"
if ! command -v pg_isready >/dev/null || ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if ! ls /etc/postgresql >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  cluster="$(ls /etc/postgresql | head -1) main"
  # shellcheck disable=SC2086
  if pg_ctlcluster --skip-systemctl-redirect $cluster start; then
    echo "$cluster" >"$DOCKOPT_CACHE/rehearse/postgresql.pid"
  fi
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
go test -count=1 -timeout 45m ./... ${args[@]+"${args[@]}"}

# The analysis runs files on several workers and lends pooled parsers and
# matchers between them; the race detector sees what sharing one wrongly
# does, which the results alone rarely show. About a minute. The race
# detector needs cgo, so a C compiler. The tests that build on buildkitd
# skip here (they ran above): BuildKit's own Dockerfile frontend, which a
# build runs in the test's process, has a race of its own that -race
# reports (internal/buildkittest, requirements).
log "go test -race (the analysis, the patcher, the pipeline)"
command -v gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc >/dev/null; }
DOCKOPT_TEST_WITHOUT_BUILDKIT=1 CGO_ENABLED=1 go test -race -count=1 -timeout 20m ./analyzer/... ./patcher/... ./internal/pipeline

# The self-hosting rehearsal: deploy/README.md's docker compose installation
# run from its own commands on a real Docker Engine (scripts/rehearse/).
# About 12 minutes on a fresh machine, 3 once its images are cached;
# DOCKOPT_SKIP_REHEARSAL=1 leaves it out of a quick local run.
if [ "${DOCKOPT_SKIP_REHEARSAL:-0}" != 1 ]; then
  log "self-hosting rehearsal (docker compose)"
  bash scripts/rehearse/compose.sh
fi
