package rules

import (
	"path"

	"github.com/dockopt/dockopt/analyzer"
)

// NoSudo mirrors hadolint DL3004.
var NoSudo = &analyzer.Rule{
	ID:       "no-sudo",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityError,
	Title:    "sudo used in RUN",
	Rationale: `Build steps already run as the current USER, and switching with USER is explicit and visible in the ` +
		`image history. sudo needs its own package and a sudoers policy, behaves differently without a terminal ` +
		`(password prompts, requiretty), and often stays installed in the image as a ready-made privilege ` +
		`escalation. Use USER root for the steps that need it, and gosu or su-exec at run time if the entrypoint ` +
		`must drop privileges.`,
	Bad:            "USER app\nRUN sudo apt-get install -y --no-install-recommends curl\n",
	Good:           "USER root\nRUN apt-get install -y --no-install-recommends curl\nUSER app\n",
	Equivalents:    []string{"hadolint:DL3004", "trivy:DS010"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			if usesSudo(in.Script) {
				p.Report(in, "sudo in a build step; use USER root for the steps that need it", nil)
			}
		}
	},
}

func usesSudo(s *analyzer.Script) bool {
	for _, c := range s.Commands() {
		if c.Name == "sudo" {
			return true
		}
		for _, w := range c.Prefix {
			if path.Base(w.Value) == "sudo" {
				return true
			}
		}
	}
	return false
}
