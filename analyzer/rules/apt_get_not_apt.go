package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// AptGetNotApt mirrors hadolint DL3027.
var AptGetNotApt = &analyzer.Rule{
	ID:       "apt-get-not-apt",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "apt used in a script instead of apt-get or apt-cache",
	Rationale: `apt is the interactive front end: its output and options may change between releases, and it says ` +
		`so itself ("apt does not have a stable CLI interface") each time it runs without a terminal. apt-get and ` +
		`apt-cache do the same work with an interface Debian keeps stable for scripts. The fix renames the ` +
		`command only where the subcommand means the same thing to apt-get or apt-cache: not for apt upgrade, ` +
		`which installs new dependencies that apt-get upgrade holds back.`,
	Bad:            "RUN apt update && apt install -y --no-install-recommends curl\n",
	Good:           "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	Equivalents:    []string{"hadolint:DL3027"},
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		src := p.File.Source
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			var edits []analyzer.TextEdit
			var subs []string
			for _, c := range in.Script.CommandsNamed("apt") {
				sub := c.Subcommand(aptGetValued...)
				subs = append(subs, sub)
				tool := aptReplacement[sub]
				name := c.Call.Args[len(c.Prefix)]
				start, end := in.Script.Pos(name.Pos()), in.Script.End(name.End())
				// Only a bare, unquoted `apt` (or a path ending in it) is renamed.
				if tool == "" || !in.Script.Exact() || end-start < 3 || string(src[end-3:end]) != "apt" {
					edits = nil
					break
				}
				edits = append(edits, analyzer.TextEdit{Start: end - 3, End: end, New: tool})
			}
			if len(subs) == 0 {
				continue
			}
			var fix *analyzer.Fix
			if len(edits) > 0 {
				fix = &analyzer.Fix{Message: "use apt-get / apt-cache", Edits: edits}
			}
			p.Report(in, "apt is meant for interactive use; use apt-get or apt-cache in a Dockerfile", fix)
		}
	},
}

// aptReplacement maps apt subcommands to the stable tool that has the same
// subcommand with the same meaning.
var aptReplacement = map[string]string{
	// Not upgrade: apt's installs new dependencies, apt-get's holds the
	// packages that need them back.
	"install": "apt-get", "update": "apt-get", "dist-upgrade": "apt-get",
	"remove": "apt-get", "purge": "apt-get", "autoremove": "apt-get", "clean": "apt-get",
	"autoclean": "apt-get", "build-dep": "apt-get", "source": "apt-get", "download": "apt-get",
	"satisfy": "apt-get", "changelog": "apt-get",
	"search": "apt-cache", "show": "apt-cache", "policy": "apt-cache", "depends": "apt-cache",
	"rdepends": "apt-cache", "showsrc": "apt-cache",
}
