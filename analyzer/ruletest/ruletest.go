// Package ruletest runs a rule over txtar cases, like analysistest: each
// case holds a Dockerfile and its build context, the expected findings and,
// where the rule fixes, the expected fixed Dockerfile.
//
//	-- Dockerfile --
//	FROM debian:12
//	RUN apt-get install -y curl
//	-- findings --
//	2: apt-no-install-recommends: …
//	-- Dockerfile.fixed --
//	…
//
// A file named with the suffix " (unreadable)" is listed in the context
// under the name before it but cannot be opened, as a .dockerignore behind
// a link out of the folder cannot.
//
// Run `go test ./analyzer/rules -update` to rewrite the expectations.
package ruletest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite expected findings and fixed files")

// Case is one parsed txtar case.
type Case struct {
	Name    string
	Archive *txtar.Archive
	Path    string
}

// File returns the content of the case's file name, nil when it has none.
func (c Case) File(name string) []byte {
	for _, f := range c.Archive.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

// Cases lists the txtar cases in dir/<ruleID>/.
func Cases(t testing.TB, dir, ruleID string) []Case {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, ruleID, "*.txtar"))
	sort.Strings(files)
	var out []Case
	for _, f := range files {
		a, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, Case{Name: strings.TrimSuffix(filepath.Base(f), ".txtar"), Archive: a, Path: f})
	}
	return out
}

// Result is what a case produced.
type Result struct {
	Findings []analyzer.Finding
	Fixed    []byte
}

// Run analyzes the case with the whole catalog a but keeps only the rule's
// findings, so interactions with the engine (suppressions, Windows,
// config) are exercised as users see them.
func Run(t testing.TB, a *analyzer.Analyzer, rule *analyzer.Rule, c Case) Result {
	t.Helper()
	fsys := fstest.MapFS{}
	unreadable := map[string]bool{}
	dockerfile := "Dockerfile"
	var cfg *analyzer.Config
	for _, f := range c.Archive.Files {
		switch {
		case f.Name == "findings" || strings.HasSuffix(f.Name, ".fixed"):
			continue
		case f.Name == "dockopt.yml":
			var err error
			cfg, err = analyzer.ParseConfig(f.Name, f.Data)
			if err != nil {
				t.Fatalf("%s: config: %v", c.Path, err)
			}
			continue
		}
		if name, ok := strings.CutSuffix(f.Name, unreadableSuffix); ok {
			fsys[name] = &fstest.MapFile{Data: f.Data}
			unreadable[name] = true
			continue
		}
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
		if analyzer.IsDockerfileName(filepath.Base(f.Name)) && dockerfile == "Dockerfile" && f.Name != "Dockerfile" {
			if _, ok := fsys["Dockerfile"]; !ok {
				dockerfile = f.Name
			}
		}
	}
	src := fsys[dockerfile].Data
	bc := analyzer.ContextFor(unopenable{fsys, unreadable}, dockerfile, filepath.Dir(dockerfile))
	fr, err := a.AnalyzeSource(t.Context(), dockerfile, src, bc, cfg)
	if err != nil {
		t.Fatalf("%s: %v", c.Path, err)
	}
	if fr.Error != "" {
		t.Fatalf("%s: analysis error: %s", c.Path, fr.Error)
	}
	var res Result
	for _, f := range fr.Findings {
		if f.Rule == rule.ID {
			res.Findings = append(res.Findings, f)
		}
	}
	// The fixes the patcher would apply together in its first pass.
	if fixes := analyzer.NonOverlapping(res.Findings); slices.ContainsFunc(fixes, hasEdits) {
		fixed, _, err := analyzer.ApplyFixes(src, fixes)
		if err != nil {
			t.Fatalf("%s: applying fix: %v", c.Path, err)
		}
		res.Fixed = fixed
	}
	return res
}

const unreadableSuffix = " (unreadable)"

// unopenable lists every file of the case but refuses to open the
// unreadable ones, with the error os.Root gives a link out of the folder.
type unopenable struct {
	files      fstest.MapFS
	unreadable map[string]bool
}

func (u unopenable) Open(name string) (fs.File, error) {
	if u.unreadable[name] {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: errors.New("path escapes from parent")}
	}
	return u.files.Open(name)
}

func (u unopenable) ReadDir(name string) ([]fs.DirEntry, error) { return u.files.ReadDir(name) }

func (u unopenable) Stat(name string) (fs.FileInfo, error) { return u.files.Stat(name) }

func hasEdits(f analyzer.Finding) bool { return len(f.Fix.Edits) > 0 }

// FormatFindings renders findings as the `findings` section expects. A
// finding reported at another severity than its rule's (an advisory one
// at info, one a configuration moves) names it after the rule:
// "3: final-user-root (info): …".
func FormatFindings(rule *analyzer.Rule, fs []analyzer.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fix := ""
		if f.Fix != nil {
			fix = " [fix: " + string(f.Fix.Safety) + "]"
		}
		sev := ""
		if rule != nil && f.Severity != rule.Severity {
			sev = " (" + f.Severity.String() + ")"
		}
		fmt.Fprintf(&b, "%d: %s%s: %s%s\n", f.Line, f.Rule, sev, f.Message, fix)
	}
	return b.String()
}

// Check compares a case's result with its expectations, or rewrites them
// with -update. It returns whether the case expects findings.
func Check(t *testing.T, a *analyzer.Analyzer, rule *analyzer.Rule, c Case) (positive bool) {
	t.Helper()
	res := Run(t, a, rule, c)
	got := FormatFindings(rule, res.Findings)
	var want, wantFixed []byte
	hasFixed := false
	for _, f := range c.Archive.Files {
		switch f.Name {
		case "findings":
			want = f.Data
		case "Dockerfile.fixed":
			wantFixed, hasFixed = f.Data, true
		}
	}
	if *update {
		rewrite(t, c, got, res.Fixed)
		return got != ""
	}
	if got != string(want) {
		t.Errorf("%s: findings differ\n--- got\n%s--- want\n%s", c.Path, got, want)
	}
	switch {
	case res.Fixed != nil && !hasFixed:
		t.Errorf("%s: the rule proposed a fix but the case has no Dockerfile.fixed; run with -update\n%s", c.Path, res.Fixed)
	case hasFixed && !bytes.Equal(res.Fixed, wantFixed):
		t.Errorf("%s: fixed Dockerfile differs\n--- got\n%s--- want\n%s", c.Path, res.Fixed, wantFixed)
	}
	if res.Fixed != nil {
		if _, err := analyzer.Parse("Dockerfile", res.Fixed); err != nil {
			t.Errorf("%s: fixed Dockerfile does not parse: %v", c.Path, err)
		}
	}
	return len(res.Findings) > 0
}

func rewrite(t *testing.T, c Case, findings string, fixed []byte) {
	var files []txtar.File
	for _, f := range c.Archive.Files {
		if f.Name == "findings" || f.Name == "Dockerfile.fixed" {
			continue
		}
		files = append(files, f)
	}
	files = append(files, txtar.File{Name: "findings", Data: []byte(findings)})
	if fixed != nil {
		files = append(files, txtar.File{Name: "Dockerfile.fixed", Data: fixed})
	}
	c.Archive.Files = files
	if err := os.WriteFile(c.Path, txtar.Format(c.Archive), 0o644); err != nil {
		t.Fatal(err)
	}
}
