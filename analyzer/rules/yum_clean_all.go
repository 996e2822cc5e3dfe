package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

// YumCleanAll mirrors hadolint DL3032.
var YumCleanAll = &analyzer.Rule{
	ID:       "yum-clean-all",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "yum install without yum clean all",
	Rationale: `yum keeps repository metadata and downloaded packages under /var/cache/yum. Unless the same RUN ` +
		`ends with "yum clean all", that cache, often more than 100 MB, is frozen into the layer where no later ` +
		`instruction can remove it. The clean must come after the last install of the RUN. A RUN that mounts a ` +
		`cache or tmpfs over /var/cache/yum, or deletes it, is not reported.`,
	Bad:         "RUN yum install -y httpd-2.4.6\n",
	Good:        "RUN yum install -y httpd-2.4.6 && yum clean all\n",
	Equivalents: []string{"hadolint:DL3032", "trivy:DS015"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil || mountHolds(in, "/var/cache/yum") || removesPath(in.Script, "/var/cache/yum") {
				continue
			}
			lastInstall, lastClean, sudo := -1, -1, ""
			for i, c := range in.Script.CommandsNamed("yum") {
				pos := c.Positional(yumValued...)
				if len(pos) == 0 {
					continue
				}
				switch pos[0].Value {
				case "install", "groupinstall", "localinstall", "reinstall":
					lastInstall, sudo = i, elevation(c)
				case "clean":
					if len(pos) > 1 && pos[1].Value == "all" {
						lastClean = i
					}
				}
			}
			if lastInstall < 0 || lastClean > lastInstall {
				continue
			}
			var fix *analyzer.Fix
			if e, ok := appendToChain(in, sudo+"yum clean all"); ok {
				fix = &analyzer.Fix{Message: "run yum clean all at the end of the RUN", Edits: []analyzer.TextEdit{e}}
				if later := laterCleanOnly(in, "yum", func(c analyzer.Command) bool {
					pos := c.Positional(yumValued...)
					return len(pos) > 1 && pos[0].Value == "clean" && pos[1].Value == "all"
				}); later != nil {
					fix.Message += fmt.Sprintf(", and delete the RUN on line %d that cleaned in a later layer", later.StartLine)
					fix.Edits = append(fix.Edits, deleteInstruction(p.File, later))
				}
			}
			p.Report(in, "yum leaves its cache in the layer; end the RUN with yum clean all", fix)
		}
	},
}
