#!/usr/bin/env bash
# A Docker Engine and the Compose v2 plugin on a fresh Debian machine, for
# the self-hosting rehearsal: dockerd and containerd from Debian's packages,
# started here when not already running (no systemd in the sandbox), and
# docker compose built from the Go module proxy (Debian's docker-compose is
# the retired Python v1, which lacks what deploy/compose uses). Idempotent.
#
# Nothing goes to the user's home: the compose plugin is built into bin/
# and found through DOCKER_CONFIG, which points into the clone's cache
# (callers export the same value, so docker finds it). A dockerd started
# here writes its pid to $DOCKOPT_CACHE/rehearse/dockerd.pid, so that the
# caller stops it when done (see stop-daemons.sh); one already running is
# used and left alone.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${DOCKOPT_CACHE:-$repo/.cache}
export DOCKER_CONFIG=${DOCKER_CONFIG:-$cache/docker-config}
compose_version=v2.40.3
mkdir -p "$cache/rehearse"

if ! command -v dockerd >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends docker.io >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }
fi
if ! docker info >/dev/null 2>&1; then
	nohup dockerd >"$cache/rehearse/dockerd.log" 2>&1 &
	echo $! >"$cache/rehearse/dockerd.pid"
	for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
	docker info >/dev/null || { tail -20 "$cache/rehearse/dockerd.log" >&2; exit 1; }
fi

plugin="$DOCKER_CONFIG/cli-plugins/docker-compose"
if ! "$plugin" version 2>/dev/null | grep -q "$compose_version"; then
	# "go install …/cmd@version" is refused: compose's go.mod has exclude
	# directives. Build inside the downloaded module instead, with exactly
	# the dependency versions compose released with.
	src=$(cd "$repo" && go mod download -json "github.com/docker/compose/v2@$compose_version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	mkdir -p "$(dirname "$plugin")" "$repo/bin"
	(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath \
		-ldflags "-X github.com/docker/compose/v2/internal.Version=$compose_version" \
		-o "$repo/bin/docker-compose" ./cmd)
	ln -sf "$repo/bin/docker-compose" "$plugin"
fi
docker version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}'
docker compose version
