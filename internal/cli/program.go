package cli

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
)

// Command is one subcommand of a dockopt binary.
type Command struct {
	Summary string
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// StopWithin, when set, is how long the command may take to stop once
	// SIGINT or SIGTERM arrives; past it the process exits. Commands that
	// shut down gracefully (serve) leave it zero.
	StopWithin time.Duration
}

// Program is a binary made of subcommands: `dockopt` (the CLI) and
// `dockopt-app` (the GitHub App) share their conventions through it.
type Program struct {
	Name     string
	Commands map[string]Command
	// Elsewhere names commands another binary holds, with what to run
	// instead, so that `dockopt serve` says where serve went rather than
	// "unknown command".
	Elsewhere map[string]string
	// Release is the version stamped by a release build (-ldflags -X).
	Release string
}

// Writing is held while a command writes its results, so that a signal
// never ends the process with some of them written and others not.
var Writing sync.Mutex

// Main runs the command args name with SIGINT and SIGTERM canceling its
// context, and returns the exit status. A command stopped by one exits
// with 128 plus the signal's number (130, 143), as shells report; one that
// does not stop within its StopWithin is ended then, never in the middle
// of writing its results.
func (p Program) Main(args []string) int {
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
		within = p.commands()[args[0]].StopWithin
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
			Writing.Lock() // wait for results being written, if any
			fmt.Fprintf(os.Stderr, "%s: stopped by %v\n", p.Name, sig)
			os.Exit(signalExit(sig))
		case <-done:
		}
	}()
	code := p.Run(ctx, args, os.Stdout, os.Stderr)
	if ctx.Err() != nil && code == ExitUsage {
		// Stopped, not a usage error, unless the context ended otherwise.
		select {
		case sig := <-signaled:
			return signalExit(sig)
		case <-time.After(time.Second):
		}
	}
	return code
}

// signalExit is the exit status of a process ended by sig.
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitUsage
}

// commands is p's commands and its version command.
func (p Program) commands() map[string]Command {
	cmds := make(map[string]Command, len(p.Commands)+1)
	for name, c := range p.Commands {
		cmds[name] = c
	}
	cmds["version"] = Command{Summary: "print the version", Run: p.runVersion}
	return cmds
}

// Run runs the command args names, without signal handling (tests).
func (p Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := p.commands()
	switch {
	case len(args) == 0:
		p.usage(stderr, cmds)
		return ExitUsage
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		p.usage(stdout, cmds)
		return ExitOK
	case args[0] == "help" && len(args) == 2:
		// `dockopt help analyze` is `dockopt analyze -h`.
		if c, ok := cmds[args[1]]; ok {
			return c.Run(ctx, []string{"-h"}, stdout, stderr)
		}
		if p.elsewhere(stderr, args[1]) {
			return ExitUsage
		}
		fmt.Fprintf(stderr, "%s help: unknown command %q\n\n", p.Name, args[1])
		p.usage(stderr, cmds)
		return ExitUsage
	case args[0] == "help":
		p.usage(stdout, cmds)
		return ExitOK
	case args[0] == "--version" || args[0] == "-version":
		return p.runVersion(ctx, args[1:], stdout, stderr)
	}
	c, ok := cmds[args[0]]
	if !ok {
		if p.elsewhere(stderr, args[0]) {
			return ExitUsage
		}
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, args[0])
		p.usage(stderr, cmds)
		return ExitUsage
	}
	return c.Run(ctx, args[1:], stdout, stderr)
}

// elsewhere says where a command of another binary is, if name is one.
func (p Program) elsewhere(w io.Writer, name string) bool {
	instead, ok := p.Elsewhere[name]
	if ok {
		fmt.Fprintf(w, "%s: %q is not a command of %s: run %s\n", p.Name, name, p.Name, instead)
	}
	return ok
}

func (p Program) usage(w io.Writer, cmds map[string]Command) {
	fmt.Fprintf(w, "usage: %s <command> [flags] [arguments]\n", p.Name)
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].Summary)
	}
	if len(p.Elsewhere) > 0 {
		names = names[:0]
		for n := range p.Elsewhere {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(w, "\nelsewhere:")
		for _, n := range names {
			fmt.Fprintf(w, "  %-12s %s\n", n, p.Elsewhere[n])
		}
	}
	fmt.Fprintf(w, "\nRun `%s <command> -h` for a command's flags; `%s --version` prints the version.\n", p.Name, p.Name)
}

func (p Program) runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	head := fmt.Sprintf("usage: %[1]s version\n       %[1]s --version\n\nPrints %[1]s's module version, the VCS revision it was built from, and the Go version.\n", p.Name)
	if code, done := Parse(fs, head, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s version: unexpected argument %q\n", p.Name, fs.Arg(0))
		return ExitUsage
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintf(stdout, "%s %s\n", p.Name, VersionString(p.Release, bi))
	return ExitOK
}

// ModuleVersion is dockopt's version: the release's, else the module
// version the go command recorded (a tag, or a pseudo-version made of the
// commit), else "devel".
func ModuleVersion(release string, bi *debug.BuildInfo) string {
	if release != "" {
		return release
	}
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// VersionString is the module version, the VCS revision the binary was
// built from and the Go version, as `go version -m` shows them.
func VersionString(release string, bi *debug.BuildInfo) string {
	v := ModuleVersion(release, bi)
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
