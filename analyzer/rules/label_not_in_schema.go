package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// LabelNotInSchema mirrors hadolint DL3050.
var LabelNotInSchema = &analyzer.Rule{
	ID:       "label-not-in-schema",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "Label not in the label schema while strict labels are on",
	Rationale: `With strict_labels (hadolint: strict-labels) a repository says its label schema is the complete ` +
		`list of labels its images may carry, so that tooling reading them sees one consistent vocabulary. A ` +
		`label outside the schema is then a typo or a label that was never agreed on.`,
	Bad:         "FROM alpine:3.20\nLABEL team=payments\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.vendor=acme\n",
	Equivalents: []string{"hadolint:DL3050"},
	Check: func(p *analyzer.Pass) {
		if p.Config == nil || !p.Config.StrictLabels {
			return
		}
		for in := range p.File.Each("LABEL") {
			for _, lp := range labelPairs(p.File, in) {
				if _, ok := p.Config.LabelSchema[lp.Key]; !ok && !lp.Dynamic {
					p.Reportf(in, "label %s is not in the label schema (strict labels are on)", lp.Key)
				}
			}
		}
	},
}
