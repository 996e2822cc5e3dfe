#!/usr/bin/env bash
# Times `dockopt analyze --buildkit` built from a base revision (default
# main, before smoke runs) and from the working tree, on the same test
# daemon (internal/buildkittest's stand-in images), three runs each:
#   - examples/monorepo, as it is;
#   - a repository of stand-in services that build here: the examples'
#     base images need pip, npm and tags the stand-ins do not have, so
#     none of the examples' originals builds and no smoke run happens
#     there.
# Usage: scripts/measure-smoke.sh [BASE_REV]
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-main}
export PATH="$PWD/bin:$PATH"
tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/base"
git archive "$base" | tar -x -C "$tmp/base"
(cd "$tmp/base" && go build -o "$tmp/before" ./cmd/dockopt)
go build -o "$tmp/after" ./cmd/dockopt
go test -c -o "$tmp/buildkittest" ./internal/buildkittest

(cd internal/buildkittest && DOCKOPT_SERVE_BUILDKIT="$tmp/addr" exec "$tmp/buildkittest" -test.run '^TestServe$' -test.timeout 0 >"$tmp/serve.log" 2>&1) &
server=$!
for _ in $(seq 1 120); do [ -s "$tmp/addr" ] && break; sleep 0.5; done
addr=$(cat "$tmp/addr")

repo="$tmp/services"
mkdir -p "$repo"/{web,worker,client,static}
# Changed by a safe fix, starts and is healthy before and after.
cat >"$repo/web/Dockerfile" <<'EOF'
FROM alpine:3.20
RUN apk add curl
RUN mkdir /www && echo ok > /www/index.html
USER nobody
EXPOSE 8080
HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
EOF
# Its first EXPOSE is a database port: a HTTP probe there never passes.
cat >"$repo/worker/Dockerfile" <<'EOF'
FROM alpine:3.20
RUN mkdir /www && echo ok > /www/index.html
EXPOSE 5432 8080
USER nobody
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
EOF
# Needs a database: the original does not start either.
cat >"$repo/client/Dockerfile" <<'EOF'
FROM alpine:3.20
CMD ["sh", "-c", "wget -q -O /dev/null http://192.0.2.10:5432/ || { echo cannot reach the database >&2; exit 1; }; exec sleep 600"]
EOF
# No shell; changed by a safe fix; healthy through an exec-form probe.
cat >"$repo/static/Dockerfile" <<'EOF'
FROM alpine:3.20 AS tools
RUN apk add ca-certificates
FROM scratch
COPY --from=tools /bin/busybox /app/httpd
COPY --from=tools /bin/busybox /app/wget
USER 65534
HEALTHCHECK CMD ["/app/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/httpd"]
ENTRYPOINT ["/app/httpd", "-f", "-p", "8080", "-h", "/app"]
EOF

# Absolute paths: before the smoke-start branch, a relative one broke builds.
for dir in "$PWD/examples/monorepo" "$repo"; do
  for bin in before after; do
    for i in 1 2 3; do
      start=$(date +%s.%N)
      "$tmp/$bin" analyze --buildkit "$addr" --format json "$dir" >"$tmp/out.json" 2>/dev/null || true
      end=$(date +%s.%N)
      built=$(grep -c '"ok": true' "$tmp/out.json" || true)
      awk -v d="${dir##*/}" -v b="$bin" -v i="$i" -v s="$start" -v e="$end" -v n="$built" \
        'BEGIN { printf "%-10s %-6s run %d: %6.1f s (%d images built)\n", d, b, i, e - s, n }'
    done
  done
done
