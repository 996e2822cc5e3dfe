#!/usr/bin/env bash
# Measures what issue #11's trust work changed, on the example repositories
# and the benchmark corpora, between a base dockopt and the working tree:
#   - files modified (JSON "changes" with action modify) and created;
#   - findings that had a fix before and none after, by rule, with the
#     precondition the JSON names ("withheld"), and all withheld findings
#     after, by precondition;
#   - structural rewrites applied and withheld (from the Markdown report);
#   - the time `dockopt analyze` takes, text and JSON, the two binaries
#     alternating, median of RUNS runs.
# Usage: scripts/trust-measure.sh [BASE] [DIR…]
#   BASE is a dockopt binary or a git revision to build one from (default
#   /work/notes/dockopt-base if it exists, else main). DIRs default to
#   examples, the corpus's numbered cases, the corpus's hostile files
#   (analyzer/testdata/corpus/bad) and analyzer/testdata/realshapes.
#   RUNS (default 5) sets the timing runs, BAD_RUNS (default 1) those of
#   the hostile files, which a slow binary can take minutes over; 0 skips.
#   MEM_KB (default 4 GiB) bounds each run's address space: the base binary
#   of this round grows past 20 GB on the hostile files, and a global
#   out-of-memory kill takes other processes of the machine with it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "trust-measure: needs jq" >&2; exit 2; }
base=${1:-}
[ $# -gt 0 ] && shift
if [ -z "$base" ]; then
  base=main
  [ -x /work/notes/dockopt-base ] && base=/work/notes/dockopt-base
fi
runs=${RUNS:-5}
bad_runs=${BAD_RUNS:-1}
mem_kb=${MEM_KB:-4194304}
# limited runs a command with its address space bounded.
limited() { (ulimit -v "$mem_kb" && exec "$@"); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
  # The numbered cases as one repository, as bench-cli.sh times them.
  mkdir -p "$tmp/corpus"
  cp -r analyzer/testdata/corpus/[0-9]* "$tmp/corpus/"
  dirs=(examples "$tmp/corpus" analyzer/testdata/corpus/bad analyzer/testdata/realshapes)
fi
# label names a directory in the output.
label() { case $1 in "$tmp/corpus") echo "analyzer/testdata/corpus (numbered cases)" ;; *) echo "$1" ;; esac; }
if [ -x "$base" ] && [ -f "$base" ]; then
  cp "$base" "$tmp/before"
else
  mkdir -p "$tmp/src"
  git archive "$base" | tar -x -C "$tmp/src"
  (cd "$tmp/src" && go build -o "$tmp/before" ./cmd/dockopt)
fi
go build -o "$tmp/after" ./cmd/dockopt
echo "# dockopt trust measurement"
echo
echo "before: $base; after: the working tree at $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"

# analyze runs one binary; exit status 1 only means findings. A binary
# that fails (a hostile input can get one killed) leaves $out.failed.
analyze() {
  local rc=0 start
  start=$(date +%s)
  limited "$@" >"$out" 2>"$out.err" || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "exit $rc after $(($(date +%s) - start)) s" >"$out.failed"
    echo "trust-measure: $* exited $rc: $(head -c 300 "$out.err")" >&2
  fi
}

