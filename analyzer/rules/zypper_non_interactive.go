package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// zypperGlobalValued are zypper's global options that take a value.
var zypperGlobalValued = []string{"-R", "--root", "-c", "--config", "-D", "--reposd-dir", "-C", "--cache-dir",
	"--raw-cache-dir", "--solv-cache-dir", "--pkg-cache-dir", "--userdata", "-x"}

// zypperSubcommand returns the subcommand word of a zypper call.
func zypperSubcommand(c analyzer.Command) (analyzer.Word, bool) {
	p := c.Positional(zypperGlobalValued...)
	if len(p) == 0 {
		return analyzer.Word{}, false
	}
	return p[0], true
}

// ZypperNonInteractive mirrors hadolint DL3034.
var ZypperNonInteractive = &analyzer.Rule{
	ID:       "zypper-non-interactive",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "zypper command that may prompt for confirmation",
	Rationale: `A build has no one to answer a prompt. Without a non-interactive switch zypper waits for ` +
		`confirmation and, reading end of input, aborts the install, so the build fails or hangs depending on ` +
		`the builder. Pass -y to the subcommand or -n (--non-interactive) to zypper itself; unlike hadolint, ` +
		`dockopt accepts the global -n form too.`,
	Bad:            "FROM opensuse/leap:15.6\nRUN zypper install curl\n",
	Good:           "FROM opensuse/leap:15.6\nRUN zypper install -y curl\n",
	Equivalents:    []string{"hadolint:DL3034"},
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("zypper") {
				sub, ok := zypperSubcommand(c)
				if !ok {
					continue
				}
				switch sub.Value {
				case "install", "in", "remove", "rm", "source-install", "si", "patch", "update", "up", "dist-upgrade", "dup":
				default:
					continue
				}
				if c.Has("-y", "--no-confirm", "-n", "--non-interactive") || c.HasShortFlag('y') {
					continue
				}
				fix := insertAfterWord(in.Script, sub, " -y", "add -y so zypper does not wait for confirmation")
				p.Report(in, "zypper "+sub.Value+" asks for confirmation; add -y (or zypper -n)", fix)
			}
		}
	},
}
