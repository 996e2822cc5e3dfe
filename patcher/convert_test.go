package patcher_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
)

// Whether the original converts is asked only when it decides something;
// these are the cases where it does.

func patchSource(t *testing.T, src string) *patcher.File {
	t.Helper()
	a := analyzer.New(rules.All())
	ctx := context.Background()
	fr, err := a.AnalyzeSource(ctx, "Dockerfile", []byte(src), nil, nil)
	if err != nil || fr.Error != "" {
		t.Fatalf("analysis: %v %s", err, fr.Error)
	}
	f, err := patcher.PatchFile(ctx, a, fr, nil, patcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A file BuildKit cannot convert still gets the fixes that leave it no
// worse: its fixed version does not convert either, and that is no
// regression.
func TestFixesOfAFileThatDoesNotConvert(t *testing.T) {
	src := "FROM debian:bookworm-slim\nRUN --mount=type=bogus true\nRUN apt-get update && apt-get install -y curl\n"
	if analyzer.ConvertLLB(context.Background(), []byte(src)) == nil {
		t.Fatal("the case needs a file BuildKit does not convert")
	}
	f := patchSource(t, src)
	if !strings.Contains(string(f.Patched), "--no-install-recommends") {
		t.Errorf("the fix was not applied:\n%s\ndropped: %+v", f.Patched, f.Dropped)
	}
	if v := f.Verification; !v.Converted || v.Error != "" {
		t.Errorf("verification: %+v", v)
	}
}

// A file with more instructions than BuildKit is given keeps every fix
// out, with the reason.
func TestFixesOfAFileTooLargeToConvert(t *testing.T) {
	src := "FROM debian:bookworm-slim\n" + strings.Repeat("RUN apt-get install -y curl\n", analyzer.MaxConvertInstructions)
	f := patchSource(t, src)
	if len(f.Applied) != 0 || string(f.Patched) != src {
		t.Errorf("fixes applied to a file BuildKit is not given: %+v", f.Applied)
	}
	tooLarge := 0
	for _, d := range f.Dropped {
		if d.Reason == patcher.ReasonTooLarge {
			tooLarge++
		}
	}
	if tooLarge == 0 {
		t.Errorf("no fix dropped as too large: %+v", f.Dropped[:min(len(f.Dropped), 3)])
	}
}
