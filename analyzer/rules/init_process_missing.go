package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// InitProcessMissing finds Node and Python processes left to be PID 1.
var InitProcessMissing = &analyzer.Rule{
	ID:       "init-process-missing",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Node or Python runs as PID 1 without an init process",
	Rationale: `The kernel treats PID 1 specially: signals it has no handler for are dropped. Node and a plain ` +
		`python script install no SIGTERM handler by default, so docker stop and Kubernetes wait out the grace ` +
		`period (10 or 30 seconds) and then SIGKILL the process, cutting open requests on every deploy; npm or ` +
		`yarn as PID 1 make it worse by not passing the signal on. PID 1 must also reap orphaned child ` +
		`processes, which these runtimes do not do. A tiny init (tini, dumb-init) fixes both; so do ` +
		`docker run --init, compose's init: true, or Kubernetes' shareProcessNamespace: true, which is why the ` +
		`fix is offered for review rather than applied blindly. Servers that handle signals and reap their ` +
		`workers themselves (gunicorn, uvicorn, hypercorn) are not reported.`,
	Bad:       "FROM node:20-alpine\nCMD [\"npm\", \"start\"]\n",
	Good:      "FROM node:20-alpine\nRUN apk add --no-cache tini\nENTRYPOINT [\"tini\", \"--\"]\nCMD [\"node\", \"server.js\"]\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		d := p.File
		final := d.FinalStage()
		start := startInstruction(d)
		if final == nil || start == nil {
			return
		}
		proc := pid1Runtime(analyzer.StartCommand(d))
		if proc == "" {
			return
		}
		msg := fmt.Sprintf("%s runs as PID 1 without an init: it ignores SIGTERM unless the app handles it (so every stop waits for the kill timeout) and does not reap zombie processes; add tini or dumb-init, or run the container with docker run --init (compose: init: true; Kubernetes: shareProcessNamespace: true)", proc)
		if !start.JSON {
			msg = fmt.Sprintf("the shell-form %s runs %s through /bin/sh with no init: PID 1 is the shell or %s, which do not handle SIGTERM for the app (so every stop waits for the kill timeout) or reap zombie processes; use the exec form and add tini or dumb-init, or run the container with docker run --init (compose: init: true; Kubernetes: shareProcessNamespace: true)", start.Keyword, proc, proc)
		} else if proc == "npm" || proc == "yarn" || proc == "pnpm" {
			msg = fmt.Sprintf("%s runs as PID 1 without an init: it does not pass SIGTERM on to node reliably (so every stop waits for the kill timeout) and does not reap zombie processes; start node directly and add tini or dumb-init, or run the container with docker run --init (compose: init: true; Kubernetes: shareProcessNamespace: true)", proc)
		}
		p.Report(start, msg, tiniFix(d, final, start, proc))
	},
}

// pid1Runtime names the runtime a start command leaves as PID 1, "" when
// an init is present or the process copes on its own.
func pid1Runtime(words []string) string {
	var all []string
	for _, w := range words {
		all = append(all, strings.Fields(w)...)
	}
	found := ""
	for i, w := range all {
		base := path.Base(w)
		switch base {
		case "tini", "tini-static", "dumb-init", "s6-svscan", "catatonit", "init", "--init", "supervisord", "runsvdir", "pm2-runtime", "s6-overlay", "/init":
			return ""
		case "gunicorn", "uvicorn", "hypercorn", "daphne", "granian", "waitress-serve", "celery", "nginx", "httpd", "caddy":
			return ""
		case "node", "nodejs", "npm", "yarn", "pnpm", "npx", "bun", "ts-node", "tsx":
			if found == "" {
				found = base
			}
		case "python", "python3", "flask":
			if i+2 < len(all) && all[i+1] == "-m" {
				switch all[i+2] {
				case "gunicorn", "uvicorn", "hypercorn", "daphne", "celery", "granian":
					return ""
				}
			}
			if found == "" {
				found = base
			}
		}
		if strings.HasPrefix(base, "python3.") && found == "" {
			found = base
		}
	}
	return found
}

// tiniFix installs tini and makes it the entrypoint, when the
// distribution is known, the start command is a CMD of the final stage
// and no ENTRYPOINT exists to be wrapped.
func tiniFix(d *analyzer.Dockerfile, final *analyzer.Stage, start *analyzer.Instruction, proc string) *analyzer.Fix {
	if start.Keyword != "CMD" || start.Stage != final || start.Onbuild != nil {
		return nil
	}
	for _, in := range final.LineageInstructions() {
		if _, ok := in.Command.(*instructions.EntrypointCommand); ok {
			return nil
		}
	}
	base := final.Root().Base
	if analyzer.BaseImageUser(base) != "" {
		return nil
	}
	var install string
	switch base.Distro() {
	case "alpine":
		install = "RUN apk add --no-cache tini"
	case "debian":
		install = "RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*"
	default:
		return nil
	}
	// The install must run as root: before the stage's first USER.
	var user *analyzer.Instruction
	for _, in := range final.Instructions {
		if in == start {
			break
		}
		if in.Keyword == "USER" {
			user = in
			break
		}
	}
	for _, st := range final.Lineage()[:len(final.Lineage())-1] {
		for _, in := range st.Instructions {
			if c, ok := in.Command.(*instructions.UserCommand); ok && !analyzer.IsRootUser(c.User) {
				return nil // a parent stage switched user already
			}
		}
	}
	entry := `ENTRYPOINT ["tini", "--"]`
	if !start.JSON || proc == "npm" || proc == "yarn" || proc == "pnpm" || proc == "npx" {
		// A shell or a package manager sits between tini and node:
		// signal the whole process group so node gets SIGTERM too.
		entry = `ENTRYPOINT ["tini", "-g", "--"]`
	}
	var edits []analyzer.TextEdit
	if user != nil {
		edits = append(edits, insertLinesBefore(d, user, install), insertLinesBefore(d, start, entry))
	} else {
		edits = append(edits, insertLinesBefore(d, start, install, entry))
	}
	return &analyzer.Fix{Message: "install tini and run the command under it", Edits: edits}
}
