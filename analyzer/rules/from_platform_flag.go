package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// FromPlatformFlag mirrors hadolint DL3029.
var FromPlatformFlag = &analyzer.Rule{
	ID:       "from-platform-flag",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "FROM with a fixed --platform",
	Rationale: `A constant --platform on FROM forces that architecture whatever the builder is asked for: an arm64 ` +
		`build silently produces an amd64 image that runs under emulation, or not at all. Let the build choose ` +
		`(docker build --platform) instead. Unlike hadolint, values built from variables such as ` +
		`$BUILDPLATFORM or $TARGETPLATFORM are not reported: they are the documented way to cross-compile.`,
	Bad:         "FROM --platform=linux/amd64 debian:bookworm\n",
	Good:        "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\n",
	Equivalents: []string{"hadolint:DL3029"},
	Reads:       []string{"FROM"},
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			v, ok := s.From.Flag("platform")
			if !ok || v == "" || strings.Contains(v, "$") {
				continue
			}
			p.Reportf(s.From, "FROM --platform=%s fixes the architecture regardless of what the build targets; drop it or use $BUILDPLATFORM/$TARGETPLATFORM", v)
		}
	},
}
