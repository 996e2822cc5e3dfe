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
		`report stages that do not ship in the final image, nor RUNs that already mount a cache or tmpfs on the yarn cache.`,
	Bad:         "FROM node:20\nRUN yarn install --frozen-lockfile\n",
	Good:        "FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n",
	Equivalents: []string{"hadolint:DL3060"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
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

func yarnCacheMounted(in *analyzer.Instruction) bool {
	for _, t := range layerlessMountTargets(in) {
		if strings.Contains(t, "yarn") {
			return true
		}
	}
	return false
}
