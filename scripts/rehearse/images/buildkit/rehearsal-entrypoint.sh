#!/bin/sh
# The rehearsal's only departure from the upstream image: base images come
# from the registry the rehearsal serves on the host (port 15000, reached
# through this container's default gateway) instead of the public
# registries, which this machine cannot reach. Then, as upstream:
# rootlesskit buildkitd with the compose file's arguments.
set -eu
gateway=$(ip route show default | awk '{print $3; exit}')
registry="${gateway:?no default route: is the container on a network with egress?}:15000"
{
	printf '[registry."docker.io"]\n  mirrors = ["%s"]\n' "$registry"
	for host in gcr.io ghcr.io quay.io mcr.microsoft.com public.ecr.aws registry.k8s.io cgr.dev; do
		printf '[registry."%s"]\n  mirrors = ["%s/%s"]\n' "$host" "$registry" "$host"
	done
	printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$registry"
} >"$HOME/.config/buildkit/buildkitd.toml"
exec rootlesskit buildkitd "$@"
