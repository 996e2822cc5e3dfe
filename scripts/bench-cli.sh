#!/usr/bin/env bash
# Times the whole `dockopt analyze` process against BuildKit's own checks
# alone (scripts/buildkit-checks: dockerfile2llb's lint with the same
# offline resolver) over the same files, alternately in one run, and prints
# the median wall time, CPU time, peak memory and files per second of each.
#
#   bash scripts/bench-cli.sh [ROUNDS]      # default 5
#   BASE=/tmp/dockopt-main bash scripts/bench-cli.sh 5
#
# With BASE (a dockopt binary built from another commit), that binary is
# timed too, in the same alternation, so a change is measured against its
# base under the same load.
#
# With INSTRUCTIONS=1, each corpus command then runs once more under
# valgrind's callgrind (on one core, GOMAXPROCS=1, with
# GODEBUG=asyncpreemptoff=1: threads that spin while they wait make the
# count of a run on two cores move by a third), and the
# instructions it executed are printed with their ratio to BuildKit's
# checks: a count that moves by 1-3 % between runs (the collector's timing
# follows the clock), where wall and CPU times moved by 2x between days
# here. Needs valgrind.
#
# The corpus is made by scripts/corpus from the repository's test trees
# (every Dockerfile as <n>/Dockerfile with its build context); the examples
# are examples/. `analyze --format text` analyzes; `--format json` also
# patches every file to a fixed point and verifies the result. Needs
# /usr/bin/time (GNU time) for the peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
if [ "${INSTRUCTIONS:-}" = 1 ] && ! command -v valgrind >/dev/null; then
  echo "INSTRUCTIONS=1 needs valgrind (apt-get install valgrind)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dockopt" ./cmd/dockopt
go build -o "$tmp/buildkit-checks" ./scripts/buildkit-checks
go run ./scripts/corpus "$tmp/corpus" >/dev/null
mkdir "$tmp/runs"
base_bin=${BASE:-}

# measure NAME CMD…: one timed run, appended to $tmp/runs/NAME as
# "wall_s peak_kib cpu_s"; the exit status of CMD is ignored (findings
# make dockopt exit 1).
measure() {
  local name=$1
  shift
  /usr/bin/time -o "$tmp/one" -f "%e %M %U %S" "$@" >/dev/null 2>&1 || true
  # GNU time writes "Command exited with non-zero status N" first.
  tail -n 1 "$tmp/one" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' >>"$tmp/runs/$name"
}

# med NAME COLUMN: the median of one column of NAME's runs.
med() { cut -d' ' -f"$2" "$tmp/runs/$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# paired NAME PEER COLUMN: the median over rounds of NAME's value in
# COLUMN over PEER's in the same round. The machine's speed drifts within
# a run; a round's two runs are seconds apart, so their ratio drifts less
# than the ratio of two medians taken over the whole run.
paired() {
  paste -d' ' "$tmp/runs/$1" "$tmp/runs/$2" |
    awk -v c="$3" '{ n = split($0, f, " "); d = f[n / 2 + c]; if (d > 0) print f[c] / d }' |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) printf "n/a"; else printf "%.2f", v[int((NR + 1) / 2)] }'
}

# report NAME FILES [PEER]: NAME's medians; with PEER, its wall time over
# PEER's median, and the paired wall and CPU ratios (see paired).
report() {
  local name=$1 files=$2 peer=${3:-} base="" pw="" pc=""
  if [ -n "$peer" ]; then
    base=$(med "$peer" 1)
    pw=$(paired "$name" "$peer" 1)
    pc=$(paired "$name" "$peer" 3)
  fi
  awk -v n="$name" -v f="$files" -v w="$(med "$name" 1)" -v m="$(med "$name" 2)" -v c="$(med "$name" 3)" -v base="$base" -v pw="$pw" -v pc="$pc" 'BEGIN {
    line = sprintf("%-18s %6.2f s  %5.2f s CPU  %5.1f MiB peak  %6.0f files/s", n, w, c, m / 1024, f / (w > 0 ? w : 0.01))
    if (base != "") line = line sprintf("  %.2fx  paired %s wall, %s CPU", w / (base > 0 ? base : 0.01), pw, pc)
    print line
  }'
}

