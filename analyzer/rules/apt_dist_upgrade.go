package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// AptDistUpgrade mirrors hadolint DL3005 in the narrow form hadolint last
// gave it (dist-upgrade only): a plain upgrade is legitimate, and hadolint
// itself dropped its rules against upgrading.
//
// It only reports. apt-get upgrade holds back every update that needs a
// new package or the removal of one, so replacing dist-upgrade with it (or
// deleting the dist-upgrade next to an upgrade) silently changes which
// updates the image gets: whether that is wanted is the maintainer's call.
var AptDistUpgrade = &analyzer.Rule{
	ID:       "apt-dist-upgrade",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "apt-get dist-upgrade in a Dockerfile",
	Rationale: `apt-get dist-upgrade (apt full-upgrade) may remove packages and pull in new ones to satisfy ` +
		`changed dependencies, so the image no longer matches the base image its tag names, and what is ` +
		`removed depends on the day of the build. apt-get upgrade removes nothing, but it also holds back ` +
		`the updates that need a new package (apt upgrade installs those, and holds back only what needs a ` +
		`removal), so switching to it changes which updates the image gets; ` +
		`for larger changes, move to a newer base image tag. Upgrading packages as such is fine. dockopt ` +
		`reports this and proposes no edit: which updates the image should take is the maintainer's choice.`,
	Bad:            "RUN apt-get update && apt-get dist-upgrade -y\n",
	Good:           "RUN apt-get update && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*\n",
	Equivalents:    []string{"hadolint:DL3005"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get", "apt") {
				for _, a := range c.Args {
					if a.Value != "dist-upgrade" && a.Value != "full-upgrade" {
						continue
					}
					// apt upgrade, unlike apt-get upgrade, installs new
					// packages; neither removes any.
					held := "the updates that need new packages or the removal of one"
					if c.Name == "apt" {
						held = "the updates that need a package removed"
					}
					p.Report(in, c.Name+" "+a.Value+" may remove packages and add new ones the base image does not have; "+
						"no fix: "+c.Name+" upgrade would hold back "+held+", so which one to run is the maintainer's choice", nil)
					break
				}
			}
		}
	},
}
