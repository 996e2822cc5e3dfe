package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/cli"
	"github.com/dockopt/dockopt/internal/workers"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/templates"
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
//
// Its closing line states the figures the report and the pull-request body
// state (templates.Summary), so that the three agree. afterFix is set when
// --fix has written the changes: the findings are then those that remain,
// and the fixes counted those not applied; reviewApplied says whether
// review fixes were among those applied.
//
// notApplied, after --fix, lists by file the fixes the patch left out for a
// reason other than --apply (which the closing line states), so that a
// finding still offering a fix says why it is still there.
func writeText(out io.Writer, files []*analyzer.FileResult, notApplied map[string][]jsonNotApplied, nc notCovered, figs templates.Figures, p palette, afterFix, reviewApplied bool) error {
	// Buffered: a write per line made thousands of system calls for a
	// folder of Dockerfiles.
	w := bufio.NewWriter(out)
	err := writeTextLines(w, files, notApplied, nc, figs, p, afterFix, reviewApplied)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

func writeTextLines(w io.Writer, files []*analyzer.FileResult, notApplied map[string][]jsonNotApplied, nc notCovered, figs templates.Figures, p palette, afterFix, reviewApplied bool) error {
	total, fixable, err := writeTextFiles(w, files, func(w io.Writer, f *analyzer.FileResult) (total, fixable int) {
		return writeTextFile(w, f, notApplied, p, afterFix)
	})
	if err != nil {
		return err
	}
	// What the analysis did not cover, besides the files above.
	said := false
	for _, s := range nc.unread {
		fmt.Fprintf(w, "%snot read%s  %s: %s\n", p.yellow, p.reset, analyzer.PrintableName(s.Path), s.Reason)
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
	if afterFix {
		hint := "`--apply review` applies those a person should look at; "
		if reviewApplied {
			hint = ""
		}
		_, err = fmt.Fprintf(w, "%s, %s remaining after the fixes, %d with a fix not applied (%s`dockopt explain RULE` says why)\n",
			cli.Plural(len(files), "Dockerfile"), cli.Plural(total, "finding"), fixable, hint)
		return err
	}
	line := cli.Plural(figs.Dockerfiles, "Dockerfile") + ", " + cli.Plural(figs.Findings, "finding")
	if figs.Changed > 0 {
		line += fmt.Sprintf("; the proposed changes to %s resolve %d and leave %d", cli.Plural(figs.Changed, "file"), figs.Resolved, figs.Left)
		if figs.New > 0 {
			line += fmt.Sprintf(", %d of them new", figs.New)
		}
		line += " (`dockopt explain RULE` says why)"
	} else {
		// Nothing was patched: say how many findings have a fix, and
		// how to get the figures the report states.
		line += fmt.Sprintf(", %d with a fix (`dockopt analyze --out DIR` writes them; `dockopt explain RULE` says why)", fixable)
	}
	_, err = fmt.Fprintln(w, line)
	return err
}

// writeTextFile writes what the analysis of one file found, and returns
// how many findings it listed and how many of them have a fix.
func writeTextFile(w io.Writer, f *analyzer.FileResult, notApplied map[string][]jsonNotApplied, p palette, afterFix bool) (total, fixable int) {
	label := f.Kind
	if label == "" && !f.Template {
		label = "unreadable"
	}
	if f.Role != "" {
		label += ", " + string(f.Role)
	}
	switch {
	case f.Template && label == "":
		// A template need not read as a Dockerfile; the note says so.
		label = "template"
	case f.Template:
		label += ", template"
	case f.Generated != nil && f.Generated.Template != "":
		label += ", generated from " + f.Generated.Template
	case f.Generated != nil:
		label += ", generated"
	}
	fmt.Fprintf(w, "%s%s%s %s(%s)%s\n", p.bold, analyzer.PrintableName(f.Path), p.reset, p.dim, label, p.reset)
	switch {
	case f.Error != "" && f.Template:
		// Not a failure: BuildKit never reads a template.
		fmt.Fprintf(w, "  %snote%s     %s\n", p.dim, p.reset, f.Error)
	case f.Error != "":
		fmt.Fprintf(w, "  %serror%s    %s\n", p.red, p.reset, f.Error)
	}
	for _, l := range f.Limits {
		fmt.Fprintf(w, "  %slimit%s    %s\n", p.yellow, p.reset, l)
	}
	for _, s := range f.Strengths {
		fmt.Fprintf(w, "  %s✓%s %s\n", p.green, p.reset, s.Message)
	}
	// Findings that files generated from one template share are
	// printed once, under the file that leads the group.
	shared := map[string]int{}
	var leads []string
	for _, fd := range f.Findings {
		if fd.Repeats() {
			lead := fd.Group.Files[0].Path
			if shared[lead] == 0 {
				leads = append(leads, lead)
			}
			shared[lead]++
			continue
		}
		fix := ""
		if fd.Fix != nil {
			fix = fmt.Sprintf(" %s[fix: %s]%s", p.dim, fd.Fix.Safety, p.reset)
			fixable++
		}
		note := ""
		if fd.Group != nil {
			note = fmt.Sprintf(" %s(%s)%s", p.dim, fd.Group.Note(), p.reset)
		}
		fmt.Fprintf(w, "  %4d  %s  %s%s%s  %s%s%s\n", fd.Line, p.severity(fd.Severity), p.dim, fd.Rule, p.reset, fd.Message, note, fix)
		total++
	}
	for _, lead := range leads {
		what := cli.Plural(shared[lead], "more finding") + " are"
		if shared[lead] == 1 {
			what = "1 more finding is"
		}
		fmt.Fprintf(w, "  %s%s the same in %s, generated from the same template, and listed there%s\n", p.dim, what, analyzer.PrintableName(lead), p.reset)
	}
	if afterFix {
		for _, d := range notApplied[f.Path] {
			if d.Reason == patcher.ReasonPolicy {
				continue
			}
			fmt.Fprintf(w, "  %snot applied%s  %s%s%s line %d: %s: %s\n", p.yellow, p.reset, p.dim, d.Rule, p.reset, d.Line, d.Message, d.Reason)
		}
	}
	if f.Error == "" && len(f.Findings) == 0 {
		fmt.Fprintf(w, "  %sno findings%s\n", p.green, p.reset)
	}
	fmt.Fprintln(w)
	return total, fixable
}

// textWindow is how many files writeTextFiles formats at once.
const textWindow = 64

// writeTextFiles writes each file's section, formatted by format, in
// order; the sections of a window of files are formatted at once on every
// core, since formatting, done once every file was analyzed, had one core
// to itself while the others waited.
func writeTextFiles(w io.Writer, files []*analyzer.FileResult, format func(io.Writer, *analyzer.FileResult) (total, fixable int)) (total, fixable int, err error) {
	cores := max(1, min(runtime.GOMAXPROCS(0), 4))
	sections := make([]bytes.Buffer, textWindow)
	counts := make([][2]int, textWindow)
	for start := 0; start < len(files); start += textWindow {
		window := files[start:min(start+textWindow, len(files))]
		workers.Each(context.Background(), len(window), cores, func(_, i int) {
			sections[i].Reset()
			t, fx := format(&sections[i], window[i])
			counts[i] = [2]int{t, fx}
		})
		for i := range window {
			total += counts[i][0]
			fixable += counts[i][1]
			if _, err := w.Write(sections[i].Bytes()); err != nil {
				return total, fixable, err
			}
		}
	}
	return total, fixable, nil
}
