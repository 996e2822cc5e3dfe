package rules

import (
	"math"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// AptDistUpgrade mirrors hadolint DL3005 in the narrow form hadolint last
// gave it (dist-upgrade only): a plain upgrade is legitimate, and hadolint
// itself dropped its rules against upgrading.
var AptDistUpgrade = &analyzer.Rule{
	ID:       "apt-dist-upgrade",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "apt-get dist-upgrade in a Dockerfile",
	Rationale: `apt-get dist-upgrade (apt full-upgrade) may remove packages and pull in new ones to satisfy ` +
		`changed dependencies, so the image no longer matches the base image its tag names, and what is ` +
		`removed depends on the day of the build. apt-get upgrade applies security updates without removing ` +
		`anything; for larger changes, move to a newer base image tag. Upgrading packages as such is fine.`,
	Bad:         "RUN apt-get update && apt-get dist-upgrade -y\n",
	Good:        "RUN apt-get update && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*\n",
	Equivalents: []string{"hadolint:DL3005"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get", "apt") {
				for _, a := range c.Args {
					if a.Value != "dist-upgrade" && a.Value != "full-upgrade" {
						continue
					}
					msg := c.Name + " " + a.Value + " may remove packages and add new ones the base image does not have; use " + c.Name + " upgrade"
					var fix *analyzer.Fix
					switch {
					case !alsoUpgrades(in.Script, c):
						if in.Script.Exact() && !a.Dynamic && a.End-a.Start == len(a.Value) {
							fix = &analyzer.Fix{Message: "use upgrade, which removes nothing",
								Edits: []analyzer.TextEdit{{Start: a.Start, End: a.End, New: "upgrade"}}}
						}
					default:
						// Turning it into upgrade would run the upgrade
						// already there a second time: it is what the rule
						// asks for, so the fix drops this command instead.
						if del, ok := chainedAfter(in.Script, c); ok && upgradesWithin(in.Script, c, del.Start) {
							fix = &analyzer.Fix{Message: "drop it: the RUN also runs " + c.Name + " upgrade", Edits: []analyzer.TextEdit{del}}
						} else {
							msg += "; no fix: the RUN also runs " + c.Name + " upgrade, so the " + a.Value + " is to be deleted by hand"
						}
					}
					p.Report(in, msg, fix)
					break
				}
			}
		}
	},
}

// alsoUpgrades reports whether another apt-get or apt command of the
// script runs a plain upgrade.
func alsoUpgrades(s *analyzer.Script, dist analyzer.Command) bool {
	return upgradesWithin(s, dist, math.MaxInt)
}

// chainedAfter returns the edit that deletes c where it is the right-hand
// side of `X && c` (with whatever redirections c has): everything from
// the end of X to the end of c, which takes the operator and a line
// continuation before it along. ok is false for any other place (first
// in a chain, after ||, its own line, inside a subshell's list …).
func chainedAfter(s *analyzer.Script, c analyzer.Command) (analyzer.TextEdit, bool) {
	if !s.Exact() || c.Call == nil {
		return analyzer.TextEdit{}, false
	}
	var edit analyzer.TextEdit
	found := false
	syntax.Walk(s.File, func(n syntax.Node) bool {
		b, isBinary := n.(*syntax.BinaryCmd)
		if found || !isBinary || b.Op != syntax.AndStmt || b.Y == nil || b.Y.Cmd != syntax.Command(c.Call) {
			return !found
		}
		if b.Y.Negated || b.Y.Background || b.Y.Coprocess {
			return false
		}
		edit = analyzer.TextEdit{Start: s.Pos(b.X.End()), End: s.Pos(b.Y.End())}
		found = edit.Start >= 0 && edit.Start < edit.End
		return false
	})
	return edit, found
}

// upgradesWithin reports whether another apt-get or apt command of the
// script that ends at or before end runs a plain upgrade. Given the start
// of the deleted `&& dist-upgrade`, that is an upgrade in the left operand
// of the &&, which runs whenever the dist-upgrade would (one after ||, or
// in another branch, may not run at all).
func upgradesWithin(s *analyzer.Script, dist analyzer.Command, end int) bool {
	for _, c := range s.CommandsNamed("apt-get", "apt") {
		if c.Start == dist.Start || c.End > end {
			continue
		}
		for _, a := range c.Args {
			if a.Value == "upgrade" && !a.Dynamic {
				return true
			}
		}
	}
	return false
}
