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
	// Correcting a likely typo is a guess a person should confirm.
	Fix: analyzer.Review,
	Check: func(p *analyzer.Pass) {
		mirrorBuildKit(p, "UndefinedArgInFrom", func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			name := quotedValue(w.Message)
			msg := fmt.Sprintf("FROM uses ARG %s, which is not declared before the first FROM, so it expands to nothing", name)
			var fix *analyzer.Fix
			if s := suggestion(w.Message); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", s)
				if in != nil {
					fix = renameVarFix(p.File, in, name, s)
				}
			}
			return msg, fix, true
		})
	},
}
