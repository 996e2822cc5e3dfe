package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// AptGetAssumeYes mirrors hadolint DL3014.
var AptGetAssumeYes = &analyzer.Rule{
	ID:       "apt-get-assume-yes",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "apt-get install without -y",
	Rationale: `A build has no one to answer apt-get's "Do you want to continue?" prompt: with no terminal, apt-get ` +
		`reads end-of-file and aborts, so the build fails as soon as an install pulls in one extra dependency. ` +
		`Pass -y (or --yes) so installs never wait for input. Unlike hadolint, a lone -q is not taken as an answer: ` +
		`only -qq implies -y.`,
	Bad:         "RUN apt-get update && apt-get install --no-install-recommends curl\n",
	Good:        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	Equivalents: []string{"hadolint:DL3014", "trivy:DS021"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get") {
				sub, ok := subcommandWord(c, aptGetValued...)
				if !ok || sub.Value != "install" || aptAssumesYes(c) {
					continue
				}
				fix := insertAfterWord(in.Script, sub, " -y", "add -y")
				p.Report(in, "apt-get install will stop at its confirmation prompt; add -y", fix)
			}
		}
	},
}

// aptGetValued are apt-get options that take the next word as their value.
var aptGetValued = []string{"-o", "--option", "-t", "--target-release", "-c", "--config-file"}

func aptAssumesYes(c analyzer.Command) bool {
	if c.HasShortFlag('y') || c.Has("--yes", "--assume-yes", "-qq", "-q=2", "--quiet=2") {
		return true
	}
	for _, a := range c.Args {
		v := strings.ToLower(a.Value)
		if strings.Contains(v, "apt::get::assume-yes=") && !strings.HasSuffix(v, "=false") && !strings.HasSuffix(v, "=0") {
			return true
		}
	}
	return false
}
