// Package cli holds the conventions every dockopt subcommand keeps, so
// that they cannot drift apart: -h and --help print the usage to standard
// output and exit 0; a flag that cannot be parsed prints the error and the
// usage to standard error and exits 2.
package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Exit codes shared by the subcommands.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Parse parses args with fs. head is printed before the flags: the usage
// line and what the command does. It returns done when the command must
// stop now, with code as its exit status (help asked for, or bad flags).
func Parse(fs *flag.FlagSet, head string, args []string, stdout, stderr io.Writer) (code int, done bool) {
	fs.Usage = func() {} // printed below, to the stream the case calls for
	var msg bytes.Buffer
	fs.SetOutput(&msg)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	fs.Usage = func() { Usage(fs, head, stderr) }
	switch {
	case errors.Is(err, flag.ErrHelp):
		Usage(fs, head, stdout)
		return ExitOK, true
	case err != nil:
		stderr.Write(msg.Bytes())
		Usage(fs, head, stderr)
		return ExitUsage, true
	}
	return ExitOK, false
}

// Usage prints head, then the flags of fs if it has any.
func Usage(fs *flag.FlagSet, head string, w io.Writer) {
	fmt.Fprint(w, head)
	if head != "" && head[len(head)-1] != '\n' {
		fmt.Fprintln(w)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// Plural returns "1 Dockerfile" or "2 Dockerfiles": n and the word, with
// an s unless n is 1. plural, when given, is the irregular plural.
func Plural(n int, word string, plural ...string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if len(plural) > 0 {
		return fmt.Sprintf("%d %s", n, plural[0])
	}
	return fmt.Sprintf("%d %ss", n, word)
}
