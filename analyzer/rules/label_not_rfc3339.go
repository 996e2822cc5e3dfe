package rules

import (
	"time"

	"github.com/dockopt/dockopt/analyzer"
)

// LabelNotRFC3339 mirrors hadolint DL3053.
var LabelNotRFC3339 = labelValueRule(&analyzer.Rule{
	ID:       "label-not-rfc3339",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Label the schema types as rfc3339 holds no RFC 3339 time",
	Rationale: `The label schema says this label holds a time, such as org.opencontainers.image.created, and ` +
		`the OCI annotations define that as RFC 3339 (2024-05-01T12:00:00Z). Any other format cannot be ` +
		`sorted or compared by the tools that read it.`,
	Bad:         "FROM alpine:3.20\nLABEL org.opencontainers.image.created=\"May 1 2024\"\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.created=2024-05-01T12:00:00Z\n",
	Equivalents: []string{"hadolint:DL3053"},
}, "rfc3339", "an RFC 3339 time", func(v string) bool {
	_, err := time.Parse(time.RFC3339, v)
	return err == nil
})
