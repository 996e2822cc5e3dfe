package rules

import (
	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// MaintainerDeprecated mirrors BuildKit's MaintainerDeprecated and hadolint DL4000.
var MaintainerDeprecated = &analyzer.Rule{
	ID:       "maintainer-deprecated",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "MAINTAINER is deprecated",
	Rationale: `MAINTAINER has been deprecated for years: it fills a legacy "Author" field that registries and ` +
		`scanners ignore. The OCI label org.opencontainers.image.authors carries the same information where tools ` +
		`actually look for it (registries, SBOMs, docker inspect), and it can be queried like any other label.`,
	Bad:         "FROM alpine:3.20\nMAINTAINER Jane Doe <jane@example.com>\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.authors=\"Jane Doe <jane@example.com>\"\n",
	Equivalents: []string{"buildkit:MaintainerDeprecated", "hadolint:DL4000", "trivy:DS022"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		d := p.File
		for _, in := range d.Instructions {
			c, ok := in.Command.(*instructions.MaintainerCommand)
			if in.Keyword != "MAINTAINER" || !ok {
				continue
			}
			var fix *analyzer.Fix
			if !hasCommentLine(d, in) {
				label := matchCase("LABEL", in.Written)
				fix = &analyzer.Fix{
					Message: "replace MAINTAINER with the org.opencontainers.image.authors label",
					Edits: []analyzer.TextEdit{{Start: in.Start, End: in.ContentEnd(d.Source),
						New: label + " org.opencontainers.image.authors=" + dockerfileQuote(c.Maintainer, d.Escape)}},
				}
			}
			p.Report(in, "MAINTAINER is deprecated; record the author in the org.opencontainers.image.authors label", fix)
		}
	},
}
