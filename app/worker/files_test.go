package worker

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// Workflow files need a permission dockopt does not ask for, and changing
// CI is not what a Dockerfile tool should propose: they are never pushed.
func TestWorkflowFilesAreNeverProposed(t *testing.T) {
	p := []sandbox.Change{
		{Path: ".github/workflows/docker.yml", Content: []byte("on: push\n")},
		{Path: ".github/workflows/ci/Dockerfile", Content: []byte("FROM alpine\n")},
		{Path: "api/Dockerfile", Content: []byte("FROM alpine\n")},
		{Path: ".github/dockopt.yml", Content: []byte("rules: {}\n")},
	}
	var got []string
	for _, f := range (&Worker{}).proposedFiles(testfiles.Root(t, t.TempDir()), p) {
		got = append(got, f.Path)
	}
	if len(got) != 2 || got[0] != "api/Dockerfile" || got[1] != ".github/dockopt.yml" {
		t.Errorf("proposed %v, want api/Dockerfile and .github/dockopt.yml only", got)
	}
}

// TestChangesFollowLinksInsideTheRepository: a change to a path held
// through a symbolic link lands on the file it names; one through a link
// leading out of the repository (absolute, or up past its root, or a
// loop) is dropped.
func TestChangesFollowLinksInsideTheRepository(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"shared", "svc", "real"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"svc/.dockerignore": "../shared/dockerignore",
		"alias":             "real", // a linked directory
		"svc/passwd":        "/etc/passwd",
		"svc/up":            "../../outside",
		"loop":              "loop",
		"chain":             "svc/.dockerignore",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	w := &Worker{}
	root := testfiles.Root(t, dir)
	for _, c := range []struct{ path, want string }{
		{"svc/.dockerignore", "shared/dockerignore"},
		{"chain", "shared/dockerignore"},
		{"alias/Dockerfile", "real/Dockerfile"},
		{"svc/Dockerfile", "svc/Dockerfile"},
		{"new/dir/Dockerfile", "new/dir/Dockerfile"},
		{"svc/passwd", ""},
		{"svc/up", ""},
		{"loop", ""},
	} {
		got := w.proposedFiles(root, []sandbox.Change{{Path: c.path, Content: []byte("x")}})
		switch {
		case c.want == "" && len(got) != 0:
			t.Errorf("%s: proposed %s, want it dropped", c.path, got[0].Path)
		case c.want != "" && (len(got) != 1 || got[0].Path != c.want):
			t.Errorf("%s: proposed %v, want %s", c.path, got, c.want)
		}
	}
}
