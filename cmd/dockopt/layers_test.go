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
