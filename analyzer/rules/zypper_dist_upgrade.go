package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ZypperDistUpgrade mirrors hadolint DL3035.
var ZypperDistUpgrade = &analyzer.Rule{
	ID:       "zypper-dist-upgrade",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "zypper dist-upgrade inside an image build",
	Rationale: `zypper dist-upgrade may move the image to a new distribution release, replacing and removing ` +
		`packages behind the base image's back, so the image no longer matches the tag it was built from and ` +
		`two builds a week apart can differ widely. To get a newer system, move FROM to a newer base image; ` +
		`to get fixes, zypper update or patch is enough. On openSUSE Tumbleweed, a rolling release, ` +
		`dist-upgrade is the normal way to update, so dockopt stays quiet there and reports this only at info.`,
	Bad:            "FROM opensuse/leap:15.6\nRUN zypper -n dist-upgrade\n",
	Good:           "FROM opensuse/leap:15.6\nRUN zypper -n patch\n",
	Equivalents:    []string{"hadolint:DL3035"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			if s := stageOf(in); s != nil && strings.Contains(s.Root().Base.Repository, "tumbleweed") {
				continue
			}
			for _, c := range in.Script.CommandsNamed("zypper") {
				if sub, ok := zypperSubcommand(c); ok && (sub.Value == "dist-upgrade" || sub.Value == "dup") {
					p.Report(in, "zypper "+sub.Value+" can switch the image to another distribution release; use a newer base image instead", nil)
				}
			}
		}
	},
}
