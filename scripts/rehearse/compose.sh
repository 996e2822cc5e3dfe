#!/usr/bin/env bash
# Rehearses deploy/README.md's docker compose installation on this machine,
# from the README's own commands: a Docker Engine and Compose
# (docker.sh), the images the compose file names (images.sh: dockopt built
# from ./Dockerfile, stand-ins for postgres and rootless BuildKit, since
# Docker Hub is out of reach), then deploy/rehearsal's test, which registers
# the app against the GitHub double, starts the stack, pushes and waits for
# the pull request. Cleans up its containers and volumes when done.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/rehearse/docker.sh
# A real browser opens dockopt register's page, as the README asks a person
# to: its script and Content-Security-Policy are then exercised too.
command -v chromium >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
bash scripts/rehearse/images.sh
DOCKOPT_REHEARSAL=compose go test -count=1 -timeout 20m -v ./deploy/rehearsal -run TestComposeInstallation "$@"
