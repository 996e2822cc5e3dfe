package patcher_test

import (
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
)

// The patch is the same whether a candidate's analysis takes findings over
// from the version before or runs every rule. Once, the fix of a RUN
// before a SHELL moved its findings onto the same RUN after it, and the
// patch added -y to a PowerShell command.
func TestPatchIsTheSameWithReuse(t *testing.T) {
	for _, src := range []string{
		"FROM debian:12\nRUN apt-get install curl\nSHELL [\"/usr/bin/pwsh\", \"-c\"]\nRUN apt-get install curl\n",
		"FROM debian:12\r\nRUN apt-get install curl\r\nENV A=1 B=$A\r\nRUN pip install flask\r\n",
		"FROM python:3.12\nRUN pip install flask\nRUN apt-get update && apt-get install curl\nONBUILD RUN pip install requests\n",
	} {
		a := analyzer.New(rules.All())
		fr, err := a.AnalyzeSource(t.Context(), "Dockerfile", []byte(src), nil, nil)
		if err != nil || fr.Error != "" {
			t.Fatalf("analysis: %v %s", err, fr.Error)
		}
		patch := func(mode analyzer.Recheck) *patcher.File {
			f, err := patcher.PatchFile(t.Context(), a, fr, nil, patcher.Options{Recheck: mode})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		with, without := patch(analyzer.RecheckChanged), patch(analyzer.RecheckAll)
		if len(without.Applied) == 0 {
			t.Errorf("no fix applied to\n%s", src)
		}
		if string(with.Patched) != string(without.Patched) || len(with.After.Findings) != len(without.After.Findings) {
			t.Errorf("with reuse:\n%s\nrunning every rule:\n%s", with.Patched, without.Patched)
		}
	}
}
