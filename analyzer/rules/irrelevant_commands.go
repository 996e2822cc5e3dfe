package rules

import (
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// IrrelevantCommands mirrors hadolint DL3001.
var IrrelevantCommands = &analyzer.Rule{
	ID:       "irrelevant-commands",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "Interactive or system-management command in RUN",
	Rationale: `A build step runs once, without a terminal, in a container that has no init system and no ` +
		`running services. Commands made for an administrator at a live machine (ssh, vim, top, ps, free, ` +
		`kill, mount, service, shutdown) either do nothing useful there, hang waiting for input, or fail for ` +
		`lack of privileges. Their presence usually means a step copied from a server runbook that should be ` +
		`rethought for an image.`,
	Bad:            "RUN service nginx start\n",
	Good:           "CMD [\"nginx\", \"-g\", \"daemon off;\"]\n",
	Equivalents:    []string{"hadolint:DL3001"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			// RUN --security=insecure is how a build is given the privileges
			// that mount and friends need.
			if sec, _ := in.Flag("security"); in.Script == nil || sec == "insecure" {
				continue
			}
			var found []string
			for _, c := range in.Script.Commands() {
				if slices.Contains(irrelevantCommandNames, c.Name) && !slices.Contains(found, c.Name) {
					found = append(found, c.Name)
				}
			}
			if len(found) > 0 {
				p.Reportf(in, "%s: interactive or system-management commands have no use in a build step (no terminal, services or init)", strings.Join(found, ", "))
			}
		}
	},
}

// irrelevantCommandNames is hadolint's list.
var irrelevantCommandNames = []string{"free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"}
