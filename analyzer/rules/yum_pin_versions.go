package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// YumPinVersions mirrors hadolint DL3033.
var YumPinVersions = &analyzer.Rule{
	ID:       "yum-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "yum install without package versions",
	Rationale: `Without versions, builds of the same commit can install different packages. Repositories do drop ` +
		`old versions, so a pin also needs upkeep: this is information only, and dockopt never writes a version ` +
		`for you. A package counts as pinned when its last dash-separated part starts with a digit ` +
		`(httpd-2.4.6, httpd-2.4.6-99.el7), which, unlike hadolint's "any dash", does not mistake names such as ` +
		`python3-devel for versions. yum module install takes a stream (nodejs:20). Groups (@name), paths, URLs ` +
		`and .rpm files are not reported, nor versions held in a variable, which the base image may set.`,
	Bad:            "RUN yum install -y httpd && yum clean all\n",
	Good:           "RUN yum install -y httpd-2.4.6 && yum clean all\n",
	Equivalents:    []string{"hadolint:DL3033"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("yum") {
				pos := c.Positional(yumValued...)
				pinned, what := yumPinned, "yum install without versions: %s (pin as package-version if builds must be reproducible)"
				switch {
				case len(pos) > 0 && pos[0].Value == "install":
					pos = pos[1:]
				case len(pos) > 1 && pos[0].Value == "module" && pos[1].Value == "install":
					// A module is pinned by its stream: nodejs:20.
					pos, pinned = pos[2:], func(v string) bool { return strings.Contains(v, ":") || yumPinned(v) }
					what = "yum module install without a stream: %s (name one as module:stream)"
				default:
					continue
				}
				pkgs := unpinned(pos, pinned)
				if len(pkgs) > 0 {
					p.Reportf(in, what, listWords(pkgs))
				}
			}
		}
	},
}

func yumPinned(v string) bool {
	if strings.HasPrefix(v, "@") || strings.Contains(v, "/") || strings.HasSuffix(v, ".rpm") {
		return true
	}
	i := strings.LastIndex(v, "-")
	return i >= 0 && i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9'
}
