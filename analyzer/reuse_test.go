package analyzer_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// A PerInstruction rule that fails on a changed instruction is run whole
// again: what it reports before it fails must not depend on reuse.
func TestReuseRuleThatFailsOnAChangedInstruction(t *testing.T) {
	r := &analyzer.Rule{
		ID: "fails-on-boom", Category: analyzer.CategoryReliability, Severity: analyzer.SeverityWarning,
		Title: "t", Reads: []string{"RUN"}, PerInstruction: true,
		Check: func(p *analyzer.Pass) {
			for in := range p.Each("RUN") {
				if strings.Contains(in.Text(p.File.Source), "boom") {
					panic("boom")
				}
				p.Report(in, "a RUN", nil)
			}
		},
	}
	c, err := analyzer.New([]*analyzer.Rule{r}).Configure(nil)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := c.AnalyzeSource(t.Context(), "Dockerfile", []byte("FROM scratch\nRUN a\nRUN b\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	variant := []byte("FROM scratch\nRUN a\nRUN boom\n")
	got, err := c.AnalyzeCandidate(t.Context(), "Dockerfile", variant, nil, prev)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Rechecking(analyzer.RecheckAll, nil).AnalyzeCandidate(t.Context(), "Dockerfile", variant, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got.Findings)
	w, _ := json.Marshal(want.Findings)
	if string(g) != string(w) || len(got.Findings) != 2 {
		t.Errorf("with reuse %s\nwhole      %s", g, w)
	}
}
