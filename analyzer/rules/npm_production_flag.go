package rules

import (
	"strconv"
	"strings"

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
		`flags in a future major, at which point the image would quietly install dev dependencies again. npm 6 ` +
		`does not know --omit=dev, so the fix is safe only on a node image of version 15 or later (or a moving ` +
		`tag such as lts); elsewhere it is one to review.`,
	Bad:       "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci --production\n",
	Good:      "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci --omit=dev\n",
	Fix:       analyzer.Review,
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
						// Safe only where the image's npm is known to take it.
						fix.Safety = analyzer.Safe
						if !npmKnowsOmit(in.Stage) {
							fix.Safety = analyzer.Review
							fix.Message += " (npm 6, which node 14 and older ship, ignores it and installs dev dependencies: check the npm version)"
						}
					}
					p.Report(in, "npm "+sub+" "+a.Value+" is deprecated; use --omit=dev", fix)
				}
			}
		}
	},
}

// npmKnowsOmit reports a stage built on an official node image whose npm
// is 7 or later (node 15 on), by the image's tag; moving tags (lts,
// current, latest) follow supported versions, all of them past npm 6.
func npmKnowsOmit(s *analyzer.Stage) bool {
	if s == nil {
		return false
	}
	ref := s.Root().Base
	if ref.Name() != "node" || ref.Registry != "docker.io" {
		return false
	}
	head := strings.ToLower(strings.SplitN(ref.Tag, "-", 2)[0])
	switch head {
	case "", "latest", "lts", "current", "slim", "alpine", "bookworm", "bullseye", "trixie", "iron", "jod", "krypton", "gallium", "hydrogen":
		return true
	}
	major, err := strconv.Atoi(strings.SplitN(head, ".", 2)[0])
	return err == nil && major >= 15
}
