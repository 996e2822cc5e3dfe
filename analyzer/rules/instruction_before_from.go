package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// InstructionBeforeFrom mirrors hadolint DL3061.
var InstructionBeforeFrom = &analyzer.Rule{
	ID:       "instruction-before-from",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "Instruction other than ARG before the first FROM",
	Rationale: `Only ARG (and parser directives and comments) may come before the first FROM: there is no ` +
		`image yet for anything else to act on, so the builder rejects the Dockerfile.`,
	Bad:         "LABEL team=web\nFROM alpine:3.20\n",
	Good:        "FROM alpine:3.20\nLABEL team=web\n",
	Equivalents: []string{"hadolint:DL3061"},
	Check: func(p *analyzer.Pass) {
		for _, in := range p.File.Instructions {
			if in.Keyword == "FROM" {
				return
			}
			if in.Keyword != "ARG" {
				p.Reportf(in, "%s before the first FROM; the build fails", in.Keyword)
			}
		}
	},
}
