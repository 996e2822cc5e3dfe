package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/pipeline"
	"github.com/dockopt/dockopt/templates"
)

var folder = fstest.MapFS{
	"Dockerfile":    {Data: []byte("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n")},
	".dockerignore": {Data: []byte(".git\n")},
}

func TestRunAnalyzesThenPatchesWhenAsked(t *testing.T) {
	a := analyzer.New(rules.All())
	cfg := analyzer.DefaultConfig()
	if _, err := cfg.ResolveRules(a); err != nil {
		t.Fatal(err)
	}
	only, err := pipeline.Run(context.Background(), pipeline.Request{Analyzer: a, FS: folder, Config: cfg, Title: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.Result.Files) != 1 || len(only.Result.Files[0].Findings) == 0 {
		t.Fatalf("want findings in the one Dockerfile: %+v", only.Result.Files)
	}
	if only.Patch != nil || only.Report.Patch != nil {
		t.Errorf("a request without Fix patched")
	}

	opts := pipeline.FixOptions(cfg)
	fixed, err := pipeline.Run(context.Background(), pipeline.Request{Analyzer: a, FS: folder, Config: cfg, Fix: &opts, Title: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Patch == nil || len(fixed.Patch.Changes) == 0 || fixed.Report.Patch != fixed.Patch {
		t.Fatalf("want the Dockerfile changed and the report to show it: %+v", fixed.Patch)
	}
	report, err := templates.Report(fixed.Report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report, "shop") || !strings.Contains(report, "--no-install-recommends") {
		t.Errorf("the report lacks the title or the fix:\n%s", report)
	}
}

func TestFixOptionsFollowTheConfiguration(t *testing.T) {
	cfg := analyzer.DefaultConfig()
	cfg.Output.Mode = "sibling"
	cfg.Compose.Harden = true
	cfg.Fixes.Apply = analyzer.Safety("safe")
	opts := pipeline.FixOptions(cfg)
	if opts.Mode != "sibling" || !opts.HardenCompose || opts.Apply != "safe" {
		t.Errorf("FixOptions = %+v", opts)
	}
}
