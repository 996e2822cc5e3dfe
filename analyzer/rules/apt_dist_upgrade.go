package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// AptDistUpgrade mirrors hadolint DL3005 in the narrow form hadolint last
// gave it (dist-upgrade only): a plain upgrade is legitimate, and hadolint
// itself dropped its rules against upgrading.
var AptDistUpgrade = &analyzer.Rule{
	ID:       "apt-dist-upgrade",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "apt-get dist-upgrade in a Dockerfile",
	Rationale: `apt-get dist-upgrade (apt full-upgrade) may remove packages and pull in new ones to satisfy ` +
		`changed dependencies, so the image no longer matches the base image its tag names, and what is ` +
		`removed depends on the day of the build. apt-get upgrade applies security updates without removing ` +
		`anything; for larger changes, move to a newer base image tag. Upgrading packages as such is fine.`,
	Bad:         "RUN apt-get update && apt-get dist-upgrade -y\n",
	Good:        "RUN apt-get update && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*\n",
	Equivalents: []string{"hadolint:DL3005"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get", "apt") {
				for _, a := range c.Args {
					if a.Value != "dist-upgrade" && a.Value != "full-upgrade" {
						continue
					}
					var fix *analyzer.Fix
					if in.Script.Exact() && !a.Dynamic && a.End-a.Start == len(a.Value) {
						fix = &analyzer.Fix{Message: "use upgrade, which removes nothing",
							Edits: []analyzer.TextEdit{{Start: a.Start, End: a.End, New: "upgrade"}}}
					}
					p.Report(in, c.Name+" "+a.Value+" may remove packages and add new ones the base image does not have; use "+c.Name+" upgrade", fix)
					break
				}
			}
		}
	},
}
