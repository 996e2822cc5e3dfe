package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// HealthcheckToolMissing finds a HEALTHCHECK whose probe the image cannot
// run: the classic is curl on a -slim or -alpine image.
var HealthcheckToolMissing = &analyzer.Rule{
	ID:       "healthcheck-tool-missing",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "HEALTHCHECK runs a program the image does not have",
	Rationale: `A health check runs inside the container. When its program is not in the image (curl on a slim ` +
		`or alpine image, where it was never installed), every probe fails with "not found", the container is ` +
		`reported unhealthy for good, and whatever waits for it to be healthy (compose's depends_on, a swarm ` +
		`rollout) waits forever or restarts it. The build gives no warning. Install the program, or probe with ` +
		`one the image has (busybox wget on alpine, the language runtime itself).`,
	Bad:       "FROM python:3.12-slim\nCOPY . /app\nHEALTHCHECK CMD curl -f http://127.0.0.1:8000/ || exit 1\nCMD [\"python\", \"/app/main.py\"]\n",
	Good:      "FROM python:3.12-slim\nCOPY . /app\nHEALTHCHECK CMD [\"python\", \"-c\", \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')\"]\nCMD [\"python\", \"/app/main.py\"]\n",
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		if final == nil || final.Windows {
			return
		}
		var last *analyzer.Instruction
		for _, in := range final.LineageInstructions() {
			if in.Keyword == "HEALTHCHECK" {
				last = in
			}
		}
		program := ""
		if last != nil {
			program = startProgram(last)
		}
		if program == "" || strings.ContainsAny(program, "$=`\"'") {
			return
		}
		// The probe runs in the finished image: what any RUN of the stage
		// installs counts, before the HEALTHCHECK line or after it.
		sf := p.Facts().Stage(final)
		presence, why := sf.ToolAt(0, program)
		if presence != analyzer.Absent {
			if inner := shellProgram(last); inner != "" {
				program = inner
				presence, why = sf.ToolAt(0, program)
			}
		}
		if presence != analyzer.Absent {
			return
		}
		p.Report(last, fmt.Sprintf("the HEALTHCHECK runs %s, which is not in the image: %s; every probe fails, so the container is reported unhealthy; install %s or probe with a program the image has", program, why, program), nil)
	},
}

// shellProgram returns the first program of the script an exec-form
// check gives sh -c (the form dockopt's own fixes write), "" for other
// forms and a first word that is not plain text.
func shellProgram(in *analyzer.Instruction) string {
	if _, shell := startForm(in); shell {
		return ""
	}
	text := startShellText(in)
	if text == "" {
		return ""
	}
	cmds := analyzer.ScriptAt(text, -1).Commands()
	if len(cmds) == 0 {
		return ""
	}
	c := cmds[0]
	if w, ok := analyzer.Literal(c.Call.Args[len(c.Prefix)]); !ok || strings.ContainsAny(w, "$=`\"'") {
		return ""
	}
	return c.Name
}
