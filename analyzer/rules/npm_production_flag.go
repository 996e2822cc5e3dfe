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
		`does not know --omit=dev and --production is right there, so node images 14 and older are not ` +
		`reported; the fix is safe on a node image of version 15 or later (or a moving tag such as lts), and ` +
		`withheld on images whose npm version is unknown.`,
	Bad:            "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci --production\n",
	Good:           "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci --omit=dev\n",
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
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
					msg := "npm " + sub + " " + a.Value + " is deprecated; use --omit=dev"
					knows, known := npmKnowsOmit(in.Stage)
					if known && !knows {
						// npm 6 has no --omit=dev: --production is its
						// spelling, and the fix would install the dev
						// dependencies the flag keeps out.
						continue
					}
					if !known {
						// npm 6 ignores --omit=dev and installs the dev
						// dependencies: the fix needs a newer npm.
						p.ReportWithheld(in, msg+"; no fix: the image's npm version is not known, and npm 6 (node 14 and older) ignores --omit=dev and installs the dev dependencies", analyzer.PreconditionTool)
						continue
					}
					var fix *analyzer.Fix
					if in.Script.Exact() && !a.Dynamic {
						fix = &analyzer.Fix{Message: "use --omit=dev", Safety: analyzer.Safe,
							Edits: []analyzer.TextEdit{{Start: a.Start, End: a.End, New: "--omit=dev"}}}
					}
					p.Report(in, msg, fix)
				}
			}
		}
	},
}

// npmKnowsOmit reports whether a stage built on an official node image
// has npm 7 or later (node 15 on), by the image's tag, and whether that is
// known: moving tags (lts, current, latest) follow supported versions, all
// past npm 6; node 14 and older, by number or code name, ship npm 6 or
// older; other images are unknown.
func npmKnowsOmit(s *analyzer.Stage) (knows, known bool) {
	if s == nil {
		return false, false
	}
	ref := s.Root().Base
	if ref.Official() != "node" {
		return false, false
	}
	head := strings.ToLower(strings.SplitN(ref.Tag, "-", 2)[0])
	switch head {
	case "", "latest", "lts", "current", "slim", "alpine", "bookworm", "bullseye", "trixie", "iron", "jod", "krypton", "gallium", "hydrogen":
		return true, true
	case "argon", "boron", "carbon", "dubnium", "erbium", "fermium":
		return false, true
	}
	major, err := strconv.Atoi(strings.SplitN(head, ".", 2)[0])
	if err != nil {
		return false, false
	}
	return major >= 15, true
}
