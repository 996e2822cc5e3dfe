//go:build unix

package patcher

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestChangesFromDiskReadsAsTheAnalysisDid: after build verification, the
// files the fixes merge into are read again from the folder: a link out of
// it is not followed (its target's text never reaches a change), and a
// FIFO is refused at once instead of waited on, whatever name it has.
func TestChangesFromDiskReadsAsTheAnalysisDid(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{
		"outside/ignore":      "SECRET\n",
		"repo/Dockerfile":     "FROM node:20\nCOPY . /app\n",
		"repo/web/Dockerfile": "FROM nginx:1.27\nCOPY . /usr/share/nginx/html\n",
	})
	repo := filepath.Join(dir, "repo")
	if err := syscall.Mkfifo(filepath.Join(repo, ".dockerignore"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	if err := os.Symlink("../../outside/ignore", filepath.Join(repo, "web", ".dockerignore")); err != nil {
		t.Fatal(err)
	}
	files := []*File{
		{Path: "Dockerfile", Original: []byte("x"), Patched: []byte("x"),
			Generated: []analyzer.GeneratedFile{{Path: ".dockerignore", Content: "node_modules\n", Merge: "append-lines"}}},
		{Path: "web/Dockerfile", Original: []byte("x"), Patched: []byte("x"),
			Generated: []analyzer.GeneratedFile{{Path: "web/.dockerignore", Content: ".git\n", Merge: "append-lines"}}},
	}
	done := make(chan []Change, 1)
	go func() { done <- changesFromDisk(repo, files, Options{}) }()
	var got []Change
	select {
	case got = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("reading the FIFO .dockerignore is still waiting")
	}
	if len(got) != 2 {
		t.Fatalf("got %d changes, want 2: %+v", len(got), got)
	}
	// Neither file could be read, so each is proposed as the fix wrote it.
	want := map[string]string{".dockerignore": "node_modules\n", "web/.dockerignore": ".git\n"}
	for _, c := range got {
		if strings.Contains(string(c.Original)+string(c.Content), "SECRET") {
			t.Errorf("%s: the change holds the text of a file outside the folder: %q", c.Path, c.Original)
		}
		if content, ok := want[c.Path]; !ok || c.Action != "create" || string(c.Content) != content {
			t.Errorf("change %s: %s %q; want create %q", c.Path, c.Action, c.Content, content)
		}
	}
}
