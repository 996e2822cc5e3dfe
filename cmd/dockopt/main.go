// Command dockopt makes Dockerfiles production-ready: it analyzes them,
// writes optimized versions, proves they still build, and, as a GitHub App,
// opens a pull request with the changes and a report.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/dockopt/dockopt/app/sandbox"
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
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
	fmt.Fprintln(w, "\nRun `dockopt <command> -h` for a command's flags.")
}

// version is set by the release build with -ldflags; otherwise the module
// version or VCS revision is used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "dockopt %s\n", versionString())
	return 0
}
