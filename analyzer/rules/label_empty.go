package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// LabelEmpty mirrors hadolint DL3051.
var LabelEmpty = &analyzer.Rule{
	ID:       "label-empty",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Label from the label schema is empty",
	Rationale: `A label the repository's schema requires is only useful with a value: an empty one satisfies ` +
		`a presence check while telling the reader nothing, which usually means a build argument was not ` +
		`passed or a placeholder was left behind.`,
	Bad:         "FROM alpine:3.20\nLABEL org.opencontainers.image.revision=\"\"\n",
	Good:        "FROM alpine:3.20\nARG REVISION\nLABEL org.opencontainers.image.revision=$REVISION\n",
	Equivalents: []string{"hadolint:DL3051"},
	Check: func(p *analyzer.Pass) {
		schemaLabels(p, "", func(in *analyzer.Instruction, lp labelPair) {
			if !lp.Dynamic && lp.Value == "" {
				p.Reportf(in, "label %s is empty", lp.Key)
			}
		})
	},
}
