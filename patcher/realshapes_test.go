package patcher_test

import (
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
)

// The repositories under analyzer/testdata/realshapes are written in the
// style of the ones issue #11 found broken by dockopt's pull requests.
// These tests patch each one as the App would (review and safe fixes) and
// assert that nothing harmful is proposed.

var (
	shapeMu      sync.Mutex
	shapePatches = map[string]*patcher.Result{}
)

func patchShape(t *testing.T, name string) *patcher.Result {
	t.Helper()
	shapeMu.Lock()
	defer shapeMu.Unlock()
	if r, ok := shapePatches[name]; ok {
		return r
	}
	fsys := os.DirFS(path.Join("../analyzer/testdata/realshapes", name))
	a := analyzer.New(rules.All())
	res, err := a.Analyze(fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := patcher.Patch(a, fsys, res, nil, patcher.Options{Apply: analyzer.Review})
	shapePatches[name] = r
	return r
}

// changed returns the patched content of a file, "" when it is unchanged.
func changed(r *patcher.Result, p string) string {
	for _, c := range r.Changes {
		if c.Path == p {
			return string(c.Content)
		}
	}
	return ""
}

// A tree of generated variants and their templates gets no change at all:
// no edit, no rewrite, no file created beside a variant.
func TestGeneratedTreeIsNotPatched(t *testing.T) {
	r := patchShape(t, "postgres-variants")
	for _, c := range r.Changes {
		t.Errorf("%s %s (for %s): %s", c.Action, c.Path, c.For, strings.SplitN(string(c.Content), "\n", 2)[0])
	}
	for _, f := range r.Files {
		if len(f.Applied) > 0 {
			t.Errorf("%s: applied %+v", f.Path, f.Applied)
		}
	}
}
