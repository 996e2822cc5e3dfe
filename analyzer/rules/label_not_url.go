package rules

import (
	"net/url"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// LabelNotURL mirrors hadolint DL3052.
var LabelNotURL = labelValueRule(&analyzer.Rule{
	ID:       "label-not-url",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Label the schema types as url holds no valid URL",
	Rationale: `The label schema says this label holds a URL, and tools follow it: registries link an image ` +
		`to its source repository through org.opencontainers.image.source, for example. A value that is not ` +
		`an absolute URL (with a scheme such as https://) breaks that link.`,
	Bad:         "FROM alpine:3.20\nLABEL org.opencontainers.image.source=github.com/acme/app\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.source=https://github.com/acme/app\n",
	Equivalents: []string{"hadolint:DL3052"},
}, "url", "an absolute URL", validURL)

func validURL(v string) bool {
	if v == "" || strings.ContainsAny(v, " \t\n") {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "" || u.Path != "")
}
