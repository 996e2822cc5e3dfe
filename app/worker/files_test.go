package worker

import (
	"testing"

	"github.com/dockopt/dockopt/patcher"
)

// Workflow files need a permission dockopt does not ask for, and changing
// CI is not what a Dockerfile tool should propose: they are never pushed.
func TestWorkflowFilesAreNeverProposed(t *testing.T) {
	p := &patcher.Result{Changes: []patcher.Change{
		{Path: ".github/workflows/docker.yml", Content: []byte("on: push\n")},
		{Path: ".github/workflows/ci/Dockerfile", Content: []byte("FROM alpine\n")},
		{Path: "api/Dockerfile", Content: []byte("FROM alpine\n")},
		{Path: ".github/dockopt.yml", Content: []byte("rules: {}\n")},
	}}
	var got []string
	for _, f := range proposedFiles(p) {
		got = append(got, f.Path)
	}
	if len(got) != 2 || got[0] != "api/Dockerfile" || got[1] != ".github/dockopt.yml" {
		t.Errorf("proposed %v, want api/Dockerfile and .github/dockopt.yml only", got)
	}
}
