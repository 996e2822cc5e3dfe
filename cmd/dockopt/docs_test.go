package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

var update = flag.Bool("update", false, "rewrite generated files and goldens")

const docsDir = "../../docs/rules"

// ruleIndex renders docs/rules/README.md, the catalog table.
func ruleIndex(all []*analyzer.Rule) string {
	var b strings.Builder
	b.WriteString("# dockopt rules\n\nGenerated from the rule values in `analyzer/rules` by `go test ./cmd/dockopt -run TestRuleDocs -update`; do not edit.\n\n")
	fmt.Fprintf(&b, "%d rules, %d with a fix.\n\n", len(all), countFixable(all))
	b.WriteString("| rule | category | severity | fix | equivalents |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range all {
		fix := "—"
		if r.Fix != "" {
			fix = string(r.Fix)
		}
		fmt.Fprintf(&b, "| [%s](%s.md) | %s | %s | %s | %s |\n", r.ID, r.ID, r.Category, r.Severity, fix, strings.Join(r.Equivalents, ", "))
	}
	return b.String()
}

func countFixable(all []*analyzer.Rule) int {
	n := 0
	for _, r := range all {
		if r.Fix != "" {
			n++
		}
	}
	return n
}

// TestRuleDocs keeps docs/rules current with the rule values, the way
// BuildKit generates its rule docs from ruleset.go.
func TestRuleDocs(t *testing.T) {
	all := rules.All()
	want := map[string]string{"README.md": ruleIndex(all)}
	for _, r := range all {
		want[r.ID+".md"] = RuleDoc(r)
	}
	if *update {
		os.RemoveAll(docsDir)
		if err := os.MkdirAll(docsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range want {
			if err := os.WriteFile(filepath.Join(docsDir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	entries, _ := os.ReadDir(docsDir)
	for _, e := range entries {
		if _, ok := want[e.Name()]; !ok {
			t.Errorf("docs/rules/%s documents no rule; run go test ./cmd/dockopt -run TestRuleDocs -update", e.Name())
		}
	}
	for name, content := range want {
		got, err := os.ReadFile(filepath.Join(docsDir, name))
		if err != nil || string(got) != content {
			t.Errorf("docs/rules/%s is out of date; run go test ./cmd/dockopt -run TestRuleDocs -update", name)
		}
	}
}

// TestFixCoverage: at least half of the catalog carries a fix.
func TestFixCoverage(t *testing.T) {
	all := rules.All()
	if n := countFixable(all); n*2 < len(all) {
		t.Errorf("%d of %d rules carry a fix; at least half must", n, len(all))
	}
}
