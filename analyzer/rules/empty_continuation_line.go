package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// EmptyContinuationLine mirrors BuildKit's NoEmptyContinuation check.
var EmptyContinuationLine = &analyzer.Rule{
	ID:       "empty-continuation-line",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Empty line inside a line continuation",
	Rationale: `An empty line in the middle of a backslash-continued instruction is silently skipped today, ` +
		`but BuildKit has announced that it will become a syntax error, at which point the Dockerfile stops ` +
		`building. It also hides where an instruction really ends: a reader takes the blank line for the end of ` +
		`the RUN. Removing the blank line changes nothing in the build.`,
	Bad:         "RUN apt-get update \\\n\n    && apt-get install -y curl\n",
	Good:        "RUN apt-get update \\\n    && apt-get install -y curl\n",
	Equivalents: []string{"buildkit:NoEmptyContinuation"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		d := p.File
		// The parser reports each instruction once, on the last line of its
		// continuation; every blank line between its start and there is one.
		for _, line := range d.EmptyContinuationLines {
			in := instructionSpanning(d, line)
			if in == nil {
				continue
			}
			var edits []analyzer.TextEdit
			for l := in.StartLine + 1; l < line; l++ {
				if strings.TrimSpace(string(d.Source[d.Offset(l):d.LineEnd(l)])) == "" {
					edits = append(edits, deleteLines(d, l, l))
				}
			}
			var fix *analyzer.Fix
			if len(edits) > 0 {
				fix = &analyzer.Fix{Message: "delete the empty continuation lines", Edits: edits}
			}
			p.Report(in, "this instruction continues over an empty line, which BuildKit will reject in a future release; delete the empty line", fix)
		}
	},
}

// instructionSpanning returns the top-level instruction whose lines include line.
func instructionSpanning(d *analyzer.Dockerfile, line int) *analyzer.Instruction {
	for _, in := range d.Instructions {
		if in.StartLine <= line && line <= in.EndLine {
			return in
		}
	}
	return nil
}
