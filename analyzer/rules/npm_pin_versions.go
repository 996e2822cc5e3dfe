package rules

import (
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// NpmPinVersions mirrors hadolint DL3016.
var NpmPinVersions = &analyzer.Rule{
	ID:       "npm-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "npm install of packages without versions",
	Rationale: `npm install of a bare name takes whatever release is newest at build time, usually for a global ` +
		`tool such as a process manager or a CLI, so a rebuild can silently move to a new major version. Name ` +
		`the version (pm2@5.4.2). dockopt never writes a version for you. A plain "npm install" or "npm ci", ` +
		`which follow package.json and the lockfile, git URLs with a commit, tarballs and local folders are not ` +
		`reported.`,
	Bad:            "RUN npm install -g pm2\n",
	Good:           "RUN npm install -g pm2@5.4.2\n",
	Equivalents:    []string{"hadolint:DL3016"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("npm") {
				if !slices.Contains(analyzer.Npm.Install, analyzer.Npm.Subcommand(c)) {
					continue
				}
				pkgs := unpinned(afterSubcommand(c, analyzer.Npm.Valued...), npmPinned)
				if len(pkgs) > 0 {
					p.Reportf(in, "npm install without versions: %s (pin as package@version)", listWords(pkgs))
				}
			}
		}
	},
}

func npmPinned(v string) bool {
	for _, git := range []string{"git://", "git+ssh://", "git+http://", "git+https://", "github:"} {
		if strings.HasPrefix(v, git) {
			return strings.Contains(v, "#")
		}
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(v, ext) {
			return true
		}
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") || strings.HasPrefix(v, "~/") ||
		strings.HasPrefix(v, "file:") || v == "." {
		return true
	}
	name := v
	if strings.HasPrefix(name, "@") {
		_, name, _ = strings.Cut(name, "/")
	}
	return strings.Contains(name, "@")
}
