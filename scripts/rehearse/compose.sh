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
bash scripts/rehearse/images.sh
DOCKOPT_REHEARSAL=compose go test -count=1 -timeout 20m -v ./deploy/rehearsal -run TestComposeInstallation "$@"
