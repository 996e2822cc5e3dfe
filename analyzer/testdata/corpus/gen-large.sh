#!/bin/sh
# gen-large.sh PATH [BYTES]
#
# Writes a syntactically valid Dockerfile of at least BYTES bytes (default
# 5 MiB) to PATH, for benchmarks and for checking that the analyzer's size
# limits and running time hold on very large input. The output is
# deterministic, so two runs produce the same file. It is generated rather
# than committed to keep the repository small.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 PATH [BYTES]" >&2
	exit 2
fi
out=$1
want=${2:-5242880}

# Each block is one build stage of about 1.3 KB mixing the instructions the
# rules look at most: FROM, ARG, ENV, apt-get chains with continuations,
# COPY --from, RUN cache mounts, a heredoc, USER, HEALTHCHECK and CMD.
awk -v want="$want" 'BEGIN {
	print "# syntax=docker/dockerfile:1"
	print "ARG BASE=debian:bookworm-slim"
	size = 60
	for (i = 0; size < want; i++) {
		block = sprintf("FROM ${BASE} AS stage%d\n", i)
		block = block sprintf("ARG VERSION_%d=1.%d.0\n", i, i)
		block = block sprintf("ENV APP_%d=/opt/app%d PATH=/opt/app%d/bin:$PATH\n", i, i, i)
		block = block "RUN apt-get update \\\n"
		block = block "    && apt-get install -y \\\n"
		block = block "        curl \\\n"
		block = block "# a comment inside the continuation\n"
		block = block "        ca-certificates \\\n"
		block = block sprintf("        libexample%d \\\n", i % 97)
		block = block "    && rm -rf /var/lib/apt/lists/*\n"
		if (i > 0) {
			block = block sprintf("COPY --from=stage%d /opt/app%d /opt/prev%d\n", i - 1, i - 1, i)
		}
		block = block sprintf("COPY app%d/ /opt/app%d/\n", i % 13, i)
		block = block "RUN --mount=type=cache,target=/root/.cache \\\n"
		block = block sprintf("    for f in /opt/app%d/*; do echo \"$f\" \"$(basename \"$f\")\"; done | sort > /opt/app%d.list\n", i, i)
		block = block "RUN <<SCRIPT\n"
		block = block "set -eu\n"
		block = block sprintf("echo stage %d > /etc/stage\n", i)
		block = block sprintf("if [ -d /opt/app%d ]; then ls /opt/app%d; fi\n", i, i)
		block = block "SCRIPT\n"
		block = block sprintf("LABEL com.example.stage=\"%d\" com.example.version=\"${VERSION_%d}\"\n", i, i)
		block = block "EXPOSE 8080 9000-9010/udp\n"
		block = block sprintf("USER %d:%d\n", 10000 + i % 1000, 10000 + i % 1000)
		block = block "HEALTHCHECK --interval=30s --timeout=3s CMD [\"curl\", \"-fsS\", \"http://127.0.0.1:8080/healthz\"]\n"
		block = block sprintf("CMD [\"/opt/app%d/bin/server\", \"--port\", \"8080\"]\n\n", i)
		printf "%s", block
		size += length(block)
	}
}' > "$out"
