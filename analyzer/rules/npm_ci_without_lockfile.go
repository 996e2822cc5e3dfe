package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// NpmCIWithoutLockfile finds `npm ci` that cannot succeed.
var NpmCIWithoutLockfile = &analyzer.Rule{
	ID:       "npm-ci-without-lockfile",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "npm ci without a package-lock.json in the build context",
	Rationale: `npm ci installs exactly what package-lock.json (or npm-shrinkwrap.json) records and refuses to ` +
		`run without one. When the lockfile is not committed, or .dockerignore keeps it out of the build ` +
		`context, the build fails at this step — often only in CI, where nobody has a stray lockfile lying ` +
		`around. Commit the lockfile (and send it to the build) rather than falling back to npm install, ` +
		`which would resolve different versions on every build.`,
	Bad:       "# no package-lock.json beside package.json\nFROM node:22-slim\nCOPY package.json ./\nRUN npm ci\n",
	Good:      "# package-lock.json committed\nFROM node:22-slim\nCOPY package.json package-lock.json ./\nRUN npm ci\n",
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		bc := p.Context
		if bc == nil || bc.Truncated {
			return
		}
		sent, ignored, unknown := contextLockfiles(bc, analyzer.Npm)
		if len(sent) > 0 || len(unknown) > 0 {
			// A lockfile the build may see: npm ci may well find it.
			return
		}
		for in := range p.File.Each("RUN") {
			if in.Onbuild != nil {
				// The trigger runs in another build's context.
				continue
			}
			for _, c := range npmCommands(in) {
				if !analyzer.Npm.InstallsFrozen(c) {
					continue
				}
				if fb, then, ok := fallbackFor(in.Script, c.Call); ok {
					instead := "the command after ||"
					if fb != "" {
						instead = "`" + fb + "`"
					}
					why := "the build context has no " + strings.Join(analyzer.Npm.Lockfiles, " or ")
					if len(ignored) > 0 {
						why = bc.DockerIgnore.Path + " excludes " + ignored[0] + " from the build context"
					}
					if installsDependencies(then) {
						// `npm ci || npm install`: the build does not fail,
						// it installs unlocked versions instead.
						p.ReportNote(in, fmt.Sprintf("npm ci needs a lockfile and %s, so it fails on every build and %s runs instead, resolving the dependencies anew each time; commit the lockfile and drop the fallback", why, instead))
					} else {
						// `npm ci || true`: the build goes on without them.
						p.Reportf(in, "npm ci needs a lockfile and %s, so it fails on every build and %s lets the build go on without the dependencies; commit the lockfile that npm install writes", why, instead)
					}
					continue
				}
				if len(ignored) > 0 {
					p.Reportf(in, "npm ci needs %s, but %s excludes it from the build context, so the build fails here; stop ignoring the lockfile", ignored[0], bc.DockerIgnore.Path)
					continue
				}
				p.Reportf(in, "npm ci needs a lockfile and the build context has no %s, so the build fails here; commit the lockfile that npm install writes", strings.Join(analyzer.Npm.Lockfiles, " or "))
			}
		}
	},
}

// installsDependencies reports whether one of cmds installs a Node
// project's dependencies (npm install, yarn, pnpm install): a fallback
// that does (`npm ci || npm install`) leaves the image with unlocked
// versions; one that does not (`|| true`, `|| echo …`) leaves it with
// none, and the finding stays an error.
func installsDependencies(cmds []analyzer.Command) bool {
	for _, c := range cmds {
		if pm, pc := analyzer.PackageManagerOf(c); (pm == analyzer.Npm || pm == analyzer.Yarn || pm == analyzer.Pnpm) && pm.InstallsDependencies(pc) {
			return true
		}
		// Through a launcher (corepack pnpm install, npx yarn) or bun: an
		// install is named among the words.
		switch c.Name {
		case "corepack", "npx", "bunx", "bun":
			for _, a := range c.Args {
				if a.Value == "install" || a.Value == "i" || a.Value == "ci" {
					return true
				}
			}
		}
	}
	return false
}
