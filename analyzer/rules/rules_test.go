package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/ruletest"
)

// TestCatalog holds every rule to the contract of DESIGN.md: unique IDs,
// docs, category, severity, and at least one case that must fire and one
// that must not.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if seen[r.ID] {
			t.Errorf("duplicate rule ID %s", r.ID)
		}
		seen[r.ID] = true
		if r.Bad == "" || r.Good == "" {
			t.Errorf("rule %s: Bad and Good examples are required for the docs", r.ID)
		}
	}
	for _, r := range All() {
		for _, id := range r.Supersedes {
			if !seen[id] || id == r.ID {
				t.Errorf("rule %s supersedes %q, which is not another rule", r.ID, id)
			}
		}
	}
}

func TestRules(t *testing.T) {
	a := analyzer.New(All())
	for _, r := range All() {
		t.Run(r.ID, func(t *testing.T) {
			cases := ruletest.Cases(t, "testdata", r.ID)
			if len(cases) == 0 {
				t.Fatalf("no cases in testdata/%s", r.ID)
			}
			pos, neg := 0, 0
			for _, c := range cases {
				if ruletest.Check(t, a, r, c) {
					pos++
				} else {
					neg++
				}
			}
			if pos == 0 || neg == 0 {
				t.Errorf("rule %s needs at least one case that fires and one that does not (have %d and %d)", r.ID, pos, neg)
			}
		})
	}
}

// TestNoOrphanCases catches cases left behind by a renamed rule.
func TestNoOrphanCases(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range All() {
		ids[r.ID] = true
	}
	for _, e := range entries {
		if e.IsDir() && !ids[e.Name()] && !strings.HasPrefix(e.Name(), "_") {
			t.Errorf("testdata/%s names no rule", filepath.Base(e.Name()))
		}
	}
}
