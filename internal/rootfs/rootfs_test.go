package rootfs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/rootfs"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestIsAnFS: the adapter keeps the fs.FS contracts fstest checks (open,
// read, seek, listing order, Stat) for files, folders and links that stay
// inside the root.
func TestIsAnFS(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{
		"Dockerfile":        "FROM debian:12\n",
		"app/package.json":  "{}\n",
		"app/src/index.js":  "console.log(1)\n",
		"deploy/Dockerfile": "FROM node:20\n",
	})
	if err := os.Symlink("Dockerfile", filepath.Join(dir, "Dockerfile.link")); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(rootfs.New(testfiles.Root(t, dir)), "Dockerfile", "Dockerfile.link", "app/package.json", "app/src/index.js", "deploy/Dockerfile"); err != nil {
		t.Fatal(err)
	}
}

// TestLinksOutsideAreRefusedAsTheRootRefusesThem: a link that leaves the
// folder is refused with the error the analyzer recognises and lists.
func TestLinksOutsideAreRefusedAsTheRootRefusesThem(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"outside/secret": "SECRET\n", "repo/Dockerfile": "FROM debian:12\n"})
	if err := os.Symlink("../outside/secret", filepath.Join(dir, "repo", "package.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside", filepath.Join(dir, "repo", "vendor")); err != nil {
		t.Fatal(err)
	}
	fsys := rootfs.New(testfiles.Root(t, filepath.Join(dir, "repo")))
	for _, read := range []func() error{
		func() error { _, err := fsys.Open("package.json"); return err },
		func() error { _, err := fs.ReadFile(fsys, "package.json"); return err },
		func() error { _, err := fsys.ReadDir("vendor"); return err },
		func() error { _, err := fsys.Stat("vendor/secret"); return err },
	} {
		if err := read(); !analyzer.LeavesRoot(err) {
			t.Errorf("got %v, want the root's refusal", err)
		}
	}
}
