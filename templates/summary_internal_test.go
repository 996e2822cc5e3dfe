package templates

import (
	"context"
	"os"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestSummaryWithoutPatchCountsAsTheReport: the figures `dockopt analyze`
// prints without fixing are counted directly, and must be the ones the
// report's view counts: on the examples, and on a repository with
// generated variants (shared findings count once) and a file that does
// not parse.
func TestSummaryWithoutPatchCountsAsTheReport(t *testing.T) {
	files, _ := testfiles.HostileRepo()
	files["broken/Dockerfile"] = "FROM\n"
	repos := map[string]string{
		"monorepo": "../examples/monorepo",
		"clean":    "../examples/clean",
		"hostile":  testfiles.Dir(t, files),
	}
	a := analyzer.New(rules.All())
	for name, dir := range repos {
		res, err := a.Analyze(context.Background(), os.DirFS(dir), ".", nil)
		if err != nil {
			t.Fatal(err)
		}
		in := Input{Result: res, Analyzer: a}
		got := Summary(in)
		tot := buildView(in).Totals
		want := Figures{Dockerfiles: tot.Dockerfiles, Findings: tot.Findings, Resolved: tot.Resolved, Left: tot.Left, New: tot.New, Changed: tot.Changed}
		if got != want {
			t.Errorf("%s: Summary %+v, the report's view %+v", name, got, want)
		}
		if name == "hostile" && (got.Findings == 0 || got.Dockerfiles < 6) {
			t.Errorf("hostile: %+v: the repository is not analyzed as it should be", got)
		}
	}
}
