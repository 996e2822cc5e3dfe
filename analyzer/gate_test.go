package analyzer

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBuildKitGateLosesNoWarning: on every corpus file the gate lets skip,
// BuildKit raises none of the warnings rules read from it (the rest are
// checked natively), so skipping the conversion changes no finding.
func TestBuildKitGateLosesNoWarning(t *testing.T) {
	consumed := map[string]bool{
		"UndefinedArgInFrom": true, "InvalidDefaultArgInFrom": true, "FromPlatformFlagConstDisallowed": true,
		"RedundantTargetPlatform": true, "UndefinedVar": true, "ExposeProtoCasing": true, "ExposeInvalidFormat": true,
		"InvalidBaseImagePlatform": true, "WorkdirRelativePath": true,
	}
	files, _ := filepath.Glob("testdata/corpus/*/Dockerfile")
	skipped := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(f, b)
		if err != nil || needsBuildKitLint(d) {
			continue
		}
		skipped++
		ws, _ := BuildKitLint(t.Context(), b)
		for _, w := range ws {
			if consumed[w.Rule] {
				t.Errorf("%s: the gate skips BuildKit but it warns %s: %s", f, w.Rule, w.Message)
			}
		}
	}
	if skipped < len(files)/2 {
		t.Errorf("the gate skips only %d of %d corpus files", skipped, len(files))
	}
}
