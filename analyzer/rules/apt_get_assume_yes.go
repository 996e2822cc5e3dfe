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
		`Pass -y (or --yes) so installs never wait for input. A quiet level of two (-qq, -q -q, -q=2) implies -y, ` +
		`as apt-get documents; a lone -q does not.`,
	Bad:            "RUN apt-get update && apt-get install --no-install-recommends curl\n",
	Good:           "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	Equivalents:    []string{"hadolint:DL3014", "trivy:DS021"},
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get") {
				sub, ok := subcommandWord(c, aptGetValued...)
				if !ok || sub.Value != "install" || aptAssumesYes(c) || aptSimulates(c) {
					continue
				}
				fix := insertAfterWord(in.Script, sub, " -y", "add -y")
				p.Report(in, "apt-get install will stop at its confirmation prompt; add -y", fix)
			}
		}
	},
}

// aptSimulates reports a dry run (-s and its spellings): apt-get prints
// what it would do and never asks.
func aptSimulates(c analyzer.Command) bool {
	if c.Has("--simulate", "--just-print", "--dry-run", "--recon", "--no-act") {
		return true
	}
	for _, a := range c.Args {
		v := a.Value
		if len(v) < 2 || v[0] != '-' || v[1] == '-' {
			continue
		}
		// A cluster of short options: its letters up to the first one
		// that takes a value (-oAcquire::Retries=3, -tbookworm-backports).
		for _, r := range v[1:] {
			if r == 's' {
				return true
			}
			if strings.ContainsRune("otca", r) {
				break
			}
		}
	}
	return false
}

// aptGetValued are apt-get options that take the next word as their value.
var aptGetValued = []string{"-o", "--option", "-t", "--target-release", "-c", "--config-file"}

func aptAssumesYes(c analyzer.Command) bool {
	if c.HasShortFlag('y') || c.Has("--yes", "--assume-yes", "-q=2", "--quiet=2") {
		return true
	}
	// apt-get adds up its quiet flags (-q -q, -qq, --quiet --quiet), and
	// level two implies -y.
	quiet := 0
	for _, a := range c.Args {
		v := strings.ToLower(a.Value)
		if strings.Contains(v, "apt::get::assume-yes=") && !strings.HasSuffix(v, "=false") && !strings.HasSuffix(v, "=0") {
			return true
		}
		switch {
		case v == "--quiet":
			quiet++
		case strings.HasPrefix(v, "-") && !strings.HasPrefix(v, "--") && !strings.Contains(v, "="):
			quiet += strings.Count(v, "q")
		}
	}
	return quiet >= 2
}
