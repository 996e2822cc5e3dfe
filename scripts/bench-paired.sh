#!/usr/bin/env bash
# Compares two commands, run alternately, timed by `perf stat` to the
# microsecond (GNU time, which bench-cli.sh uses for peak memory, rounds
# to 10 ms: coarser than most single changes, and than the difference
# between dockopt and BuildKit's checks).
#
#   bash scripts/bench-paired.sh ROUNDS 'OLD COMMAND' 'NEW COMMAND'
#   bash scripts/bench-paired.sh 21 '/tmp/dockopt-base analyze --format json /tmp/corpus' \
#       '/tmp/dockopt analyze --format json /tmp/corpus'
#   bash scripts/bench-paired.sh 21 '/tmp/buildkit-checks /tmp/corpus' \
#       '/tmp/dockopt analyze --format text /tmp/corpus'
#
# Each command is split into words at spaces. Each round runs OLD then NEW,
# or NEW then OLD on odd rounds, so neither always runs on caches the other
# warmed. It prints the medians of each one's task-clock (CPU time) and
# wall time, and the median over rounds of NEW's time over OLD's in the
# same round ("paired"), which drifts less than a ratio of medians when the
# machine's speed changes within a run. Exit statuses are ignored
# (findings make dockopt exit 1). Needs perf (linux-perf).
set -euo pipefail
rounds=$1
read -r -a old <<<"$2"
read -r -a new <<<"$3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one CMD…: "cpu_ms wall_ms" of one run, both as perf measured them
# around the command alone (not perf's own start).
one() {
  LC_ALL=C perf stat -e task-clock -o "$tmp/stat" "$@" >/dev/null 2>&1 || true
  awk '/task-clock/ { cpu = $1 } /seconds time elapsed/ { wall = $1 * 1000 } END { printf "%s %.3f\n", cpu, wall }' "$tmp/stat"
}

for ((i = 0; i < rounds; i++)); do
  if ((i % 2 == 0)); then
    o=$(one "${old[@]}")
    n=$(one "${new[@]}")
  else
    n=$(one "${new[@]}")
    o=$(one "${old[@]}")
  fi
  echo "$o $n" >>"$tmp/rounds"
done

awk '
function median(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{ oc[NR] = $1; ow[NR] = $2; nc[NR] = $3; nw[NR] = $4; rc[NR] = $3 / $1; rw[NR] = $4 / $2 }
END {
  printf "rounds %d\n", NR
  printf "old: cpu %.1f ms, wall %.1f ms (medians)\n", median(oc, NR), median(ow, NR)
  printf "new: cpu %.1f ms, wall %.1f ms (medians)\n", median(nc, NR), median(nw, NR)
  printf "new/old paired: cpu %.4f, wall %.4f\n", median(rc, NR), median(rw, NR)
}' "$tmp/rounds"
