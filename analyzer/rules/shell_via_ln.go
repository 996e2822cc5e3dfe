package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// ShellViaLn mirrors hadolint DL4005.
var ShellViaLn = &analyzer.Rule{
	ID:       "shell-via-ln",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Default shell changed by linking /bin/sh",
	Rationale: `Replacing /bin/sh with a link to bash changes the shell of every script in the image, at run ` +
		`time too, including the distribution's own maintainer scripts that expect a POSIX sh, and hides the ` +
		`change from anyone reading the Dockerfile. To run the build's RUN instructions in another shell, ` +
		`say so with SHELL ["/bin/bash", "-c"].`,
	Bad:            "FROM debian:12\nRUN ln -sf /bin/bash /bin/sh\n",
	Good:           "FROM debian:12\nSHELL [\"/bin/bash\", \"-c\"]\n",
	Equivalents:    []string{"hadolint:DL4005"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("ln") {
				if c.Has("/bin/sh") {
					p.Report(in, "ln replaces /bin/sh for the whole image; use SHELL to change the shell RUN uses", nil)
				}
			}
		}
	},
}
