package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestOutputGoldens pins every output format of `dockopt analyze` for one
// small repository; `go test ./cmd/dockopt -run TestOutputGoldens -update`
// rewrites them, and the diff is the review.
func TestOutputGoldens(t *testing.T) {
	for _, format := range []string{"text", "json", "sarif", "markdown"} {
		t.Run(format, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"analyze", "--format", format, "testdata/golden/repo"}, &out, &errb)
			if code != exitFindings {
				t.Fatalf("exit %d, want %d: %s", code, exitFindings, errb.String())
			}
			if format == "json" || format == "sarif" {
				var v any
				if err := json.Unmarshal(out.Bytes(), &v); err != nil {
					t.Fatalf("%s output is not JSON: %v", format, err)
				}
			}
			path := filepath.Join("testdata", "golden", "out."+format)
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%s output differs from %s (run with -update and review the diff)\n%s", format, path, out.String())
			}
		})
	}
}
