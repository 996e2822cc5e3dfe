// Command dockopt-app is dockopt's GitHub App: it takes webhook deliveries,
// queues them, analyzes each push in a bounded child process, and opens
// or updates one pull request with the changes and a report.
//
// The command-line analysis is the dockopt binary (cmd/dockopt), which
// links none of this.
package main

import (
	"os"

	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/internal/cli"
)

// version is set by the release build with -ldflags; otherwise the
// module version recorded in the binary is used.
var version = ""

func program() cli.Program {
	return cli.Program{
		Name: "dockopt-app",
		Commands: map[string]cli.Command{
			"serve":       {Summary: "run the GitHub App (webhooks, queue, workers)", Run: runServe},
			"register":    {Summary: "register a GitHub App from app.yml (manifest flow)", Run: runRegister},
			"demo":        {Summary: "run the GitHub App end to end against a built-in fake GitHub", Run: runDemo},
			"healthcheck": {Summary: "check that the local server is healthy (for the image's HEALTHCHECK)", Run: runHealthcheck},
		},
		Elsewhere: map[string]string{
			"analyze": "dockopt analyze (from a checkout: go run ./cmd/dockopt analyze)",
			"rules":   "dockopt rules",
			"explain": "dockopt explain",
		},
		Release: version,
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		// The worker's analysis child (app/sandbox): not a user command.
		os.Exit(sandbox.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(program().Main(os.Args[1:]))
}
