package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// The fix's explanation says what the exec form changes for the
// instruction: docker run arguments replace a CMD in either form, so they
// "now reach the program" only for an ENTRYPOINT (a CMD python3 run.py
// was explained that way, corpus 002, 011, 021, 023, 039, 056, 059, 073,
// 076, 087).
func TestExecFormFixSaysWhatChanges(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		want, notWant    []string
	}{{
		name:       "CMD",
		dockerfile: "FROM ubuntu:22.04\nWORKDIR /app\nCOPY . .\nCMD python3 run.py\n",
		want:       []string{"signals now reach the program", "docker run arguments still replace the command"},
		notWant:    []string{"docker run arguments now reach"},
	}, {
		name:       "ENTRYPOINT",
		dockerfile: "FROM ubuntu:22.04\nWORKDIR /app\nCOPY . .\nENTRYPOINT python3 run.py\n",
		want:       []string{"signals and docker run arguments now reach the program"},
		notWant:    []string{"still replace", "base image ENTRYPOINT"},
	}}
	a := analyzer.New(rules.All())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte(tt.dockerfile)}, "run.py": &fstest.MapFile{Data: []byte("print(1)\n")}}
			fr, err := a.AnalyzeSource(t.Context(), "Dockerfile", []byte(tt.dockerfile), analyzer.ContextFor(fsys, "Dockerfile", "."), nil)
			if err != nil || fr.Error != "" {
				t.Fatal(err, fr.Error)
			}
			msg := ""
			for _, f := range fr.Findings {
				if f.Rule == rules.ExecFormCmd.ID && f.Fix != nil {
					msg = f.Fix.Message
				}
			}
			if msg == "" {
				t.Fatal("no exec-form-cmd fix")
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("fix message %q lacks %q", msg, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("fix message %q says %q", msg, w)
				}
			}
		})
	}
}
