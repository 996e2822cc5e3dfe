package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dockopt/dockopt/app/sandbox"
)

func TestMain(m *testing.M) {
	// `dockopt-app serve` started by a test runs its analysis children
	// from its own executable, this test binary, under its real name.
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		os.Exit(sandbox.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"dockopt-app": func() { os.Exit(program().Main(os.Args[1:])) },
	})
}

// TestScripts runs the App's command-line scenarios in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}
