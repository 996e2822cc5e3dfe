package rules

import (
	"fmt"
	"regexp"

	"github.com/dockopt/dockopt/analyzer"
)

var didYouMean = regexp.MustCompile(`\(did you mean \$?([A-Za-z_][A-Za-z0-9_]*)\?\)`)

// suggestion returns the name BuildKit's "did you mean" proposes, if any.
func suggestion(msg string) string {
	if m := didYouMean.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// UndefinedArgInFrom mirrors BuildKit's UndefinedArgInFrom check.
var UndefinedArgInFrom = &analyzer.Rule{
	ID:       "undefined-arg-in-from",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "FROM uses an ARG that is not declared before it",
	Rationale: `Only ARGs declared before the first FROM can be used in a FROM line. An undeclared one expands to ` +
		`an empty string, so "FROM node:${NODE_VERSION}" quietly becomes "FROM node:" (latest) or fails, ` +
		`depending on what else is on the line. Declaring the ARG, with a default, makes the base image explicit ` +
		`and still lets --build-arg override it. Variables BuildKit predefines (TARGETPLATFORM, BUILDPLATFORM …) ` +
		`need no declaration.`,
	Bad:         "FROM node:${NODE_VERSION}-alpine\n",
	Good:        "ARG NODE_VERSION=20\nFROM node:${NODE_VERSION}-alpine\n",
	Equivalents: []string{"buildkit:UndefinedArgInFrom"},
	Check: func(p *analyzer.Pass) {
		mirrorBuildKit(p, "UndefinedArgInFrom", func(w analyzer.BuildKitWarning, _ *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			msg := fmt.Sprintf("FROM uses ARG %s, which is not declared before the first FROM, so it expands to nothing", quotedValue(w.Message))
			if s := suggestion(w.Message); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", s)
			}
			return msg, nil, true
		})
	},
}

// InvalidDefaultArgInFrom mirrors BuildKit's InvalidDefaultArgInFrom check.
var InvalidDefaultArgInFrom = &analyzer.Rule{
	ID:       "invalid-default-arg-in-from",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "FROM is not a valid image reference with the ARG defaults",
	Rationale: `When the ARGs used in a FROM line have no default (or an empty one), a plain "docker build" ` +
		`without --build-arg expands the line to an invalid reference such as "node:" or ":latest" and fails. ` +
		`Giving each such ARG a sensible default keeps the Dockerfile buildable on its own, which is also what ` +
		`CI, update bots and "docker build ." expect.`,
	Bad:         "ARG TAG\nFROM node:${TAG}\n",
	Good:        "ARG TAG=20-alpine\nFROM node:${TAG}\n",
	Equivalents: []string{"buildkit:InvalidDefaultArgInFrom"},
	Check: func(p *analyzer.Pass) {
		mirrorBuildKit(p, "InvalidDefaultArgInFrom", func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			base := ""
			if in != nil && in.Stage != nil {
				base = in.Stage.BaseRaw
			}
			return fmt.Sprintf("with the ARG defaults, FROM %s is not a valid image reference; give the ARGs it uses a default value", base), nil, true
		})
	},
}

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
