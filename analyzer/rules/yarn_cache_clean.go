package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// YarnCacheClean mirrors hadolint DL3060.
var YarnCacheClean = &analyzer.Rule{
	ID:       "yarn-cache-clean",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "yarn install without yarn cache clean in the same RUN",
	Rationale: `Yarn keeps a copy of every package it downloads in its global cache, so the layer holds each ` +
		`dependency twice: once in node_modules and once in the cache. Clean the cache in the same RUN, or ` +
		`mount a BuildKit cache on it to keep the speed without shipping it. Unlike hadolint, dockopt does not ` +
		`report stages that do not ship in the final image, nor RUNs that already mount a cache or tmpfs on the yarn cache, ` +
		`nor projects on Yarn 2 or later (.yarnrc.yml, install --immutable, packageManager yarn@2+), whose ` +
		`Plug'n'Play installs run from the cache itself.`,
	Bad:         "FROM node:20\nRUN yarn install --frozen-lockfile\n",
	Good:        "FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n",
	Equivalents: []string{"hadolint:DL3060"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		if yarnBerry(p) {
			// Yarn 2+ with Plug'n'Play loads packages from the cache's
			// zip files: cleaning it removes the installed packages.
			return
		}
		for in := range p.File.Each("RUN") {
			if in.Script == nil || !shipsInFinalImage(p.File, stageOf(in)) || yarnCacheMounted(in) {
				continue
			}
			installed, cleaned := false, false
			for _, c := range in.Script.CommandsNamed("yarn") {
				pos := c.Positional("--cwd", "--modules-folder", "--cache-folder", "--network-timeout", "--mutex")
				switch {
				case len(pos) > 0 && pos[0].Value == "install":
					// A clean before the install leaves its cache behind.
					installed, cleaned = true, false
				case len(pos) > 1 && pos[0].Value == "cache" && pos[1].Value == "clean":
					cleaned = true
				}
			}
			if !installed || cleaned {
				continue
			}
			var fix *analyzer.Fix
			if e, ok := appendToChain(in, "yarn cache clean"); ok {
				fix = &analyzer.Fix{Message: "run yarn cache clean at the end of the RUN", Edits: []analyzer.TextEdit{e}}
			}
			p.Report(in, "yarn install leaves a second copy of every package in the yarn cache; add yarn cache clean", fix)
		}
	},
}

// yarnBerry reports a project on Yarn 2 or later: a .yarnrc.yml (in the
// Dockerfile or the context), yarn install --immutable, or a packageManager
// of yarn@2 and up in package.json.
func yarnBerry(p *analyzer.Pass) bool {
	if strings.Contains(string(p.File.Source), ".yarnrc.yml") || strings.Contains(string(p.File.Source), "--immutable") {
		return true
	}
	if bc := p.Context; bc != nil {
		if bc.HasPath(".yarnrc.yml") {
			return true
		}
		if bc.Package != nil {
			if v, ok := strings.CutPrefix(bc.Package.PackageManager, "yarn@"); ok && !strings.HasPrefix(v, "1.") && !strings.HasPrefix(v, "0.") {
				return true
			}
		}
	}
	return false
}

func yarnCacheMounted(in *analyzer.Instruction) bool {
	for _, t := range layerlessMountTargets(in) {
		if strings.Contains(t, "yarn") {
			return true
		}
	}
	return false
}
