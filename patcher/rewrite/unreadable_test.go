package rewrite

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// unreadableIgnore is a folder whose .dockerignore is there but cannot be
// read, as one behind a link out of the folder, or a FIFO, is.
type unreadableIgnore struct{ fstest.MapFS }

func (u unreadableIgnore) Open(name string) (fs.File, error) {
	if name == ".dockerignore" {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: errors.New("path escapes from parent")}
	}
	return u.MapFS.Open(name)
}

// TestARewriteThatAddsToAnUnreadableDockerignoreIsWithheld: every golden
// case whose rewrite adds to the .dockerignore is withheld, with the
// reason, when the .dockerignore it would add to cannot be read; the
// lines it needs cannot be merged into a file nobody can see.
func TestARewriteThatAddsToAnUnreadableDockerignoreIsWithheld(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txtar")
	a := analyzer.New(rules.All())
	checked := 0
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
		rw, _ := Plan(analyze(a, fsys))
		if rw == nil || !writesDockerignore(rw) {
			continue
		}
		checked++
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
		if rw != nil || withheld == nil || !strings.Contains(withheld.Reason, ".dockerignore could not be read") {
			t.Errorf("%s: rewrite %v, withheld %+v; want it withheld because the .dockerignore could not be read", file, rw != nil, withheld)
		}
		for _, f := range before.Findings {
			if f.Rule == "dockerignore-missing" {
				t.Errorf("%s: an unreadable .dockerignore is reported missing: %s", file, f.Message)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no golden case adds to the .dockerignore")
	}
	t.Logf("%d rewrites that add to the .dockerignore checked", checked)
}
