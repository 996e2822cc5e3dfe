package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// dnfGlobalValued are dnf options that take a separate value.
var dnfGlobalValued = []string{"-c", "--config", "--installroot", "--releasever", "--setopt", "--repo", "--repoid",
	"--enablerepo", "--disablerepo", "-x", "--exclude", "--nobest", "--forcearch", "--destdir", "--downloaddir", "-d", "-e"}

// DnfAssumeYes mirrors hadolint DL3038.
var DnfAssumeYes = &analyzer.Rule{
	ID:       "dnf-assume-yes",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "dnf install without -y",
	Rationale: `dnf asks for confirmation before it installs anything. A build cannot answer, so dnf reads end ` +
		`of input and aborts ("Operation aborted"), failing the build. Pass -y (--assumeyes) so the install ` +
		`runs unattended.`,
	Bad:            "FROM fedora:40\nRUN dnf install httpd\n",
	Good:           "FROM fedora:40\nRUN dnf install -y httpd\n",
	Equivalents:    []string{"hadolint:DL3038"},
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("dnf", "microdnf") {
				sub, ok := subcommandWord(c, dnfGlobalValued...)
				if !ok {
					continue
				}
				switch sub.Value {
				case "install", "groupinstall", "localinstall":
				default:
					continue
				}
				if c.Has("--assumeyes", "--setopt=assumeyes=1", "--setopt=assumeyes=True") || c.HasShortFlag('y') {
					continue
				}
				fix := insertAfterWord(in.Script, sub, " -y", "add -y so dnf does not wait for confirmation")
				p.Report(in, c.Name+" "+sub.Value+" asks for confirmation; add -y", fix)
			}
		}
	},
}
