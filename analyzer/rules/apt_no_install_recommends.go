package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// AptNoInstallRecommends mirrors hadolint DL3015.
var AptNoInstallRecommends = &analyzer.Rule{
	ID:       "apt-no-install-recommends",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "apt-get install without --no-install-recommends",
	Rationale: `By default apt also installs every package the requested ones merely recommend: documentation, ` +
		`optional helpers, sometimes whole language runtimes. They are rarely needed in a container, add tens ` +
		`of megabytes and widen the attack surface. Ask for exactly what the image needs.`,
	Bad:         "RUN apt-get update && apt-get install -y curl\n",
	Good:        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	Equivalents: []string{"hadolint:DL3015", "trivy:DS029"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get") {
				if c.Subcommand("-o", "-t", "-c") != "install" ||
					c.Has("--no-install-recommends") || c.HasPrefixArg("-oAPT::Install-Recommends=false") ||
					c.HasPrefixArg("APT::Install-Recommends=false") {
					continue
				}
				var fix *analyzer.Fix
				if in.Script.Exact() {
					sub := installWord(c)
					fix = &analyzer.Fix{
						Message: "add --no-install-recommends",
						Edits:   []analyzer.TextEdit{{Start: sub.End, End: sub.End, New: " --no-install-recommends"}},
					}
				}
				p.Report(in, "apt-get install also pulls in recommended packages; add --no-install-recommends", fix)
			}
		}
	},
}

// installWord returns the "install" argument of a package-manager command.
func installWord(c analyzer.Command) analyzer.Word {
	for _, a := range c.Args {
		if a.Value == "install" {
			return a
		}
	}
	return c.Args[len(c.Args)-1]
}
