package analyzer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

// TestCancelStopsBetweenRules: a context canceled while a rule runs stops
// the analysis before the next rule, and what was found is not returned as
// if it were the file's analysis.
func TestCancelStopsBetweenRules(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ran := map[string]int{}
	rule := func(id string, check func(*analyzer.Pass)) *analyzer.Rule {
		return &analyzer.Rule{ID: id, Category: analyzer.CategoryReliability, Severity: analyzer.SeverityWarning,
			Title: id, Rationale: strings.Repeat("why ", 12), Check: func(p *analyzer.Pass) { ran[id]++; check(p) }}
	}
	a := analyzer.New([]*analyzer.Rule{
		rule("first", func(p *analyzer.Pass) { p.Reportf(p.File.Instructions[0], "found") }),
		rule("cancels", func(*analyzer.Pass) { cancel() }),
		rule("after", func(p *analyzer.Pass) { p.Reportf(p.File.Instructions[0], "found") }),
	})
	fr, err := a.AnalyzeSource(ctx, "Dockerfile", []byte("FROM debian:12\nRUN true\n"), nil, nil)
	if !errors.Is(err, context.Canceled) || fr != nil {
		t.Fatalf("AnalyzeSource after cancel = %v, %v; want nil, context.Canceled", fr, err)
	}
	if ran["after"] != 0 {
		t.Errorf("the rule after the cancel ran %d times", ran["after"])
	}
}

// TestCancelStopsBetweenFiles: canceling while the fifth file of a
// repository is analyzed ends Analyze with the context's error and no
// result, without analyzing the rest.
func TestCancelStopsBetweenFiles(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fsys := fstest.MapFS{}
	for i := range 200 {
		fsys[fmt.Sprintf("s%03d/Dockerfile", i)] = &fstest.MapFile{Data: []byte("FROM debian:12\n")}
	}
	var analyzed atomic.Int32
	a := analyzer.New([]*analyzer.Rule{{ID: "counts", Category: analyzer.CategoryReliability, Severity: analyzer.SeverityInfo,
		Title: "counts", Rationale: strings.Repeat("why ", 12), Check: func(p *analyzer.Pass) {
			if analyzed.Add(1) == 5 {
				cancel()
			}
		}}})
	res, err := a.Analyze(ctx, fsys, ".", nil)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("Analyze after cancel = %v, %v; want nil, context.Canceled", res, err)
	}
	// The files already started when the cancel came (four at a time) may
	// finish; no other starts.
	if n := analyzed.Load(); n > 9 {
		t.Errorf("%d of 200 files were analyzed, canceled after the fifth", n)
	}
}

// TestCanceledContextReachesBuildKit: the conversion is given the caller's
// context and says it was canceled, not that the file does not convert.
func TestCanceledContextReachesBuildKit(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := analyzer.BuildKitLint(ctx, []byte("FROM debian:12\nRUN true\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("BuildKitLint with a canceled context: %v", err)
	}
	if err := analyzer.ConvertLLB(ctx, []byte("FROM debian:12\nRUN true\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("ConvertLLB with a canceled context: %v", err)
	}
}
