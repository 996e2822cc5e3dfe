package rules

import (
	"net/mail"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// LabelNotEmail mirrors hadolint DL3058.
var LabelNotEmail = labelValueRule(&analyzer.Rule{
	ID:       "label-not-email",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Label the schema types as email holds no email address",
	Rationale: `The label schema says this label holds an email address, for example who to contact about ` +
		`the image. A value that is not an RFC 5322 address cannot be used for that. dockopt also accepts ` +
		`the "Name <address>" form that maintainer labels often use.`,
	Bad:         "FROM alpine:3.20\nLABEL maintainer=\"ops team\"\n",
	Good:        "FROM alpine:3.20\nLABEL maintainer=ops@example.com\n",
	Equivalents: []string{"hadolint:DL3058"},
}, "email", "an email address", func(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && strings.Contains(a.Address, "@")
})
