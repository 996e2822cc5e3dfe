package rules

import (
	"strconv"
	"strings"

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
				message := c.Name + " " + sub.Value + " asks for confirmation; add -y"
				if c.Name == "microdnf" {
					if !microdnfIsDNF5(p, in) {
						continue
					}
					message = "microdnf is dnf5 on Fedora 38 and later, and " + sub.Value + " asks for confirmation there; add -y"
				}
				fix := insertAfterWord(in.Script, sub, " -y", "add -y so dnf does not wait for confirmation")
				p.Report(in, message, fix)
			}
		}
	},
}

// microdnfIsDNF5 reports whether microdnf in this stage is dnf5, which asks
// before installing: Fedora 38 and later ship dnf5 under that name. The
// microdnf of RHEL, UBI, Oracle Linux and CentOS minimal images never asks
// (its -y "does nothing, we always assume yes"), and one whose base image
// is not known is not reported: the finding would be a false alarm there.
func microdnfIsDNF5(p *analyzer.Pass, in *analyzer.Instruction) bool {
	lineage := p.Facts().Stage(in.Stage).Lineage()
	base := lineage[0].Base
	if base.Unresolved || !strings.HasPrefix(base.Name(), "fedora") {
		return false
	}
	switch tag := base.Tag; tag {
	case "", "latest", "rawhide":
		return true
	default:
		release, err := strconv.Atoi(strings.SplitN(tag, "-", 2)[0])
		return err == nil && release >= 38
	}
}
