package publish

import (
	"os"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// A repository of generated variants gets one annotation per finding of
// its templates, not one per variant: 17/bookworm repeats 16/bookworm
// and gets none, and a finding the variants share points at the template.
func TestAnnotationsShowGeneratedVariantsOnce(t *testing.T) {
	res, err := analyzer.New(rules.All()).Analyze(t.Context(), os.DirFS("../../analyzer/testdata/realshapes/postgres-variants"), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	findings := 0
	for _, f := range res.Files {
		findings += len(f.Findings)
	}
	anns := Annotations(res)
	if len(anns) == 0 || len(anns)*2 > findings {
		t.Errorf("%d annotations for %d findings; want the shared ones once", len(anns), findings)
	}
	seen := map[string]bool{}
	pgMajor := false
	for _, a := range anns {
		path, line := a.GetPath(), a.GetStartLine()
		if strings.HasPrefix(path, "17/") {
			t.Errorf("annotation on %s:%d (%s), whose findings all repeat 16/bookworm's", path, line, a.GetTitle())
		}
		key := path + "\x00" + a.GetTitle() + "\x00" + strings.SplitN(a.GetMessage(), ";", 2)[0]
		if seen[key] {
			t.Errorf("annotated twice: %s %s", a.GetTitle(), a.GetMessage())
		}
		seen[key] = true
		if a.GetTitle() == "legacy-key-value-format" && strings.Contains(a.GetMessage(), "PG_MAJOR") && path == "Dockerfile-debian.template" {
			pgMajor = line == 22 && strings.Contains(a.GetMessage(), "the same in 2 files")
		}
	}
	if !pgMajor {
		t.Error("ENV PG_MAJOR of the Debian variants is not annotated once at Dockerfile-debian.template:22")
	}
}
