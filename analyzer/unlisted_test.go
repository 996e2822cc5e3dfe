package analyzer

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/internal/rootfs"
)

// Past a listing truncated at MaxContextFiles, Has asks the real folder,
// through the recording the analysis reads with: what is there is found,
// what the walk passed is known absent without a lookup, a lookup is not
// reported as a file not read, errors that mean "no such entry" mean
// absent, and a hostile number of names costs a bounded number of
// lookups.
func TestHasPastATruncatedListingOnDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20,001 files")
	}
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i <= MaxContextFiles; i++ {
		write(fmt.Sprintf("docs/d%03d/f%05d.md", i/500, i), "x")
	}
	write("go.mod", "module example.com/x\n")
	write("node_modules/left-pad/index.js", "")
	if err := os.Symlink("/etc", filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	folder := rootfs.New(root)
	defer folder.Close()
	rec := recording(folder)
	bc := LoadContext(rec, ".")
	if !bc.Truncated {
		t.Fatal("the listing was not truncated")
	}
	for name, want := range map[string]bool{
		"go.mod":                 true,  // after docs/: never listed, there
		"node_modules":           true,  // a folder the walk records but never enters
		"node_modules/x":         false, // inside it: unknown to the listing either way
		"go.mod/x":               false, // "not a directory" is absence
		strings.Repeat("n", 300): false, // "file name too long" too
		"setup.py":               false,
		"out/passwd":             true,  // leads out of the folder: there, as the listing would list out
		"docs/d000/f00000.md":    true,  // listed
		"docs/d000/zz.md":        false, // passed by the walk: absent without a lookup
	} {
		if got := bc.Has(name); got != want {
			t.Errorf("Has(%.40s) = %v, want %v", name, got, want)
		}
	}
	if _, looked := bc.unlisted.answers["docs/d000/zz.md"]; looked {
		t.Error("a path the walk passed was looked up")
	}
	for _, s := range rec.unread() {
		t.Errorf("a lookup was reported as a file not read: %s (%s)", s.Path, s.Reason)
	}

	// A Dockerfile can name a million paths; lookups stop at the bound.
	for i := range 3 * maxUnlistedLookups {
		bc.Has(fmt.Sprintf("zz/%d", i))
	}
	if n := len(bc.unlisted.answers); n > maxUnlistedLookups {
		t.Errorf("%d names looked up, want at most %d", n, maxUnlistedLookups)
	}
	if !bc.Has("zz/never-looked-up") {
		t.Error("past the bound a name is not answered as there (the safe answer)")
	}
}

// Has answers for the name as path.Clean reads it, whether the name was
// clean already or not.
func TestHasCleansNames(t *testing.T) {
	c := EmptyContext()
	c.files["a/b"], c.dirs["a"], c.dirs[".a"] = true, true, true
	for _, name := range []string{"", ".", "/", "a", "a/", "/a", "./a", "a/./b", "a//b", "a/b/", "x/../a/b", "a/b/..", ".a", ".a/", "..", "../a", "a/b/c/..", "a/..b", "...", "//a"} {
		clean := path.Clean(strings.TrimPrefix(name, "/"))
		if got := cleanRel(strings.TrimPrefix(name, "/")); got != clean {
			t.Errorf("cleanRel(%q) = %q, want %q", name, got, clean)
		}
		want := clean == "a/b" || clean == "a" || clean == ".a" || clean == "."
		if got := c.Has(name); got != want {
			t.Errorf("Has(%q) = %v, want %v", name, got, want)
		}
	}
}
