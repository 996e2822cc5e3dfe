package rules

import (
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ExposePortRange mirrors hadolint DL3011.
var ExposePortRange = &analyzer.Rule{
	ID:       "expose-port-range",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "EXPOSE port outside 0-65535",
	Rationale: `TCP and UDP ports are 16-bit numbers. A larger number in EXPOSE is a typo (an extra digit, a ` +
		`host:container mapping written the wrong way) that the image carries as metadata; any tool that maps ` +
		`it will fail later, far from the cause.`,
	Bad:            "EXPOSE 80800\n",
	Good:           "EXPOSE 8080\n",
	Equivalents:    []string{"hadolint:DL3011", "trivy:DS008"},
	Reads:          []string{"EXPOSE"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("EXPOSE") {
			var bad []string
			for _, arg := range in.Args {
				if strings.Contains(arg, "$") {
					continue
				}
				ports, _, _ := strings.Cut(arg, "/")
				lo, hi, _ := strings.Cut(ports, "-")
				for _, s := range []string{lo, hi} {
					if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 65535 {
						bad = append(bad, arg)
						break
					}
				}
			}
			if len(bad) > 0 {
				p.Reportf(in, "EXPOSE %s: ports range from 0 to 65535", strings.Join(bad, " "))
			}
		}
	},
}
