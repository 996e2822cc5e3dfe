package main

import (
	"fmt"
	"io"
	"os"

	"github.com/dockopt/dockopt/analyzer"
)

type palette struct{ bold, red, yellow, blue, dim, green, reset string }

func newPalette(color string, tty bool) palette {
	on := color == "always" || (color == "auto" && tty && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb")
	if !on {
		return palette{}
	}
	return palette{bold: "\x1b[1m", red: "\x1b[31m", yellow: "\x1b[33m", blue: "\x1b[34m", dim: "\x1b[2m", green: "\x1b[32m", reset: "\x1b[0m"}
}

func (p palette) severity(s analyzer.Severity) string {
	switch s {
	case analyzer.SeverityError:
		return p.red + "error  " + p.reset
	case analyzer.SeverityWarning:
		return p.yellow + "warning" + p.reset
	}
	return p.blue + "info   " + p.reset
}

// writeText prints findings grouped by file, readable in a terminal.
func writeText(w io.Writer, files []*analyzer.FileResult, nc notCovered, p palette) error {
	total, fixable := 0, 0
	for _, f := range files {
		label := f.Kind
		if label == "" {
			label = "unreadable"
		}
		if f.Role != "" {
			label += ", " + string(f.Role)
		}
		fmt.Fprintf(w, "%s%s%s %s(%s)%s\n", p.bold, f.Path, p.reset, p.dim, label, p.reset)
		if f.Error != "" {
			fmt.Fprintf(w, "  %serror%s    %s\n", p.red, p.reset, f.Error)
		}
		for _, l := range f.Limits {
			fmt.Fprintf(w, "  %slimit%s    %s\n", p.yellow, p.reset, l)
		}
		for _, s := range f.Strengths {
			fmt.Fprintf(w, "  %s✓%s %s\n", p.green, p.reset, s.Message)
		}
		for _, fd := range f.Findings {
			fix := ""
			if fd.Fix != nil {
				fix = fmt.Sprintf(" %s[fix: %s]%s", p.dim, fd.Fix.Safety, p.reset)
				fixable++
			}
			fmt.Fprintf(w, "  %4d  %s  %s%s%s  %s%s\n", fd.Line, p.severity(fd.Severity), p.dim, fd.Rule, p.reset, fd.Message, fix)
			total++
		}
		if f.Error == "" && len(f.Findings) == 0 {
			fmt.Fprintf(w, "  %sno findings%s\n", p.green, p.reset)
		}
		fmt.Fprintln(w)
	}
	// What the analysis did not cover, besides the files above.
	said := false
	for _, s := range nc.unread {
		fmt.Fprintf(w, "%snot read%s  %s: %s\n", p.yellow, p.reset, s.Path, s.Reason)
		said = true
	}
	for _, l := range nc.limits {
		if l.Path == "" {
			fmt.Fprintf(w, "%slimit%s     %s\n", p.yellow, p.reset, l.Message)
			said = true
		}
	}
	if said {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "%d Dockerfiles, %d findings, %d with a fix (`dockopt analyze --out DIR` writes them; `dockopt explain RULE` says why)\n", len(files), total, fixable)
	return err
}
