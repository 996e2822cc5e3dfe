package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// AptPinVersions mirrors hadolint DL3008.
var AptPinVersions = &analyzer.Rule{
	ID:       "apt-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "apt-get install without package versions",
	Rationale: `Without versions, two builds of the same commit can install different packages, which makes a ` +
		`regression hard to trace to its cause. Pinning has a real cost, though: Debian and Ubuntu mirrors drop ` +
		`superseded versions, so a pinned build breaks weeks later until someone bumps the pin. That is why ` +
		`this is only information, and why dockopt never writes a version for you; pin where reproducibility ` +
		`matters more than that upkeep, or pin the base image by digest instead. Packages given as a target ` +
		`release (curl/bookworm-backports) or a .deb file are not reported.`,
	Bad:            "RUN apt-get install -y --no-install-recommends curl\n",
	Good:           "RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8\n",
	Equivalents:    []string{"hadolint:DL3008"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get") {
				if c.Subcommand(aptGetValued...) != "install" {
					continue
				}
				pkgs := unpinned(afterSubcommand(c, aptGetValued...), func(v string) bool {
					return strings.ContainsAny(v, "=/") || strings.HasSuffix(v, ".deb")
				})
				if len(pkgs) > 0 {
					p.Reportf(in, "apt-get install without versions: %s (pin as package=version if builds must be reproducible)", listWords(pkgs))
				}
			}
		}
	},
}
