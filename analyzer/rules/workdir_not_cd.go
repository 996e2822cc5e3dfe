package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// WorkdirNotCd mirrors hadolint DL3003.
var WorkdirNotCd = &analyzer.Rule{
	ID:       "workdir-not-cd",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "cd in RUN instead of WORKDIR",
	Rationale: `A cd lasts only until the end of its RUN, so every later instruction has to repeat it, and a ` +
		`reader must track the directory through chains of commands. WORKDIR sets it once, creates it if ` +
		`needed, and applies to RUN, COPY, CMD and ENTRYPOINT alike. Unlike hadolint, a cd inside a subshell ` +
		`"(cd dir && make)", a loop or a conditional is not reported, nor one to a directory computed at build ` +
		`time ("cd $(mktemp -d)"): those are deliberate and WORKDIR cannot express them.`,
	Bad:            "RUN cd /app && npm ci\n",
	Good:           "WORKDIR /app\nRUN npm ci\n",
	Equivalents:    []string{"hadolint:DL3003", "trivy:DS013"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range topLevelCommands(in.Script) {
				if c.Name != "cd" || len(c.Args) != 1 || c.Args[0].Dynamic || c.Args[0].Value == "-" {
					continue
				}
				p.Reportf(in, "cd %s lasts only for this RUN; use WORKDIR %s", c.Args[0].Value, c.Args[0].Value)
				break
			}
		}
	},
}
