package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// TestImageBuildContextHoldsTheBinarysSources: the root .dockerignore is an
// allow-list, and the image's builder compiles ./cmd/dockopt from the
// context alone. Every Go file and embedded file the binary is built from
// must survive it; an embedded file under a testdata/ folder once did not,
// and the image failed to build while every test passed.
func TestImageBuildContextHoldsTheBinarysSources(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	excluded, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("go", "list", "-deps", "-json=Dir,Module,GoFiles,EmbedFiles", "./cmd/dockopt")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			Dir                 string
			Module              *struct{ Main bool }
			GoFiles, EmbedFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue // the standard library and modules come from elsewhere
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range append(p.GoFiles, p.EmbedFiles...) {
			needed = append(needed, filepath.ToSlash(filepath.Join(rel, name)))
		}
	}
	if len(needed) < 50 {
		t.Fatalf("go list found only %d files; the check would prove nothing", len(needed))
	}
	var missing []string
	for _, path := range needed {
		if out, err := excluded.MatchesOrParentMatches(path); err != nil {
			t.Fatal(err)
		} else if out {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		t.Errorf(".dockerignore keeps %d files the binary is built from out of the image's build context:\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
}
