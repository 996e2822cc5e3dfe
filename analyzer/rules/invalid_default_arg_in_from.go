package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

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
