#!/usr/bin/env bash
# Rehearses deploy/README.md's docker compose installation on this machine,
# from the README's own commands: a Docker Engine and Compose
# (docker.sh), the images the compose file names (images.sh: dockopt built
# from ./Dockerfile, stand-ins for postgres and rootless BuildKit, since
# Docker Hub is out of reach), then deploy/rehearsal's test, which registers
# the app against the GitHub double, starts the stack, pushes and waits for
# the pull request. Cleans up its containers and volumes when done.
#
# It stops the dockerd it started (if one was not running already) when it
# exits, unless DOCKOPT_KEEP=1; the compose plugin is found through
# DOCKER_CONFIG in the cache, never in ~/.docker.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOCKOPT_CACHE=${DOCKOPT_CACHE:-$PWD/.cache}
export DOCKER_CONFIG=${DOCKER_CONFIG:-$DOCKOPT_CACHE/docker-config}
# shellcheck source=scripts/rehearse/stop-daemons.sh
. scripts/rehearse/stop-daemons.sh
trap stop_started_daemons EXIT
bash scripts/rehearse/docker.sh
# A real browser opens dockopt-app register's page, as the README asks a person
# to: its script and Content-Security-Policy are then exercised too.
command -v chromium >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
bash scripts/rehearse/images.sh
DOCKOPT_REHEARSAL=compose go test -count=1 -timeout 20m -v ./deploy/rehearsal -run TestComposeInstallation "$@"
