package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ZypperPinVersions mirrors hadolint DL3037.
var ZypperPinVersions = &analyzer.Rule{
	ID:       "zypper-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "zypper install without package versions",
	Rationale: `Without a version, zypper installs whatever the repository offers on the day of the build, so ` +
		`two builds of the same commit can differ. Pinning makes builds repeatable, but pinned versions ` +
		`disappear from the mirrors and break the build months later, which is why dockopt reports this only ` +
		`at info and never invents a version.`,
	Bad:            "FROM opensuse/leap:15.6\nRUN zypper -n install curl\n",
	Good:           "FROM opensuse/leap:15.6\nRUN zypper -n install curl=8.6.0\n",
	Equivalents:    []string{"hadolint:DL3037"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("zypper") {
				sub, ok := zypperSubcommand(c)
				if !ok || (sub.Value != "install" && sub.Value != "in") || zypperNonPackageType(c) {
					continue
				}
				var unpinned []string
				seenSub := false
				for _, w := range c.Positional(append([]string{"-t", "--type", "-r", "--repo", "--from"}, zypperGlobalValued...)...) {
					if !seenSub {
						seenSub = w.Start == sub.Start
						continue
					}
					if w.Dynamic || strings.ContainsAny(w.Value, "=<>") || strings.HasSuffix(w.Value, ".rpm") {
						continue
					}
					unpinned = append(unpinned, w.Value)
				}
				if len(unpinned) > 0 {
					p.Report(in, "zypper installs unpinned packages: "+strings.Join(unpinned, ", "), nil)
				}
			}
		}
	},
}

// zypperNonPackageType reports `-t pattern` and the like: patterns,
// patches and products are not versioned like packages.
func zypperNonPackageType(c analyzer.Command) bool {
	for i, a := range c.Args {
		v := a.Value
		if (v == "-t" || v == "--type") && i+1 < len(c.Args) {
			v = "--type=" + c.Args[i+1].Value
		}
		if t, ok := strings.CutPrefix(v, "--type="); ok && t != "package" {
			return true
		}
	}
	return false
}
