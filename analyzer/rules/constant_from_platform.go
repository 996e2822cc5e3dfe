package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

// ConstantFromPlatform mirrors BuildKit's FromPlatformFlagConstDisallowed check.
var ConstantFromPlatform = &analyzer.Rule{
	ID:       "constant-from-platform",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "FROM --platform set to a constant",
	Rationale: `"FROM --platform=linux/amd64" pins a stage to one architecture: on an ARM laptop or an arm64 ` +
		`runner the image is built and run under emulation, slowly, and multi-platform builds produce the same ` +
		`image for every platform. Use $BUILDPLATFORM for stages that only run build tools, or leave the flag out ` +
		`and pass --platform to the build. When the stage name says which platform it is for (e.g. "build-amd64"), ` +
		`the constant is taken as intended, as BuildKit does.`,
	Bad:         "FROM --platform=linux/amd64 golang:1.22 AS build\n",
	Good:        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n",
	Equivalents: []string{"buildkit:FromPlatformFlagConstDisallowed"},
	Check: func(p *analyzer.Pass) {
		mirrorBuildKit(p, "FromPlatformFlagConstDisallowed", func(w analyzer.BuildKitWarning, _ *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			return fmt.Sprintf("FROM --platform=%s fixes the stage to one platform; use $BUILDPLATFORM or $TARGETPLATFORM, or drop the flag", quotedValue(w.Message)), nil, true
		})
	},
}
