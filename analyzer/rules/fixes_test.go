package rules

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// A long comment block right above an overridden CMD goes with it, in one
// walk up the file, and the parser directive at the top stays.
func TestDeleteInstructionWithLongComment(t *testing.T) {
	const n = 60000
	src := "# syntax=docker/dockerfile:1\nFROM alpine:3.20\n" + strings.Repeat("# old start\n", n) + "CMD [\"a\"]\n\nCMD [\"b\"]\n"
	a := analyzer.New(All())
	fr, err := a.AnalyzeSource(t.Context(), "Dockerfile", []byte(src), nil, nil)
	if err != nil || fr.Error != "" {
		t.Fatalf("analysis: %v %s", err, fr.Error)
	}
	for _, f := range fr.Findings {
		if f.Rule != OverriddenInstruction.ID || f.Fix == nil {
			continue
		}
		out, _, err := analyzer.ApplyFixes([]byte(src), []analyzer.Finding{f})
		if err != nil {
			t.Fatal(err)
		}
		if want := "# syntax=docker/dockerfile:1\nFROM alpine:3.20\n\nCMD [\"b\"]\n"; string(out) != want {
			t.Errorf("fixed file starts %q", string(out[:min(len(out), 120)]))
		}
		return
	}
	t.Fatal("no overridden-instruction fix")
}
