package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// LabelNotGitHash mirrors hadolint DL3055.
var LabelNotGitHash = labelValueRule(&analyzer.Rule{
	ID:       "label-not-git-hash",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Label the schema types as hash holds no git commit hash",
	Rationale: `The label schema says this label holds a git commit, such as org.opencontainers.image.revision, ` +
		`so that a running image can be traced to its exact source. A branch name or tag moves and does not ` +
		`do that. dockopt accepts lower-case hexadecimal of 7 to 40 characters (abbreviated and full SHA-1) ` +
		`and 64 (SHA-256 repositories); hadolint accepts only 7 or 40.`,
	Bad:         "FROM alpine:3.20\nLABEL org.opencontainers.image.revision=main\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.revision=3f2c1a9\n",
	Equivalents: []string{"hadolint:DL3055"},
}, "hash", "a git commit hash", func(v string) bool {
	if n := len(v); !(n >= 7 && n <= 40 || n == 64) {
		return false
	}
	return strings.Trim(v, "0123456789abcdef") == ""
})
