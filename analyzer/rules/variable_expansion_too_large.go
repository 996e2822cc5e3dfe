package rules

import "github.com/dockopt/dockopt/analyzer"

// VariableExpansionTooLarge reports what the model found while parsing:
// ARG or ENV values that grow past what any build can hold.
var VariableExpansionTooLarge = &analyzer.Rule{
	ID:       "variable-expansion-too-large",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "ARG or ENV values expand past 1 MiB",
	Rationale: `BuildKit substitutes ARG and ENV values while it converts a Dockerfile, in memory and ` +
		`without a limit. A value that refers to an earlier one twice doubles with every line, so a ` +
		`few dozen lines ask for more memory than any machine has: the build (or any tool that converts the ` +
		`file the way BuildKit does) is killed. Real values are at most a few kilobytes; dockopt refuses to ` +
		`convert a file whose values would pass 1 MiB in one instruction or 16 MiB in all, reports the line ` +
		`where the growth crosses the bound, and analyzes the rest of the file without BuildKit's checks.`,
	Bad:  "FROM alpine:3.20\nENV A=xxxxxxxx\nENV B=${A}${A}\nENV C=${B}${B}\n# … 60 more doublings\n",
	Good: "FROM alpine:3.20\nENV A=xxxxxxxx\n",
	Check: func(p *analyzer.Pass) {
		xerr := p.File.Expansion
		if xerr == nil {
			return
		}
		for in := range p.File.Each("") {
			if in.StartLine <= xerr.Line && xerr.Line <= in.EndLine {
				p.Report(in, xerr.Reason(), nil)
				return
			}
		}
	},
}
