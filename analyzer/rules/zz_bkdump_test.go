package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

func TestZZDump(t *testing.T) {
	src, err := os.ReadFile(os.Getenv("BKDUMP"))
	if err != nil {
		t.Skip()
	}
	ws, err := analyzer.BuildKitLint(src)
	for _, w := range ws {
		t.Logf("%d-%d %s: %s", w.StartLine, w.EndLine, w.Rule, w.Message)
	}
	t.Logf("err=%v", err)
}

func TestZZAnalyze(t *testing.T) {
	src, err := os.ReadFile(os.Getenv("BKDUMP"))
	if err != nil {
		t.Skip()
	}
	fr := analyzer.New(All()).AnalyzeSource("Dockerfile", src, nil, nil)
	t.Logf("err=%s", fr.Error)
	for _, f := range fr.Findings {
		t.Logf("%d %s %s", f.Line, f.Rule, f.Message)
	}
}

func TestZZCorpus(t *testing.T) {
	if os.Getenv("BKCORPUS") == "" {
		t.Skip()
	}
	a := analyzer.New(All())
	mine := map[string]bool{}
	for _, r := range buildkitRules {
		mine[r.ID] = true
	}
	files, _ := filepath.Glob("../testdata/corpus/*/Dockerfile")
	for _, f := range files {
		src, _ := os.ReadFile(f)
		fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: src}}
		fr := a.AnalyzeSource("Dockerfile", src, analyzer.ContextFor(fsys, "Dockerfile", "."), nil)
		for _, x := range fr.Findings {
			if mine[x.Rule] {
				fix := ""
				if x.Fix != nil {
					for _, e := range x.Fix.Edits {
						fix += fmt.Sprintf(" {%q -> %q}", src[e.Start:e.End], e.New)
					}
				}
				t.Logf("%s:%d %s: %s%s", filepath.Base(filepath.Dir(f)), x.Line, x.Rule, x.Message, fix)
			}
		}
	}
}
