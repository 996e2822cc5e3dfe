package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// reservedStageNames are names BuildKit gives a meaning of its own.
var reservedStageNames = map[string]string{
	"scratch": "the empty base image",
	"context": "the build context",
}

// ReservedStageName mirrors BuildKit's ReservedStageName check.
var ReservedStageName = &analyzer.Rule{
	ID:       "reserved-stage-name",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Stage named after a reserved word",
	Rationale: `"scratch" and "context" already mean something to BuildKit: the empty image and the build context. ` +
		`A stage with one of those names makes FROM scratch or COPY --from=context ambiguous for readers and ` +
		`tools, and BuildKit warns on every build. Pick a name that says what the stage does.`,
	Bad:         "FROM alpine:3.20 AS scratch\nRUN echo hi > /hi\n",
	Good:        "FROM alpine:3.20 AS greeting\nRUN echo hi > /hi\n",
	Equivalents: []string{"buildkit:ReservedStageName"},
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			if meaning, ok := reservedStageNames[strings.ToLower(s.Name)]; ok {
				p.Report(s.From, fmt.Sprintf("stage name %q is reserved for %s; rename the stage", s.Name, meaning), nil)
			}
		}
	},
}
