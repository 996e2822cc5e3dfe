package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// YumAssumeYes mirrors hadolint DL3030.
var YumAssumeYes = &analyzer.Rule{
	ID:       "yum-assume-yes",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "yum install without -y",
	Rationale: `yum asks for confirmation before it installs anything. A build has no terminal to answer, so yum ` +
		`reads end-of-file, answers no and the build fails. Pass -y (or --assumeyes) to every yum install.`,
	Bad:            "RUN yum install httpd && yum clean all\n",
	Good:           "RUN yum install -y httpd && yum clean all\n",
	Equivalents:    []string{"hadolint:DL3030"},
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("yum") {
				sub, ok := subcommandWord(c, yumValued...)
				if !ok || c.HasShortFlag('y') || c.Has("--assumeyes") {
					continue
				}
				switch sub.Value {
				case "install", "groupinstall", "localinstall":
				default:
					continue
				}
				fix := insertAfterWord(in.Script, sub, " -y", "add -y")
				p.Report(in, "yum "+sub.Value+" will stop at its confirmation prompt; add -y", fix)
			}
		}
	},
}

// yumValued are yum options that take the next word as their value.
var yumValued = []string{"-c", "--config", "-d", "--debuglevel", "-e", "--errorlevel", "-x", "--exclude",
	"--installroot", "--releasever", "--enablerepo", "--disablerepo", "--setopt", "-R", "--randomwait"}
