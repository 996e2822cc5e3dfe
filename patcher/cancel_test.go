package patcher_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
)

// TestCancelDuringPatch: a context canceled while a fixed file is being
// checked ends Patch with the context's error and no result, rather than
// with the fix dropped as if the check had failed.
func TestCancelDuringPatch(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cancels := &analyzer.Rule{ID: "cancels-on-fixed-file", Category: analyzer.CategoryReliability, Severity: analyzer.SeverityInfo,
		Title: "cancels", Rationale: strings.Repeat("why ", 12), Check: func(p *analyzer.Pass) {
			if bytes.Contains(p.File.Source, []byte("--no-install-recommends")) {
				cancel()
			}
		}}
	a := analyzer.New(append(rules.All(), cancels))
	fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte("FROM debian:12\nRUN apt-get install -y curl\n")}}
	res, err := a.Analyze(ctx, fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := patcher.Patch(ctx, a, fsys, res, nil, patcher.Options{})
	if !errors.Is(err, context.Canceled) || pr != nil {
		t.Fatalf("Patch canceled while checking a fix = %v, %v; want nil, context.Canceled", pr, err)
	}
	f, err := patcher.PatchFile(ctx, a, res.Files[0], nil, patcher.Options{})
	if !errors.Is(err, context.Canceled) || f != nil {
		t.Fatalf("PatchFile with a canceled context = %v, %v; want nil, context.Canceled", f, err)
	}
}