corpus_files=$(find "$tmp/corpus" -name Dockerfile | wc -l)
example_files=$(find examples -name 'Dockerfile*' | wc -l)
echo "corpus: $corpus_files Dockerfiles; examples: $example_files; $rounds rounds, alternating; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for _ in $(seq "$rounds"); do
  measure buildkit-checks "$tmp/buildkit-checks" "$tmp/corpus"
  measure analyze-text "$tmp/dockopt" analyze --format text "$tmp/corpus"
  measure analyze-json "$tmp/dockopt" analyze --format json "$tmp/corpus"
  if [ -n "$base_bin" ]; then
    measure base-text "$base_bin" analyze --format text "$tmp/corpus"
    measure base-json "$base_bin" analyze --format json "$tmp/corpus"
  fi
  measure examples-buildkit "$tmp/buildkit-checks" examples
  measure examples-text "$tmp/dockopt" analyze --format text examples
  measure examples-json "$tmp/dockopt" analyze --format json examples
done
echo "median of $rounds (wall, CPU = user + system, peak resident memory, files per wall second, x BuildKit's checks: median over median, and paired: the median of each round's ratio)"
report buildkit-checks "$corpus_files"
report analyze-text "$corpus_files" buildkit-checks
report analyze-json "$corpus_files" buildkit-checks
if [ -n "$base_bin" ]; then
  report base-text "$corpus_files" buildkit-checks
  report base-json "$corpus_files" buildkit-checks
fi
report examples-buildkit "$example_files"
report examples-text "$example_files" examples-buildkit
report examples-json "$example_files" examples-buildkit
if [ "${INSTRUCTIONS:-}" = 1 ]; then
  # instructions NAME CMD…: the instructions one run of CMD executed.
  instructions() {
    local name=$1
    shift
    # cpu.rdtscp=off: Go reads the clock with RDTSCP where the CPU has
    # it, valgrind 3.19 does not know that instruction, and the run dies
    # of SIGILL at start-up, having counted a few million instructions.
    GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$tmp/$name.callgrind" "$@" >/dev/null 2>"$tmp/$name.valgrind" || true
    if grep -qE 'Unrecognised instruction|SIGILL|Process terminating' "$tmp/$name.valgrind"; then
      echo "the run of $name under callgrind died, so its count means nothing:" >&2
      grep -m 3 -E 'Unrecognised instruction|SIGILL|Process terminating' "$tmp/$name.valgrind" >&2
      exit 1
    fi
    if ! grep -oE 'Collected : [0-9]+' "$tmp/$name.valgrind" | awk '{ print $3 }'; then
      echo "callgrind counted nothing for $name:" >&2
      tail -n 5 "$tmp/$name.valgrind" >&2
      exit 1
    fi
  }
  echo "instructions executed, one run each under callgrind on one core (x BuildKit's checks)"
  peer=$(instructions buildkit-checks "$tmp/buildkit-checks" "$tmp/corpus")
  printf '%-18s %14d\n' buildkit-checks "$peer"
  for format in text json; do
    n=$(instructions "analyze-$format" "$tmp/dockopt" analyze --format "$format" "$tmp/corpus")
    printf '%-18s %14d  %.2fx\n' "analyze-$format" "$n" "$(awk -v n="$n" -v p="$peer" 'BEGIN { print n / p }')"
    if [ -n "$base_bin" ]; then
      n=$(instructions "base-$format" "$base_bin" analyze --format "$format" "$tmp/corpus")
      printf '%-18s %14d  %.2fx\n' "base-$format" "$n" "$(awk -v n="$n" -v p="$peer" 'BEGIN { print n / p }')"
    fi
  done
fi
