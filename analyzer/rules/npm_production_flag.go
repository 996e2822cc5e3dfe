package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// NpmProductionFlag replaces npm's deprecated --production.
var NpmProductionFlag = &analyzer.Rule{
	ID:       "npm-production-flag",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "npm --production or --only=production instead of --omit=dev",
	Rationale: `Since npm 7, --production and --only=production are deprecated aliases that print a warning on ` +
		`every build; --omit=dev is the supported spelling and says what it does. npm may drop the old ` +
		`flags in a future major, at which point the image would quietly install dev dependencies again.`,
	Bad:       "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci --production\n",
	Good:      "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci --omit=dev\n",
	Fix:       analyzer.Safe,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			for _, c := range npmCommands(in) {
				sub := analyzer.Npm.Subcommand(c)
				if !analyzer.Npm.InstallsDependencies(c) && sub != "prune" {
					continue
				}
				for _, a := range c.Args {
					switch a.Value {
					case "--production", "--production=true", "--only=production", "--only=prod":
					default:
						continue
					}
					var fix *analyzer.Fix
					if in.Script.Exact() && !a.Dynamic {
						fix = &analyzer.Fix{Message: "use --omit=dev",
							Edits: []analyzer.TextEdit{{Start: a.Start, End: a.End, New: "--omit=dev"}}}
					}
					p.Report(in, "npm "+sub+" "+a.Value+" is deprecated; use --omit=dev", fix)
				}
			}
		}
	},
}
