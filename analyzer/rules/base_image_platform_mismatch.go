package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// archNamespaces are Docker Hub's per-architecture copies of the official
// images: each holds one platform only.
var archNamespaces = map[string]string{
	"amd64":    "linux/amd64",
	"arm32v5":  "linux/arm/v5",
	"arm32v6":  "linux/arm/v6",
	"arm32v7":  "linux/arm/v7",
	"arm64v8":  "linux/arm64",
	"i386":     "linux/386",
	"mips64le": "linux/mips64le",
	"ppc64le":  "linux/ppc64le",
	"riscv64":  "linux/riscv64",
	"s390x":    "linux/s390x",
}

// analysisPlatform is the target dockopt converts for, like a build on the
// usual CI runner.
const analysisPlatform = "linux/amd64"

// BaseImagePlatformMismatch mirrors BuildKit's InvalidBaseImagePlatform check.
var BaseImagePlatformMismatch = &analyzer.Rule{
	ID:       "base-image-platform-mismatch",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Base image exists only for another platform",
	Rationale: `BuildKit warns when the base image it pulled is for another platform than the one being built: ` +
		`the result runs under emulation (slowly) or not at all. Without a registry dockopt cannot see an image's ` +
		`platforms, so it reports what the name alone proves: Docker Hub's per-architecture repositories ` +
		`(arm64v8/alpine, arm32v7/debian …) hold a single platform, and without a matching --platform they ` +
		`mismatch an ordinary linux/amd64 build. Use the multi-platform image, or say the platform on purpose.`,
	Bad:         "FROM arm64v8/alpine:3.20\n",
	Good:        "FROM alpine:3.20\n",
	Equivalents: []string{"buildkit:InvalidBaseImagePlatform"},
	Check: func(p *analyzer.Pass) {
		reported := map[int]bool{}
		for _, s := range p.File.Stages {
			if s.BaseStage != nil || s.Platform != "" || s.Base.Registry != "docker.io" {
				continue
			}
			ns, name, ok := strings.Cut(s.Base.Repository, "/")
			platform := archNamespaces[ns]
			if !ok || platform == "" || platform == analysisPlatform {
				continue
			}
			reported[s.From.StartLine] = true
			p.Report(s.From, fmt.Sprintf("%s holds only %s images, so a %s build runs it under emulation; use the multi-platform %s image, or add --platform=%s if that is intended",
				s.Base.Repository, platform, analysisPlatform, name, platform), nil)
		}
		// With a registry behind the conversion BuildKit knows more.
		mirrorBuildKit(p, "InvalidBaseImagePlatform", func(w analyzer.BuildKitWarning, _ *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			if reported[w.StartLine] {
				return "", nil, false
			}
			return "the base image was pulled for another platform than the build's: " + w.Message, nil, true
		})
	},
}
