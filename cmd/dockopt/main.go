// Command dockopt makes Dockerfiles production-ready: it analyzes them,
// writes optimized versions and, with a builder, proves they still build.
//
// It is the command-line half of dockopt and links none of the GitHub App
// (its queue, databases and GitHub clients), so that `go run
// ./cmd/dockopt analyze` compiles quickly from empty caches. The App is
// the dockopt-app binary (cmd/dockopt-app).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/dockopt/dockopt/internal/cli"
)

// stopGrace is how long analyze has to stop after a signal. It checks its
// context between files, rules and passes, so this only bounds a single
// step that does not (parsing a 1 MiB file, one BuildKit conversion).
const stopGrace = 800 * time.Millisecond

// version is set by the release build with -ldflags; otherwise the
// module version recorded in the binary is used.
var version = ""

// appCommand is how the App's commands are run from a checkout.
const appCommand = "dockopt-app %s (from a checkout: go run ./cmd/dockopt-app %s)"

func program() cli.Program {
	elsewhere := map[string]string{}
	for _, name := range []string{"serve", "register", "demo", "healthcheck"} {
		elsewhere[name] = fmt.Sprintf(appCommand, name, name)
	}
	return cli.Program{
		Name: "dockopt",
		Commands: map[string]cli.Command{
			"analyze": {Summary: "analyze Dockerfiles and optionally write optimized versions", Run: runAnalyze, StopWithin: stopGrace},
			"rules":   {Summary: "list the rule catalog", Run: runRules, StopWithin: stopGrace},
			"explain": {Summary: "print a rule's documentation", Run: runExplain, StopWithin: stopGrace},
		},
		Elsewhere: elsewhere,
		Release:   version,
	}
}

func main() {
	ownProcess = true
	os.Exit(program().Main(os.Args[1:]))
}

// ownProcess is set when dockopt runs as a process of its own (main, and
// the test binary's dockopt command), not as a function inside a test:
// only then may analyze take the network away from the whole process.
var ownProcess bool

// run runs one command without signal handling (tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program().Run(ctx, args, stdout, stderr)
}

// moduleVersion is dockopt's version as tools that read its output (SARIF)
// name it.
func moduleVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return cli.ModuleVersion(version, bi)
}
