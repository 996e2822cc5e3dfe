// Command dockopt makes Dockerfiles production-ready: it analyzes them,
// writes optimized versions, proves they still build, and, as a GitHub App,
// opens a pull request with the changes and a report.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/internal/cli"
)

// command is one subcommand of the dockopt binary.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// stopWithin, when set, is how long the command may take to stop once
	// SIGINT or SIGTERM arrives; past it the process exits. Commands that
	// shut down gracefully (serve) leave it zero.
	stopWithin time.Duration
}

// stopGrace is how long analyze has to stop after a signal. It checks its
// context between files, rules and passes, so this only bounds a single
// step that does not (parsing a 1 MiB file, one BuildKit conversion).
const stopGrace = 800 * time.Millisecond

func commands() map[string]command {
	return map[string]command{
		"analyze":     {summary: "analyze Dockerfiles and optionally write optimized versions", run: runAnalyze, stopWithin: stopGrace},
		"rules":       {summary: "list the rule catalog", run: runRules, stopWithin: stopGrace},
		"explain":     {summary: "print a rule's documentation", run: runExplain, stopWithin: stopGrace},
		"version":     {summary: "print the version", run: runVersion},
		"demo":        {summary: "run the GitHub App end to end against a built-in fake GitHub", run: runDemo},
		"serve":       {summary: "run the GitHub App (webhooks, queue, workers)", run: runServe},
		"register":    {summary: "register a GitHub App from app.yml (manifest flow)", run: runRegister},
		"healthcheck": {summary: "check that the local server is healthy (for the image's HEALTHCHECK)", run: runHealthcheck},
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		// The worker's analysis child (app/sandbox): not a user command.
		os.Exit(sandbox.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(mainExit(os.Args[1:]))
}

// mainExit runs a command with SIGINT and SIGTERM canceling its context.
// A command stopped by one exits with 128 plus the signal's number (130,
// 143), as shells report; one that does not stop within its stopWithin is
// ended then, never in the middle of writing its results.
func mainExit(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	got := make(chan os.Signal, 1)
	signal.Notify(got, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(got)
	done := make(chan struct{})
	defer close(done)
	signaled := make(chan os.Signal, 1)
	within := time.Duration(0)
	if len(args) > 0 {
		within = commands()[args[0]].stopWithin
	}
	go func() {
		select {
		case sig := <-got:
			signaled <- sig
			if within == 0 {
				return
			}
			select {
			case <-time.After(within):
			case <-done:
				return
			}
			stopping.writes.Lock() // wait for results being written, if any
			fmt.Fprintf(os.Stderr, "dockopt: stopped by %v\n", sig)
			os.Exit(signalExit(sig))
		case <-done:
		}
	}()
	code := run(ctx, args, os.Stdout, os.Stderr)
	if ctx.Err() != nil && code == exitUsage {
		// Stopped, not a usage error, unless the context ended otherwise.
		select {
		case sig := <-signaled:
			return signalExit(sig)
		case <-time.After(time.Second):
		}
	}
	return code
}

// stopping is shared by the signal handler and a command: a lock held
// while results are written, so that the process never ends with some of
// them written and others not.
var stopping struct {
	writes sync.Mutex
}

// signalExit is the exit status of a process ended by sig.
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitUsage
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	switch {
	case len(args) == 0:
		usage(stderr, cmds)
		return exitUsage
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		usage(stdout, cmds)
		return 0
	case args[0] == "help" && len(args) == 2:
		// `dockopt help analyze` is `dockopt analyze -h`.
		if c, ok := cmds[args[1]]; ok {
			return c.run(ctx, []string{"-h"}, stdout, stderr)
		}
		fmt.Fprintf(stderr, "dockopt help: unknown command %q\n\n", args[1])
		usage(stderr, cmds)
		return exitUsage
	case args[0] == "help":
		usage(stdout, cmds)
		return 0
	case args[0] == "--version" || args[0] == "-version":
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "dockopt: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: dockopt <command> [flags] [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun `dockopt <command> -h` for a command's flags; `dockopt --version` prints the version.")
}

// version is set by the release build with -ldflags; otherwise the
// module version recorded in the binary is used.
var version = ""

// moduleVersion is dockopt's version: the release's, else the module
// version the go command recorded (a tag, or a pseudo-version made of
// the commit), else "devel".
func moduleVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return moduleVersionOf(version, bi)
}

func moduleVersionOf(release string, bi *debug.BuildInfo) string {
	if release != "" {
		return release
	}
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionString is the module version, the VCS revision the binary was
// built from and the Go version, as `go version -m` shows them.
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return versionStringOf(version, bi)
}

func versionStringOf(release string, bi *debug.BuildInfo) string {
	v := moduleVersionOf(release, bi)
	if bi == nil {
		return v
	}
	var details []string
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += ", modified"
		}
		details = append(details, "revision "+rev)
	}
	if bi.GoVersion != "" {
		details = append(details, bi.GoVersion)
	}
	if len(details) == 0 {
		return v
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	const head = "usage: dockopt version\n       dockopt --version\n\nPrints dockopt's module version, the VCS revision it was built from, and the Go version.\n"
	if code, done := cli.Parse(fs, head, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dockopt version: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	fmt.Fprintf(stdout, "dockopt %s\n", versionString())
	return 0
}
