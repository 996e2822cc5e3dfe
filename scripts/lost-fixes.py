#!/usr/bin/env python3
# Compares two dockopt binaries over the corpus, the realshapes and the
# examples: the findings that had a fix with BEFORE and have none with AFTER,
# grouped by rule and by the precondition ("withheld") AFTER names, the
# findings that gained one, and how many files get a change.
#
# usage (from the repository root): scripts/lost-fixes.py BEFORE AFTER
#   git stash; go build -o /tmp/before ./cmd/dockopt; git stash pop
#   go build -o /tmp/after ./cmd/dockopt; scripts/lost-fixes.py /tmp/before /tmp/after
import json, subprocess, sys, collections
roots = ["analyzer/testdata/corpus", "analyzer/testdata/realshapes", "examples"]
def run(b):
    out = {}
    for r in roots:
        d = json.loads(subprocess.run([b, "analyze", "--format", "json", "--no-fail", r], capture_output=True, text=True).stdout)
        for f in d["files"]:
            for x in f.get("findings", []):
                out[(r, f["path"], x["rule"], x["line"])] = x
    return out
before, after = run(sys.argv[1]), run(sys.argv[2])
lost = collections.Counter(); byrule = collections.Counter(); gained = collections.Counter(); gone = collections.Counter()
for k, x in before.items():
    if not x.get("fix"): continue
    y = after.get(k)
    if y is None: gone[k[2]] += 1; continue
    if not y.get("fix"):
        lost[y.get("withheld") or "(none)"] += 1; byrule[(k[2], y.get("withheld") or "(none)")] += 1
for k, y in after.items():
    if y.get("fix") and not (before.get(k) or {}).get("fix"): gained[k[2]] += 1
print("lost their fix, by precondition:", dict(sorted(lost.items())), "total", sum(lost.values()))
for (r, p), n in sorted(byrule.items()): print(f"  {r:24} {p:10} {n}")
print("finding moved or gone (had a fix):", dict(gone))
print("gained a fix:", dict(gained))
for name, b in (("before", sys.argv[1]), ("after", sys.argv[2])):
    modified = 0
    for r in roots:
        d = json.loads(subprocess.run([b, "analyze", "--format", "json", "--no-fail", r], capture_output=True, text=True).stdout)
        modified += sum(1 for c in d.get("changes") or [] if c.get("action") == "modify")
    print(f"files modified {name}: {modified}")
