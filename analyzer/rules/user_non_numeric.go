package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// UserNonNumeric mirrors hadolint DL3066.
var UserNonNumeric = &analyzer.Rule{
	ID:       "user-non-numeric",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityInfo,
	Title:    "USER names a user instead of a numeric UID",
	Rationale: `A user name is resolved through the image's /etc/passwd, which the host and the orchestrator ` +
		`cannot see. Kubernetes, for one, cannot verify runAsNonRoot for USER app and refuses to start the ` +
		`pod, while USER 10001 can be checked without looking inside the image. root is not reported: it is ` +
		`0 everywhere.`,
	Bad:         "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER app\n",
	Good:        "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER 10001\n",
	Equivalents: []string{"hadolint:DL3066"},
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("USER") {
			if len(in.Args) == 0 {
				continue
			}
			user, _, _ := strings.Cut(in.Args[0], ":")
			if user == "" || user == "root" || strings.Contains(user, "$") || strings.Trim(user, "0123456789") == "" {
				continue
			}
			p.Reportf(in, "USER %s is a name; the runtime cannot tell whether it is root without the image's /etc/passwd, use its numeric UID", user)
		}
	},
}
