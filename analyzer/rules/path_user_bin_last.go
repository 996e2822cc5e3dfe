package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// PathUserBinLast finds user and virtualenv bin folders appended to PATH.
var PathUserBinLast = &analyzer.Rule{
	ID:       "path-user-bin-last",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "User or virtualenv bin folder appended at the end of PATH",
	Rationale: `A folder appended to PATH is searched last, so any program of the same name in the base image ` +
		`wins: with ENV PATH=$PATH:/opt/venv/bin, "python" is still the system interpreter without the ` +
		`virtualenv's packages, and a tool installed with pip --user into ~/.local/bin is shadowed by an older ` +
		`copy in /usr/local/bin. Put the folder the image installs into first. That changes which program ` +
		`a name runs — the point of the fix, and why it is one to review.`,
	Bad:       "FROM python:3.12-slim\nRUN python -m venv /opt/venv\nENV PATH=$PATH:/opt/venv/bin\n",
	Good:      "FROM python:3.12-slim\nRUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("ENV") {
			c, ok := in.Command.(*instructions.EnvCommand)
			if !ok {
				continue
			}
			for _, kv := range c.Env {
				if kv.Key != "PATH" {
					continue
				}
				parts := strings.Split(strings.Trim(kv.Value, `"'`), ":")
				_, tail := splitUserBins(parts)
				if len(tail) == 0 || len(tail) == len(parts) {
					continue
				}
				if !isPathVar(parts[0]) {
					continue
				}
				msg := strings.Join(tail, ":") + " is searched after every other folder of PATH, so programs of the base image shadow the ones installed there; put it first"
				if pip := systemPipBefore(in, tail); pip != nil {
					// python from the virtualenv does not see what the
					// image's own pip installed.
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: line %d installs packages with the image's own pip, which python from the virtualenv would no longer see", msg, pip.StartLine), analyzer.PreconditionTool)
					continue
				}
				p.Report(in, msg, pathFix(p.File, in))
			}
		}
	},
}

var userBinRE = regexp.MustCompile(`^(/root/\.local/bin|/home/[^/:]+/\.local/bin|\$\{?HOME\}?/\.local/bin|~/\.local/bin|(/[^:]*)?/\.?venv/bin)/?$`)

// splitUserBins splits PATH entries into the rest and the user or
// virtualenv bin folders at their end.
func splitUserBins(parts []string) (rest, tail []string) {
	i := len(parts)
	for i > 0 && userBinRE.MatchString(parts[i-1]) {
		i--
	}
	return parts[:i], parts[i:]
}

func isPathVar(s string) bool { return s == "$PATH" || s == "${PATH}" }

// pathFix rewrites the PATH value in place, keeping the ENV form and its
// quoting. It gives up on values it cannot find verbatim.
func pathFix(d *analyzer.Dockerfile, in *analyzer.Instruction) *analyzer.Fix {
	words := rawWords(d, in.ArgsStart, in.End)
	for i, w := range words {
		var valueStart int
		var raw string
		switch {
		case strings.HasPrefix(w.Text, "PATH="):
			valueStart, raw = w.Start+len("PATH="), w.Text[len("PATH="):]
		case w.Text == "PATH" && i == 0 && len(words) == 2:
			valueStart, raw = words[1].Start, words[1].Text
		default:
			continue
		}
		quote := ""
		inner := raw
		if len(raw) >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[len(raw)-1] == raw[0] {
			quote, inner = raw[:1], raw[1:len(raw)-1]
		}
		if strings.ContainsAny(inner, "\"' \\") {
			return nil
		}
		parts := strings.Split(inner, ":")
		rest, tail := splitUserBins(parts)
		if len(tail) == 0 || len(rest) == 0 || !isPathVar(rest[0]) {
			return nil
		}
		value := quote + strings.Join(append(tail, rest...), ":") + quote
		return &analyzer.Fix{Message: "put " + strings.Join(tail, ":") + " first in PATH",
			Edits: []analyzer.TextEdit{{Start: valueStart, End: valueStart + len(raw), New: value}}}
	}
	return nil
}

// systemPipBefore returns an earlier RUN of in's lineage that installs
// Python packages with the image's own pip, when tail holds a
// virtualenv's bin folder: put first, that folder's python replaces the
// image's, and the packages installed before are no longer importable.
func systemPipBefore(in *analyzer.Instruction, tail []string) *analyzer.Instruction {
	venv := false
	for _, t := range tail {
		venv = venv || strings.HasSuffix(strings.TrimSuffix(t, "/"), "venv/bin")
	}
	if !venv || in.Stage == nil {
		return nil
	}
	for _, x := range in.Stage.LineageInstructions() {
		if x == in {
			return nil
		}
		if x.Keyword != "RUN" || x.Script == nil {
			continue
		}
		for _, c := range x.Script.Commands() {
			pm, pc := analyzer.PackageManagerOf(c)
			if pm == analyzer.Pip && pc.Subcommand() == "install" && !strings.Contains(c.Name, "venv") && !strings.Contains(pathOfCommand(c), "venv") {
				return x
			}
		}
	}
	return nil
}

// pathOfCommand is the command word as written (/opt/venv/bin/pip), which
// Name reduces to its base name.
func pathOfCommand(c analyzer.Command) string {
	if c.Call != nil && len(c.Call.Args) > 0 {
		if lit := c.Call.Args[0].Lit(); lit != "" {
			return lit
		}
	}
	return c.Name
}
