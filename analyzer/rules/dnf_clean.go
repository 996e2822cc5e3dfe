package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// DnfClean mirrors hadolint DL3040.
var DnfClean = &analyzer.Rule{
	ID:       "dnf-clean",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "dnf install without dnf clean all in the same RUN",
	Rationale: `dnf keeps repository metadata and downloaded packages under /var/cache/dnf (microdnf under ` +
		`/var/cache/yum). Left in the layer they often weigh more than what was installed, and a later RUN ` +
		`cannot take them out of the earlier layer. End the RUN with dnf clean all, or keep the cache out of ` +
		`the image with a BuildKit cache mount. Unlike hadolint, dockopt does not report stages that do not ` +
		`ship in the final image, nor RUNs that already mount a cache or tmpfs on the dnf cache directory.`,
	Bad:         "FROM fedora:40\nRUN dnf install -y httpd\n",
	Good:        "FROM fedora:40\nRUN dnf install -y httpd && dnf clean all\n",
	Equivalents: []string{"hadolint:DL3040", "trivy:DS019"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil || !shipsInFinalImage(p.File, stageOf(in)) ||
				mountTouches(in, "/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5") {
				continue
			}
			// The dnf flavour that installed and was not cleaned yet, and how.
			var pending, verb, sudo string
			for _, c := range in.Script.Commands() {
				switch c.Name {
				case "dnf", "microdnf":
					sub, ok := subcommandWord(c, dnfGlobalValued...)
					if !ok {
						continue
					}
					switch sub.Value {
					case "install", "in", "groupinstall", "localinstall", "reinstall", "rei",
						"upgrade", "up", "update", "upgrade-minimal", "up-min":
						pending, verb, sudo = c.Name, sub.Value, elevation(c)
					case "clean":
						// dnf and microdnf keep separate caches: one's clean
						// leaves the other's packages in place.
						if c.Name == pending && c.Has("all", "packages", "metadata") {
							pending = ""
						}
					}
				case "rm":
					for _, a := range c.Args {
						if strings.HasPrefix(a.Value, "/var/cache/dnf") || strings.HasPrefix(a.Value, "/var/cache/yum") {
							pending = ""
						}
					}
				}
			}
			if pending == "" {
				continue
			}
			var fix *analyzer.Fix
			if e, ok := appendToChain(in, sudo+pending+" clean all"); ok {
				fix = &analyzer.Fix{Message: "run " + pending + " clean all at the end of the RUN", Edits: []analyzer.TextEdit{e}}
				if later := laterCleanOnly(in, pending, func(c analyzer.Command) bool {
					sub, ok := subcommandWord(c, dnfGlobalValued...)
					return ok && sub.Value == "clean" && c.Has("all")
				}); later != nil {
					fix.Message += fmt.Sprintf(", and delete the RUN on line %d that cleaned in a later layer", later.StartLine)
					fix.Edits = append(fix.Edits, deleteInstruction(p.File, later))
				}
			}
			p.Report(in, pending+" "+verb+" leaves its cache in the layer; add "+pending+" clean all to the same RUN", fix)
		}
	},
}
