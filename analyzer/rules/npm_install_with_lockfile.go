package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// NpmInstallWithLockfile prefers npm ci when a lockfile is there.
var NpmInstallWithLockfile = &analyzer.Rule{
	ID:       "npm-install-with-lockfile",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "npm install where a package-lock.json is copied into the image",
	Rationale: `npm install treats package-lock.json as a hint: it may resolve newer versions within the ranges of ` +
		`package.json and rewrite the lockfile, so two builds of the same commit can ship different code. ` +
		`npm ci installs exactly the locked tree, fails when package.json and the lockfile disagree, and ` +
		`starts from an empty node_modules — what a reproducible image needs. Those same differences make ` +
		`the fix one to review: a lockfile out of step with package.json now fails the build, and whatever ` +
		`an earlier step put in node_modules is removed.`,
	Bad:       "FROM node:22-slim\nCOPY package.json package-lock.json ./\nRUN npm install\n",
	Good:      "FROM node:22-slim\nCOPY package.json package-lock.json ./\nRUN npm ci\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		bc := p.Context
		if bc == nil {
			return
		}
		sent, _, _ := contextLockfiles(bc, analyzer.Npm)
		if len(sent) == 0 {
			return
		}
		copied := make([]*chainFirst, len(sent))
		for i, f := range sent {
			copied[i] = contextCopied(bc, f)
		}
		for in := range p.File.Each("RUN") {
			if in.Onbuild != nil {
				continue
			}
			for _, c := range npmCommands(in) {
				sub, ok := subcommandWord(c, analyzer.Npm.Valued...)
				if !ok || !slices.Contains(analyzer.Npm.Install, sub.Value) {
					continue
				}
				if len(afterSubcommand(c, analyzer.Npm.Valued...)) > 0 || c.Has("-g", "--global", "--package-lock-only", "--no-package-lock") {
					// Adding packages, or a global install: npm ci does neither.
					continue
				}
				lock := ""
				for i, f := range sent {
					if copied[i].before(in) {
						lock = f
						break
					}
				}
				if lock == "" {
					continue
				}
				msg := "npm install may resolve versions other than those in " + lock + "; npm ci installs exactly the lockfile"
				if missing := analyzer.LockfileMissing(bc, lock); missing != "" {
					// npm ci would refuse the lockfile the build now
					// updates quietly.
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: %s does not hold %s, which package.json declares, so npm ci would fail until the lockfile is updated (npm install)", msg, lock, missing), analyzer.PreconditionContext)
					continue
				}
				var fix *analyzer.Fix
				if in.Script.Exact() && !sub.Dynamic {
					edits := []analyzer.TextEdit{{Start: sub.Start, End: sub.End, New: "ci"}}
					for _, a := range c.Args {
						if npmCIRejects(a.Value) {
							edits = append(edits, removeWord(p.File, a.Start, a.End))
						}
					}
					fix = &analyzer.Fix{Message: "use npm ci, which installs exactly the locked versions", Edits: edits}
				}
				p.Report(in, msg, fix)
			}
		}
	},
}

// npmCIRejects reports the install options that only make sense when
// package.json or the lockfile may change, which npm ci never does.
func npmCIRejects(arg string) bool {
	switch arg {
	case "--save", "-S", "--no-save", "--save-dev", "-D", "--save-prod", "-P", "--save-optional", "-O",
		"--save-exact", "-E", "--save-bundle", "-B", "--save-peer":
		return true
	}
	return strings.HasPrefix(arg, "--save=") || strings.HasPrefix(arg, "--save-exact=")
}
