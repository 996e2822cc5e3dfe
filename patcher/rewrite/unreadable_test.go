package rewrite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// unreadableIgnore is a folder whose .dockerignore is listed but cannot be
// read, as one behind a link out of the folder, or a FIFO, is. It does not
// embed the MapFS, whose ReadFile and Sub would go round Open.
type unreadableIgnore struct{ files fstest.MapFS }

func (u unreadableIgnore) Open(name string) (fs.File, error) {
	if name == ".dockerignore" {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: errors.New("path escapes from parent")}
	}
	return u.files.Open(name)
}

func (u unreadableIgnore) ReadDir(name string) ([]fs.DirEntry, error) { return u.files.ReadDir(name) }

// TestEveryRewriteIsWithheldBehindAnUnreadableDockerignore: every golden
// rewrite is withheld, with the reason, when the context's .dockerignore
// cannot be read. One that adds lines to it cannot merge them into a file
// nobody can see; any other COPYs context files by name, which the
// unknown file may keep from the builder.
func TestEveryRewriteIsWithheldBehindAnUnreadableDockerignore(t *testing.T) {
	a := analyzer.New(rules.All())
	checked, addingLines := 0, 0
	for file, fsys := range goldenFolders(t) {
		rw, _ := Plan(analyze(a, fsys))
		if rw == nil {
			continue
		}
		checked++
		want := "could not be read, so whether the builder sees the files this rewrite copies by name is not known"
		if writesDockerignore(rw) {
			addingLines++
			want = ".dockerignore could not be read, so the lines this rewrite needs in it cannot be added"
		}
		if _, ok := fsys[".dockerignore"]; !ok {
			fsys[".dockerignore"] = &fstest.MapFile{Data: []byte("node_modules\n")}
		}
		unreadable := unreadableIgnore{fsys}
		src := fsys["Dockerfile"].Data
		before, err := a.AnalyzeSource(context.Background(), "Dockerfile", src, analyzer.ContextFor(unreadable, "Dockerfile", "."), nil)
		if err != nil {
			t.Fatal(err)
		}
		rw, withheld := Plan(before)
		if rw != nil || withheld == nil || withheld.Precondition != analyzer.PreconditionContext || !strings.Contains(withheld.Reason, want) {
			t.Errorf("%s: rewrite %v, withheld %+v; want it withheld: %q", file, rw != nil, withheld, want)
		}
		for _, f := range before.Findings {
			if f.Rule == "dockerignore-missing" {
				t.Errorf("%s: an unreadable .dockerignore is reported missing: %s", file, f.Message)
			}
		}
	}
	if addingLines == 0 || addingLines == checked {
		t.Fatalf("%d golden rewrites, %d of them add to the .dockerignore; want both kinds", checked, addingLines)
	}
	t.Logf("%d rewrites checked, %d of them add to the .dockerignore", checked, addingLines)
}

// TestEveryRewriteIsWithheldPastATruncatedListing: a rewrite chooses what
// to COPY and what the runtime needs from the context's files, so when the
// listing stopped at MaxContextFiles (a large monorepo) every golden
// rewrite is withheld, with the reason, instead of being planned from part
// of the files.
func TestEveryRewriteIsWithheldPastATruncatedListing(t *testing.T) {
	a := analyzer.New(rules.All())
	checked, withheldForListing := 0, 0
	for file, fsys := range goldenFolders(t) {
		if rw, _ := Plan(analyze(a, fsys)); rw == nil {
			continue
		}
		checked++
		for i := 0; i <= analyzer.MaxContextFiles; i++ {
			fsys[fmt.Sprintf("aaa-assets/d%03d/f%05d.png", i/500, i)] = &fstest.MapFile{Data: []byte("x")}
		}
		before := analyze(a, fsys)
		if !before.BuildContext.Truncated {
			t.Fatalf("%s: the filler did not truncate the listing", file)
		}
		// A planner that finds no fit in part of the files proposes
		// nothing, which is fine; one that fits is withheld.
		rw, withheld := Plan(before)
		switch {
		case rw != nil:
			t.Errorf("%s: a rewrite was planned from part of the context's files", file)
		case withheld != nil && strings.Contains(withheld.Reason, "the build context has more than 20000 files"):
			withheldForListing++
		case withheld != nil:
			t.Errorf("%s: withheld for %q; want the truncated listing named", file, withheld.Reason)
		}
	}
	if checked == 0 || withheldForListing == 0 {
		t.Fatalf("%d golden rewrites, %d withheld for the truncated listing; want some of each", checked, withheldForListing)
	}
	t.Logf("%d golden rewrites, %d withheld for the truncated listing, the others not proposed", checked, withheldForListing)
}

// goldenFolders yields each golden case's folder, its expected outputs
// left out.
func goldenFolders(t *testing.T) iter.Seq2[string, fstest.MapFS] {
	return func(yield func(string, fstest.MapFS) bool) {
		files, _ := filepath.Glob("testdata/*.txtar")
		for _, file := range files {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{}
			for _, f := range ar.Files {
				if !strings.HasPrefix(f.Name, "want/") {
					fsys[f.Name] = &fstest.MapFile{Data: f.Data}
				}
			}
			if !yield(file, fsys) {
				return
			}
		}
	}
}
