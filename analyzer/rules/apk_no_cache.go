package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// ApkNoCache mirrors hadolint DL3019.
var ApkNoCache = &analyzer.Rule{
	ID:       "apk-no-cache",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "apk add without --no-cache",
	Rationale: `apk keeps the package index it downloads in /var/cache/apk, and that index is frozen into the layer ` +
		`although the running container never needs it. --no-cache fetches a fresh index, uses it and leaves ` +
		`nothing behind, which also makes a separate "apk update" unnecessary. A RUN that mounts a cache at ` +
		`/var/cache/apk, or removes /var/cache/apk itself, is not reported.`,
	Bad:         "RUN apk add curl\n",
	Good:        "RUN apk add --no-cache curl\n",
	Equivalents: []string{"hadolint:DL3019", "trivy:DS025"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil || mountHolds(in, "/var/cache/apk", "/etc/apk/cache") || removesPath(in.Script, "/var/cache/apk") {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apk") {
				sub, ok := subcommandWord(c, apkValued...)
				if !ok || sub.Value != "add" || c.Has("--no-cache") {
					continue
				}
				fix := insertAfterWord(in.Script, sub, " --no-cache", "add --no-cache")
				p.Report(in, "apk add leaves its package index in the layer; add --no-cache", fix)
			}
		}
	},
}

// apkValued are apk options that take the next word as their value.
var apkValued = []string{"-t", "--virtual", "-X", "--repository", "-p", "--root", "--repositories-file",
	"--keys-dir", "--cache-dir", "--arch"}
