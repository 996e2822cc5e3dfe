package rules

import (
	"path/filepath"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/ruletest"
)

// runCaseFixFiles runs one rule on one txtar case and returns the files
// its fixes generate, by path.
func runCaseFixFiles(t *testing.T, r *analyzer.Rule, file string) map[string]string {
	t.Helper()
	a := analyzer.New(All())
	for _, c := range ruletest.Cases(t, filepath.Dir(filepath.Dir(file)), filepath.Base(filepath.Dir(file))) {
		if c.Path != file {
			continue
		}
		out := map[string]string{}
		for _, f := range ruletest.Run(t, a, r, c).Findings {
			if f.Fix == nil {
				continue
			}
			for _, g := range f.Fix.Files {
				out[g.Path] = g.Content
			}
		}
		return out
	}
	t.Fatalf("no case %s", file)
	return nil
}
