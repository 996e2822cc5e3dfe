package patcher_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/buildkittest"
	"github.com/dockopt/dockopt/internal/testfiles"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/patcher/build"
)

// breaksBuild is a test fixture: a rule whose review fix makes the image
// unbuildable, standing in for a fix that is wrong for one repository.
var breaksBuild = &analyzer.Rule{
	ID: "test-breaks-build", Category: analyzer.CategoryReliability, Severity: analyzer.SeverityWarning,
	Title: "Test rule", Rationale: "A fixture whose fix fails at build time, to prove such fixes are dropped.",
	Fix: analyzer.Review,
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		for _, in := range final.Instructions {
			if in.Keyword == "CMD" {
				return
			}
		}
		end := len(p.File.Source)
		p.Report(final.From, "needs a CMD", &analyzer.Fix{Message: "add a CMD after a failing step",
			Edits: []analyzer.TextEdit{{Start: end, End: end, New: "RUN exit 3\nCMD [\"sh\"]\n"}}})
	},
}

// patchRepo writes files to a new repository, analyzes it with rs and
// patches it with review fixes, as `dockopt analyze` does by default.
func patchRepo(t *testing.T, files map[string]string, rs []*analyzer.Rule) (string, *analyzer.Analyzer, *patcher.Result, patcher.Options) {
	t.Helper()
	dir := testfiles.Dir(t, files)
	a := analyzer.New(rs)
	fsys := os.DirFS(dir)
	res, err := a.Analyze(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := patcher.Options{Apply: analyzer.Review}
	pr, err := patcher.Patch(t.Context(), a, fsys, res, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return dir, a, pr, opts
}

// TestBuildVerification builds original and optimized images on a real
// buildkitd: sizes are measured, a fix that breaks the build is dropped
// and recorded, and what remains builds.
func TestBuildVerification(t *testing.T) {
	env := buildkittest.Start(t)
	dir, a, pr, opts := patchRepo(t, map[string]string{
		"app/Dockerfile": "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nRUN echo hello > /hello\n",
	}, append(rules.All(), breaksBuild))
	if len(pr.Files) != 1 || !strings.Contains(string(pr.Files[0].Patched), "RUN exit 3") {
		t.Fatalf("the fixture's fix should be in the static patch:\n%s", pr.Files[0].Patched)
	}
	b := &build.Builder{Addr: env.Addr}
	reports := patcher.VerifyBuilds(context.Background(), b, dir, a, pr, nil, opts)
	if len(reports) != 1 {
		t.Fatalf("got %d build reports", len(reports))
	}
	rep := reports[0]
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	if !rep.Original.OK || rep.Original.CompressedSize <= 0 {
		t.Fatalf("original build: %+v", rep.Original)
	}
	if !rep.Optimized.OK || rep.Optimized.CompressedSize <= 0 {
		t.Fatalf("optimized build after narrowing: %+v (retried: %s)", rep.Optimized, rep.Retried)
	}
	f := pr.Files[0]
	if strings.Contains(string(f.Patched), "exit 3") {
		t.Errorf("the breaking fix is still proposed:\n%s", f.Patched)
	}
	dropped := false
	for _, d := range f.Dropped {
		if d.Rule == "test-breaks-build" && d.Reason == patcher.ReasonBuildFailure {
			dropped = true
		}
	}
	if !dropped {
		t.Errorf("the breaking fix is not recorded as dropped: %+v", f.Dropped)
	}
	if !strings.Contains(string(f.Patched), "rm -rf /var/lib/apt/lists/*") {
		t.Errorf("safe fixes that build should stay:\n%s", f.Patched)
	}
	if rep.Optimized.CompressedSize >= rep.Original.CompressedSize {
		t.Errorf("cleaning apt lists should shrink the image: %d → %d bytes", rep.Original.CompressedSize, rep.Optimized.CompressedSize)
	}
	if len(pr.Changes) != 1 || pr.Changes[0].Path != "app/Dockerfile" || !strings.Contains(string(pr.Changes[0].Content), "rm -rf /var/lib/apt/lists/*") {
		t.Errorf("changes do not follow the narrowed patch: %+v", pr.Changes)
	}
}
