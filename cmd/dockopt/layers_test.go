package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/dockopt/dockopt"

// deps lists the packages the given patterns import, directly or not,
// test files aside.
func deps(t *testing.T, patterns ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps"}, patterns...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", strings.Join(patterns, " "), err)
	}
	return strings.Fields(string(out))
}

// TestReleaseBinaryDoesNotLinkTesting: the demo runs the fake GitHub of
// app/githubtest, which must therefore not reach package testing, whose
// flags and runtime hooks have no place in the released program.
func TestReleaseBinaryDoesNotLinkTesting(t *testing.T) {
	for _, p := range deps(t, "./cmd/dockopt") {
		if p == "testing" {
			t.Fatal("./cmd/dockopt links package testing")
		}
	}
}

// TestLayers keeps the app's dependencies flowing one way: the pipeline,
// like the analyzer, patcher and templates (analyzer's
// TestPureCoreImportsNoApp), knows nothing of the GitHub App; within the
// app, the worker knows nothing of the server that feeds it; and this
// package, which wires them together, is imported by none of them.
func TestLayers(t *testing.T) {
	rules := []struct {
		patterns  []string
		forbidden string // an import path, or a prefix ending in "/"
	}{
		{[]string{"./internal/pipeline/..."}, module + "/app/"},
		{[]string{"./app/worker/..."}, module + "/app/server"},
		{[]string{"./app/...", "./internal/..."}, module + "/cmd/"},
	}
	for _, r := range rules {
		for _, p := range deps(t, r.patterns...) {
			if p == r.forbidden || strings.HasSuffix(r.forbidden, "/") && strings.HasPrefix(p, r.forbidden) {
				t.Errorf("%s import %s, directly or not", strings.Join(r.patterns, " "), p)
			}
		}
	}
}
