package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/pipeline"
	"github.com/dockopt/dockopt/patcher"
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

// Streaming the fixes (each file patched as soon as it is analyzed, its
// models let go) changes what a run holds, not what it finds or changes;
// without Remaining it keeps no patched version's findings at all.
func TestStreamFixesChangesNothingButMemory(t *testing.T) {
	a := analyzer.New(rules.All())
	fsys := os.DirFS(corpusDir())
	cfg, err := analyzer.LoadConfig(fsys)
	if err != nil {
		t.Fatal(err)
	}
	run := func(stream, remaining bool) *pipeline.Output {
		opts := pipeline.FixOptions(cfg)
		out, err := pipeline.Run(context.Background(), pipeline.Request{Analyzer: a, FS: fsys, Config: cfg, Fix: &opts,
			StreamFixes: stream, Remaining: remaining})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	held := run(false, false)
	if len(held.Patch.Changes) == 0 {
		t.Fatal("the corpus should have changes")
	}
	for _, remaining := range []bool{true, false} {
		streamed := run(true, remaining)
		if !reflect.DeepEqual(changeList(held.Patch.Changes), changeList(streamed.Patch.Changes)) {
			t.Errorf("streamed changes differ:\nheld     %v\nstreamed %v", changeList(held.Patch.Changes), changeList(streamed.Patch.Changes))
		}
		if len(held.Patch.Files) != len(streamed.Patch.Files) {
			t.Fatalf("%d patched files held, %d streamed", len(held.Patch.Files), len(streamed.Patch.Files))
		}
		for i, h := range held.Patch.Files {
			s := streamed.Patch.Files[i]
			if h.Path != s.Path || !reflect.DeepEqual(h.Applied, s.Applied) || !reflect.DeepEqual(h.Dropped, s.Dropped) ||
				!reflect.DeepEqual(h.Verification, s.Verification) {
				t.Errorf("%s: streamed patch differs:\nheld     %+v %+v %+v\nstreamed %+v %+v %+v", h.Path, h.Applied, h.Dropped, h.Verification, s.Applied, s.Dropped, s.Verification)
			}
			switch {
			case h.After == h.Before:
			case remaining && !reflect.DeepEqual(findingList(h.After), findingList(s.After)):
				t.Errorf("%s: the findings that remain differ when streamed", h.Path)
			case !remaining && s.After != nil:
				t.Errorf("%s: a streamed patch kept the patched version's analysis nobody reads", h.Path)
			}
		}
		for i, h := range held.Result.Files {
			if s := streamed.Result.Files[i]; !reflect.DeepEqual(findingList(h), findingList(s)) || h.Kind != s.Kind ||
				!reflect.DeepEqual(h.Stages, s.Stages) || !reflect.DeepEqual(h.Strengths, s.Strengths) {
				t.Errorf("%s: streamed findings differ", h.Path)
			}
			if s := streamed.Result.Files[i]; s.Dockerfile != nil && !s.Template && s.Generated == nil &&
				(len(s.Dockerfile.Instructions) > 0 || s.BuildContext != nil) {
				t.Errorf("%s: a streamed run kept the model of a file it had patched", h.Path)
			}
		}
	}
}

func changeList(cs []patcher.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Action+" "+c.Path+"\n"+string(c.Content))
	}
	return out
}

func findingList(fr *analyzer.FileResult) []string {
	var out []string
	for _, f := range fr.Findings {
		line := fmt.Sprintf("%s %d-%d %s %s", f.Rule, f.Line, f.EndLine, f.Severity, f.Message)
		if f.Fix != nil {
			line += fmt.Sprintf(" fix(%s): %s", f.Fix.Safety, f.Fix.Message)
		}
		out = append(out, line)
	}
	return out
}

// full-base-image withholds its own fix (a FROM swap) when a dependency
// compiles with node-gyp, and says so. When the Node rewrite, which
// installs on the full image and runs on the slim one, replaces the file,
// the finding says that too, or the output says "no fix" beside a change
// that runs on -slim; without patching it stays as the rule wrote it.
func TestFullBaseImageNamesTheRewriteThatRunsOnSlim(t *testing.T) {
	lock := `{
  "name": "x",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "x", "dependencies": {"bcrypt": "^5.1.1", "express": "^4.19.2"}},
    "node_modules/bcrypt": {
      "version": "5.1.1",
      "hasInstallScript": true,
      "gypfile": true
    },
    "node_modules/express": {"version": "4.19.2"}
  }
}
`
	fsys := fstest.MapFS{
		"Dockerfile":        {Data: []byte("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev\nEXPOSE 3000\nCMD [\"node\", \"index.js\"]\n")},
		"package.json":      {Data: []byte(`{"name": "x", "main": "index.js", "dependencies": {"bcrypt": "^5.1.1", "express": "^4.19.2"}}`)},
		"package-lock.json": {Data: []byte(lock)},
		"index.js":          {Data: []byte("require('express')().listen(3000)\n")},
	}
	a := analyzer.New(rules.All())
	cfg := analyzer.DefaultConfig()
	if _, err := cfg.ResolveRules(a); err != nil {
		t.Fatal(err)
	}
	message := func(out *pipeline.Output) string {
		for _, f := range out.Result.Files[0].Findings {
			if f.Rule == "full-base-image" {
				return f.Message
			}
		}
		t.Fatal("no full-base-image finding")
		return ""
	}
	const withheld = "no fix proposed because package-lock.json holds packages built with node-gyp"
	const note = "instead, the rewrite of this file (rewrite:node-service) installs the dependencies on node:20 and runs them on node:20-slim"
	only, err := pipeline.Run(t.Context(), pipeline.Request{Analyzer: a, FS: fsys, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if m := message(only); !strings.Contains(m, withheld) || strings.Contains(m, "rewrite") {
		t.Errorf("without patching: %q, want the reason and no rewrite", m)
	}
	for _, stream := range []bool{false, true} {
		opts := pipeline.FixOptions(cfg)
		fixed, err := pipeline.Run(t.Context(), pipeline.Request{Analyzer: a, FS: fsys, Config: cfg, Fix: &opts, StreamFixes: stream})
		if err != nil {
			t.Fatal(err)
		}
		if f := fixed.Patch.Files[0]; len(f.Applied) == 0 || f.Applied[0].Rule != "rewrite:node-service" ||
			!strings.Contains(string(f.Patched), "FROM node:20-slim") {
			t.Fatalf("stream %v: the rewrite did not run on node:20-slim:\n%s", stream, f.Patched)
		}
		if m := message(fixed); !strings.Contains(m, withheld+", which needs the compilers of the full image; "+note) {
			t.Errorf("stream %v: %q, want the reason and then %q", stream, m, note)
		}
	}
}
