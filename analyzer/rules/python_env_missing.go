package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// PythonEnvMissing asks Python services for the two runtime settings
// every containerized Python process wants.
var PythonEnvMissing = &analyzer.Rule{
	ID:       "python-env-missing",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "Python service without PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE",
	Rationale: `Two variables change how a containerized Python process behaves: PYTHONUNBUFFERED=1 sends log ` +
		`lines out at once, and PYTHONDONTWRITEBYTECODE=1 stops .pyc writes at run time. ` +
		`With stdout redirected to a pipe, Python buffers its output: log lines reach the container log ` +
		`late, in bursts, or never when the process is killed, which is exactly when they are needed. ` +
		`PYTHONUNBUFFERED=1 writes them at once. PYTHONDONTWRITEBYTECODE=1 stops the interpreter from ` +
		`writing .pyc files into the image's layers or a read-only root filesystem at run time. The fix is for ` +
		`review: both variables change how the process behaves (unbuffered writes, imports compiled at every ` +
		`start when the image holds no .pyc), and they apply to the RUN steps after them too.`,
	Bad:       "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
	Good:      "FROM python:3.12-slim\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		if kind, _ := analyzer.DetectKind(p.File, p.Context); kind != analyzer.KindPythonService {
			return
		}
		final := p.File.FinalStage()
		var missing []string
		for _, name := range []string{"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} {
			if v, ok := final.EnvAtEnd(name); !ok || v == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
		var pairs, effects []string
		for _, m := range missing {
			pairs = append(pairs, m+"=1")
			effects = append(effects, m+"=1 "+pythonEnvEffect[m])
		}
		msg := "the final stage of this Python service does not set " + strings.Join(missing, " or ") +
			" (" + strings.Join(effects, ", ") + ")"
		if runtimeChangeRefused(p, final, final.From, msg) {
			return
		}
		if len(p.Facts().Stage(final).StartCommand()) == 0 {
			// Not known to be a service: whoever runs the image says what
			// it runs (final-user-root withholds its USER for the same).
			p.ReportWithheld(final.From, msg+"; no fix: the Dockerfile sets no CMD or ENTRYPOINT, so what the container runs is up to whoever runs it", analyzer.PreconditionUnknown)
			return
		}
		line := matchCase("ENV", final.From.Written) + " " + strings.Join(pairs, " ")
		fix := &analyzer.Fix{Message: "set " + strings.Join(pairs, " ") + ": " + strings.Join(effects, ", "),
			Edits: []analyzer.TextEdit{insertLinesAfter(p.File, final.From, line)}}
		p.Report(final.From, msg, fix)
	},
}

// pythonEnvEffect says what each variable does, so a message or fix names
// the effect of exactly the variables it is about.
var pythonEnvEffect = map[string]string{
	"PYTHONDONTWRITEBYTECODE": "stops .pyc writes at run time",
	"PYTHONUNBUFFERED":        "sends logs out at once",
}
