package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

// ZypperClean mirrors hadolint DL3036.
var ZypperClean = &analyzer.Rule{
	ID:       "zypper-clean",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "zypper install without zypper clean in the same RUN",
	Rationale: `zypper keeps repository metadata and downloaded packages under /var/cache/zypp. Left in the ` +
		`layer they add tens of megabytes that the running container never reads, and a later RUN cannot ` +
		`remove them from the earlier layer. Run zypper clean in the same RUN, or keep the cache out of the ` +
		`image with a BuildKit cache mount. Unlike hadolint, dockopt does not report stages that do not ship ` +
		`in the final image, nor RUNs that already mount a cache or tmpfs on /var/cache/zypp.`,
	Bad:         "FROM opensuse/leap:15.6\nRUN zypper -n install curl\n",
	Good:        "FROM opensuse/leap:15.6\nRUN zypper -n install curl && zypper clean --all\n",
	Equivalents: []string{"hadolint:DL3036", "trivy:DS020"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil || !shipsInFinalImage(p.File, stageOf(in)) || mountTouches(in, "/var/cache/zypp") {
				continue
			}
			installed, cleaned, sudo := false, false, ""
			for _, c := range in.Script.CommandsNamed("zypper") {
				sub, ok := zypperSubcommand(c)
				if !ok {
					continue
				}
				switch sub.Value {
				case "install", "in":
					installed, cleaned, sudo = true, false, elevation(c)
				case "clean", "cc":
					if installed {
						cleaned = true
					}
				}
			}
			if !installed || cleaned {
				continue
			}
			var fix *analyzer.Fix
			if e, ok := appendToChain(in, sudo+"zypper clean --all"); ok {
				fix = &analyzer.Fix{Message: "run zypper clean --all at the end of the RUN", Edits: []analyzer.TextEdit{e}}
				if later := laterCleanOnly(in, "zypper", func(c analyzer.Command) bool {
					sub, ok := zypperSubcommand(c)
					return ok && (sub.Value == "clean" || sub.Value == "cc")
				}); later != nil {
					fix.Message += fmt.Sprintf(", and delete the RUN on line %d that cleaned in a later layer", later.StartLine)
					fix.Edits = append(fix.Edits, deleteInstruction(p.File, later))
				}
			}
			p.Report(in, "zypper install leaves its cache in the layer; add zypper clean --all to the same RUN", fix)
		}
	},
}
