package rules

import (
	"regexp"

	"github.com/dockopt/dockopt/analyzer"
)

var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// LabelNotSemver mirrors hadolint DL3056.
var LabelNotSemver = labelValueRule(&analyzer.Rule{
	ID:       "label-not-semver",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Label the schema types as semver holds no semantic version",
	Rationale: `The label schema says this label holds a semantic version (MAJOR.MINOR.PATCH with optional ` +
		`pre-release and build parts), which tools compare to find the newest image. Values such as v1.2, ` +
		`1.2 or latest cannot be ordered that way.`,
	Bad:         "FROM alpine:3.20\nLABEL org.opencontainers.image.version=v1.2\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.version=1.2.0\n",
	Equivalents: []string{"hadolint:DL3056"},
}, "semver", "a semantic version", semverPattern.MatchString)
