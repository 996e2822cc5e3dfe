package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// DuplicateStageName mirrors BuildKit's DuplicateStageName and hadolint DL3024.
var DuplicateStageName = &analyzer.Rule{
	ID:       "duplicate-stage-name",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Two stages share a name",
	Rationale: `When two stages have the same name, COPY --from, FROM and --target can only reach one of them ` +
		`(the builder picks one silently), so a change to the other is dead code or, worse, the wrong stage ships. ` +
		`Stage names are compared without regard to case, as BuildKit does.`,
	Bad:         "FROM node:20 AS build\nRUN npm ci\nFROM node:20 AS build\nRUN npm run build\n",
	Good:        "FROM node:20 AS deps\nRUN npm ci\nFROM deps AS build\nRUN npm run build\n",
	Equivalents: []string{"buildkit:DuplicateStageName", "hadolint:DL3024", "trivy:DS012"},
	Check: func(p *analyzer.Pass) {
		first := map[string]*analyzer.Stage{}
		for _, s := range p.File.Stages {
			if s.Name == "" {
				continue
			}
			key := strings.ToLower(s.Name)
			if prev, ok := first[key]; ok {
				p.Reportf(s.From, "stage name %q is already used by the stage on line %d; give each stage its own name", s.Name, prev.From.StartLine)
				continue
			}
			first[key] = s
		}
	},
}
