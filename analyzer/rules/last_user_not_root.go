package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// LastUserNotRoot mirrors hadolint DL3002.
var LastUserNotRoot = &analyzer.Rule{
	ID:       "last-user-not-root",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityWarning,
	Title:    "Final image explicitly switches back to root",
	Rationale: `Switching to root for an install step is normal, but when the last USER of the shipped image is ` +
		`root the application runs with full privileges: a compromise of the process is a compromise of ` +
		`everything the container can reach, and a kernel or runtime flaw becomes a host escape. Switch back to ` +
		`an unprivileged user after the root-only steps. Unlike hadolint, build stages that are not part of the ` +
		`final image are not reported: their user never runs in production. Where the start drops root by itself ` +
		`(gosu in the entrypoint, a server's own unprivileged workers) root is deliberate, and the finding is info.`,
	Bad:         "FROM node:20-slim\nUSER root\nRUN npm install -g pm2\n",
	Good:        "FROM node:20-slim\nUSER root\nRUN npm install -g pm2\nUSER node\n",
	Equivalents: []string{"hadolint:DL3002", "trivy:DS002"},
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		if final == nil {
			return
		}
		var last *analyzer.Instruction
		for s := final; s != nil; s = s.BaseStage {
			for i := len(s.Instructions) - 1; i >= 0 && last == nil; i-- {
				if in := s.Instructions[i]; in.Keyword == "USER" && len(in.Args) > 0 {
					last = in
				}
			}
			if last != nil {
				break
			}
		}
		if last == nil || !analyzer.IsRootUser(last.Args[0]) {
			return
		}
		// The rule never proposes a change, so it keeps its severity (as
		// hadolint's DL3002 does) except where the facts show root is
		// deliberate: a start that drops privileges itself is reported at
		// info, since there is nothing to change.
		msg := "the final image runs as " + last.Args[0]
		sf := p.Facts().Stage(final)
		ep := sf.Entrypoint()
		if ep.SwitchesUser == analyzer.Present {
			p.ReportAdvisory(last, msg+" by design: it starts as root on purpose and drops privileges itself ("+ep.Why+"), so leaving it root is deliberate", analyzer.PreconditionUser)
			return
		}
		port, why := sf.PrivilegedPort()
		switch ok, role := p.RuntimeChangeAllowed(final); {
		case ep.NeedsRoot == analyzer.Present:
			msg += "; its start needs root (" + ep.Why + ")"
		case port > 0:
			msg += "; " + why + ": move the service to a port above 1023 before switching to an unprivileged user"
		case !ok:
			msg += "; " + role
		default:
			msg += "; switch to an unprivileged user after the steps that need root"
		}
		p.Report(last, msg, nil)
	},
}
