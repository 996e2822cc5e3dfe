package rules

import (
	"strconv"

	"github.com/dockopt/dockopt/analyzer"
)

// SingleHealthcheck mirrors hadolint DL3012.
var SingleHealthcheck = &analyzer.Rule{
	ID:       "single-healthcheck",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityError,
	Title:    "More than one HEALTHCHECK in a stage",
	Rationale: `Only the last HEALTHCHECK of a stage takes effect; the earlier ones are silently discarded. A reader ` +
		`who finds the first one believes the container is probed that way, and edits to it change nothing. ` +
		`The fix deletes the overridden instruction, which changes nothing in the image.`,
	Bad:         "HEALTHCHECK CMD curl -f http://localhost/ || exit 1\nHEALTHCHECK CMD wget -q -O- http://localhost/health\n",
	Good:        "HEALTHCHECK CMD wget -q -O- http://localhost/health\n",
	Equivalents: []string{"hadolint:DL3012", "trivy:DS023"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			var prev *analyzer.Instruction
			for _, in := range s.Instructions {
				if in.Keyword != "HEALTHCHECK" {
					continue
				}
				if prev != nil {
					end := p.File.Offset(prev.EndLine + 1)
					if prev.EndLine >= p.File.LineCount() {
						end = len(p.File.Source)
					}
					fix := &analyzer.Fix{
						Message: "delete the HEALTHCHECK it overrides",
						Edits:   []analyzer.TextEdit{{Start: p.File.Offset(prev.StartLine), End: end}},
					}
					p.Report(in, "this HEALTHCHECK overrides the one on line "+strconv.Itoa(prev.StartLine)+", which never takes effect", fix)
				}
				prev = in
			}
		}
	},
}
