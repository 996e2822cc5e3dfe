package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ApkPinVersions mirrors hadolint DL3018.
var ApkPinVersions = &analyzer.Rule{
	ID:       "apk-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "apk add without package versions",
	Rationale: `Unpinned packages make two builds of one commit differ. But Alpine keeps only the current version ` +
		`of each package in a branch, so an exact pin (curl=8.9.1-r0) breaks the build as soon as a security ` +
		`update lands. Prefer a constraint that follows fixes (curl~8.9) or pin the base image by digest; this ` +
		`is information only and dockopt never writes a version for you. Constraints written with =, ~, < or > ` +
		`and local .apk files are accepted.`,
	Bad:            "RUN apk add --no-cache curl\n",
	Good:           "RUN apk add --no-cache curl~8.9\n",
	Equivalents:    []string{"hadolint:DL3018"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apk") {
				if c.Subcommand(apkValued...) != "add" {
					continue
				}
				pkgs := unpinned(afterSubcommand(c, apkValued...), func(v string) bool {
					return strings.ContainsAny(v, "=~<>/") || strings.HasSuffix(v, ".apk")
				})
				if len(pkgs) > 0 {
					p.Reportf(in, "apk add without versions: %s (pin as package~version if builds must be reproducible)", listWords(pkgs))
				}
			}
		}
	},
}
