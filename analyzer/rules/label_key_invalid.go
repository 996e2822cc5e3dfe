package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// LabelKeyInvalid mirrors hadolint DL3048.
var LabelKeyInvalid = &analyzer.Rule{
	ID:       "label-key-invalid",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "Label key outside Docker's naming guidelines",
	Rationale: `Docker asks label keys to be lower-case letters, digits, dots and dashes, to start with a ` +
		`letter and end with a letter or digit, without repeated separators, and to stay out of the ` +
		`com.docker.*, io.docker.* and org.dockerproject.* namespaces, which Docker reserves. Tools that query ` +
		`labels (docker ps --filter, registries, scanners) match keys exactly, so a key such as Version next to ` +
		`org.opencontainers.image.version is easy to miss. A key with a variable ($PREFIX.version) is only ` +
		`known once BuildKit expands it, so, unlike hadolint, dockopt does not judge it.`,
	Bad:         "FROM alpine:3.20\nLABEL Version=1.0\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.version=1.0\n",
	Equivalents: []string{"hadolint:DL3048"},
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("LABEL") {
			for _, lp := range labelPairs(p.File, in) {
				if lp.Dynamic {
					continue
				}
				if why := labelKeyProblem(lp.Key); why != "" {
					p.Reportf(in, "label key %q %s", lp.Key, why)
				}
			}
		}
	},
}

func labelKeyProblem(k string) string {
	switch {
	case k == "":
		return "is empty"
	case k[0] < 'a' || k[0] > 'z':
		return "should start with a lower-case letter"
	case strings.IndexFunc(k, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') }) >= 0:
		return "should hold only lower-case letters, digits, dots and dashes"
	case strings.HasSuffix(k, ".") || strings.HasSuffix(k, "-"):
		return "should end with a letter or digit"
	case strings.Contains(k, "..") || strings.Contains(k, "--"):
		return "should not repeat a separator"
	case strings.HasPrefix(k, "com.docker.") || strings.HasPrefix(k, "io.docker.") || strings.HasPrefix(k, "org.dockerproject."):
		return "is in a namespace Docker reserves"
	}
	return ""
}
