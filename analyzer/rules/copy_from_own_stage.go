package rules

import (
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// CopyFromOwnStage mirrors hadolint DL3023.
var CopyFromOwnStage = &analyzer.Rule{
	ID:       "copy-from-own-stage",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "COPY --from names the stage it is in",
	Rationale: `A stage cannot copy from itself: it does not exist yet while it is being built, and BuildKit stops ` +
		`with a circular dependency error. The --from most likely meant the previous stage.`,
	Bad:            "FROM node:20 AS build\nCOPY --from=build /src/dist /app\n",
	Good:           "FROM node:20 AS deps\nFROM node:20 AS build\nCOPY --from=deps /src/dist /app\n",
	Equivalents:    []string{"hadolint:DL3023", "trivy:DS006"},
	Reads:          []string{"COPY"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("COPY") {
			from, ok := in.Flag("from")
			if !ok || in.Stage == nil || in.Onbuild != nil {
				continue
			}
			s := in.Stage
			if (s.Name != "" && strings.EqualFold(from, s.Name)) || from == strconv.Itoa(s.Index) {
				p.Reportf(in, "COPY --from=%s copies from the stage it is in, which is not built yet", from)
			}
		}
	},
}
