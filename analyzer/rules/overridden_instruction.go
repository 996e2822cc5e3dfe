package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

// OverriddenInstruction mirrors BuildKit's MultipleInstructionsDisallowed and
// hadolint DL4003 (CMD) and DL4004 (ENTRYPOINT).
var OverriddenInstruction = &analyzer.Rule{
	ID:       "overridden-instruction",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "CMD, ENTRYPOINT or HEALTHCHECK overridden later in the same stage",
	Rationale: `A stage keeps only the last CMD, ENTRYPOINT and HEALTHCHECK; an earlier one has no effect at all. ` +
		`Readers still take it for what the container runs, and it usually survives from an edit that meant to ` +
		`replace it. Deleting the overridden instruction leaves the image exactly as it was. The finding is on ` +
		`the instruction that is ignored, as BuildKit reports it.`,
	Bad:         "FROM node:20\nCMD [\"npm\", \"start\"]\nCMD [\"node\", \"server.js\"]\n",
	Good:        "FROM node:20\nCMD [\"node\", \"server.js\"]\n",
	Equivalents: []string{"buildkit:MultipleInstructionsDisallowed", "hadolint:DL4003", "hadolint:DL4004", "trivy:DS016"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		d := p.File
		for _, s := range d.Stages {
			last := map[string]*analyzer.Instruction{}
			for _, in := range s.Instructions {
				switch in.Keyword {
				case "CMD", "ENTRYPOINT", "HEALTHCHECK":
				default:
					continue
				}
				if prev := last[in.Keyword]; prev != nil {
					fix := &analyzer.Fix{
						Message: fmt.Sprintf("delete the %s that line %d overrides", prev.Keyword, in.StartLine),
						Edits:   []analyzer.TextEdit{deleteInstruction(d, prev)},
					}
					p.Report(prev, fmt.Sprintf("this %s has no effect: the %s on line %d replaces it in the same stage", prev.Keyword, in.Keyword, in.StartLine), fix)
				}
				last[in.Keyword] = in
			}
		}
	},
}
