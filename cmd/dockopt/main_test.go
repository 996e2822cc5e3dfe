package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"dockopt": func() {
			ownProcess = true
			os.Exit(program().Main(os.Args[1:]))
		},
	})
}

// TestScripts runs the CLI scenarios in testdata/script: what a user types
// and what they see, exit codes included.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}