# median reads numbers, one a line.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for dir in "${dirs[@]}"; do
  name=$(label "$dir" | tr -c 'a-z0-9\n' _)
  for v in before after; do
    out="$tmp/$name.$v.json" analyze "$tmp/$v" analyze --format json "$dir"
    out="$tmp/$name.$v.md" analyze "$tmp/$v" analyze --format markdown "$dir"
  done
  b="$tmp/$name.before.json" a="$tmp/$name.after.json"
  echo
  echo "## $(label "$dir")"
  echo
  failed=
  for v in before after; do
    for f in "$tmp/$name.$v".*.failed; do
      [ -e "$f" ] && failed="$failed $v: $(basename "$f" .failed | sed 's/.*\.//') $(cat "$f");"
    done
  done
  if [ -n "$failed" ]; then
    echo "Not compared: dockopt failed ($failed)"
    continue
  fi
  echo "| | before | after |"
  echo "| --- | --- | --- |"
  for q in '.files | length' \
    '[.changes[] | select(.action == "modify")] | length' \
    '[.changes[] | select(.action == "create")] | length' \
    '[.files[].findings[]] | length' \
    '[.files[].findings[] | select(.fix)] | length' \
    '[.files[].findings[] | select(.withheld)] | length'; do
    what=$(case $q in
      '.files | length') echo "Dockerfiles" ;;
      *modify*) echo "files modified" ;;
      *create*) echo "files created" ;;
      *'select(.fix)'*) echo "findings with a fix" ;;
      *withheld*) echo "findings withheld (no fix, precondition named)" ;;
      *) echo "findings" ;;
    esac)
    echo "| $what | $(jq "$q" "$b") | $(jq "$q" "$a") |"
  done
  count() { grep -c "$1" "$2" || true; }
  echo "| structural rewrites applied | $(count '(`rewrite:' "$tmp/$name.before.md") | $(count '(`rewrite:' "$tmp/$name.after.md") |"
  echo "| structural rewrites not applied | $(count '^- `rewrite:' "$tmp/$name.before.md") | $(count '^- `rewrite:' "$tmp/$name.after.md") |"

  echo
  echo "Findings withheld after, by precondition:"
  echo
  jq -r '[.files[].findings[] | select(.withheld) | .withheld] | group_by(.) | map("- \(.[0]): \(length)") | if length == 0 then ["- none"] else . end | .[]' "$a"
  echo
  echo "Findings that had a fix before and none after, by rule (precondition after; \"gone\": no such finding after):"
  echo
  jq -rn --slurpfile b "$b" --slurpfile a "$a" '
    def key: "\(.path)\u0000\(.rule)\u0000\(.line)";
    ($a[0].files | map(.path as $p | .findings[] | .path = $p) | map({key: key, value: .}) | from_entries) as $after
    | [$b[0].files[] | .path as $p | .findings[] | .path = $p | select(.fix)
       | ($after[key]) as $x
       | if $x == null then {rule, why: "gone"}
         elif $x.fix then empty
         else {rule, why: ($x.withheld // "no precondition named")} end]
    | group_by(.rule + " " + .why) | map("- \(.[0].rule) (\(.[0].why)): \(length)") | if length == 0 then ["- none"] else . end | .[]'
  echo
  echo "Rewrites not applied after, with the reason:"
  echo
  grep '^- `rewrite:' "$tmp/$name.after.md" || echo "- none"
done

[ "$runs" -gt 0 ] || [ "$bad_runs" -gt 0 ] || exit 0
echo
echo "## Time of \`dockopt analyze\` (median of the runs, binaries alternating), seconds"
echo
echo "| directory | format | runs | before | after |"
echo "| --- | --- | --- | --- | --- |"
for dir in "${dirs[@]}"; do
  n=$runs
  case $dir in */bad) n=$bad_runs ;; esac
  [ "$n" -gt 0 ] || continue
  for format in text json; do
    rm -f "$tmp"/t.*
    for _ in $(seq 1 "$n"); do
      for v in before after; do
        start=$(date +%s.%N)
        rc=0
        limited "$tmp/$v" analyze --format "$format" "$dir" >/dev/null 2>&1 || rc=$?
        end=$(date +%s.%N)
        awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", e - s }' >>"$tmp/t.$v"
        [ "$rc" -le 1 ] || echo "$rc" >>"$tmp/t.$v.failed"
      done
    done
    cell() { echo "$(median <"$tmp/t.$1")$([ -e "$tmp/t.$1.failed" ] && echo " (failed: exit $(sort -u "$tmp/t.$1.failed" | tr '\n' ' ' | sed 's/ $//'))")"; }
    echo "| $(label "$dir") | $format | $n | $(cell before) | $(cell after) |"
  done
done
