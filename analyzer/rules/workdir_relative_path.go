package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// WorkdirRelativePath mirrors BuildKit's WorkdirRelativePath and hadolint DL3000.
var WorkdirRelativePath = &analyzer.Rule{
	ID:       "workdir-relative-path",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Relative WORKDIR",
	Rationale: `A relative WORKDIR is resolved against the working directory of the base image, which the ` +
		`Dockerfile does not control: a new base image tag that sets a different WORKDIR moves every later COPY ` +
		`and RUN without any change to this file. Like BuildKit, dockopt reports the first WORKDIR of a stage ` +
		`chain when it is relative; a relative WORKDIR after an absolute one is well defined, and is only ` +
		`reported (as hadolint does) when it can be rewritten to the absolute path it already means. Like ` +
		`hadolint, it leaves alone a path made of a variable the file does not set, which the base image may ` +
		`set. Unlike hadolint, it reports a Windows drive path such as C:/ on a Linux image, where it is relative.`,
	Bad:         "FROM node:20\nWORKDIR app\n",
	Good:        "FROM node:20\nWORKDIR /app\n",
	Equivalents: []string{"buildkit:WorkdirRelativePath", "hadolint:DL3000", "trivy:DS009"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		fixes := workdirFixes(p.File)
		// BuildKit resolves variables in WORKDIR, so whether the first one is
		// relative is its call.
		warned := map[*analyzer.Instruction]bool{}
		declared := declaredNames(p.File)
		for _, w := range buildkitWarnings(p, "WorkdirRelativePath") {
			in := instructionOnLine(p.File, w.StartLine)
			if in == nil {
				p.ReportLines(w.StartLine, w.EndLine, -1, "relative WORKDIR depends on the base image's working directory; use an absolute path", nil)
				continue
			}
			warned[in] = true
			// Offline, BuildKit expands a variable the file never sets to
			// nothing; the base image may well set it to an absolute path.
			if in.Stage != nil && !in.Stage.Root().Base.IsScratch() && usesUndeclared(workdirPath(in), declared) {
				continue
			}
			// Offline the target is Linux; on a Windows image C:\app is absolute.
			if in.Stage != nil && in.Stage.Root().Base.IsWindows() {
				continue
			}
			if fix := fixes[in]; fix != nil {
				p.Report(in, fmt.Sprintf("WORKDIR %s is relative; on this base it means %s, so write that", workdirPath(in), fix.Edits[0].New), fix)
				continue
			}
			p.Report(in, fmt.Sprintf("WORKDIR %s is relative to the base image's working directory, which this file does not set; use an absolute path", workdirPath(in)), nil)
		}
		for _, in := range p.File.Instructions {
			if fix := fixes[in]; fix != nil && !warned[in] {
				p.Report(in, fmt.Sprintf("WORKDIR %s resolves to %s; write the absolute path so the line reads on its own", workdirPath(in), fix.Edits[0].New), fix)
			}
		}
	},
}

// workdirFixes follows the working directory through each stage chain and
// returns, for every relative WORKDIR whose absolute meaning is known, the
// edit that writes it out. Chains rooted at scratch start at "/"; others
// start unknown, since the base image's WORKDIR is not known here.
func workdirFixes(d *analyzer.Dockerfile) map[*analyzer.Instruction]*analyzer.Fix {
	fixes := map[*analyzer.Instruction]*analyzer.Fix{}
	final := map[*analyzer.Stage]string{}
	for _, s := range d.Stages {
		cwd := ""
		switch {
		case s.BaseStage != nil:
			cwd = final[s.BaseStage]
		case s.Base.IsScratch():
			cwd = "/"
		}
		for _, in := range s.Instructions {
			if in.Keyword != "WORKDIR" {
				continue
			}
			dir := workdirPath(in)
			switch {
			case dir == "" || strings.ContainsAny(dir, "$\"'\\`"):
				cwd = ""
			case path.IsAbs(dir):
				cwd = path.Clean(dir)
			case cwd != "":
				cwd = path.Join(cwd, dir)
				if in.StartLine == in.EndLine {
					fixes[in] = &analyzer.Fix{
						Message: fmt.Sprintf("write the absolute path %s", cwd),
						Edits:   []analyzer.TextEdit{{Start: in.ArgsStart, End: in.ContentEnd(d.Source), New: cwd}},
					}
				}
			}
		}
		final[s] = cwd
	}
	return fixes
}

func workdirPath(in *analyzer.Instruction) string {
	if c, ok := in.Command.(*instructions.WorkdirCommand); ok {
		return c.Path
	}
	return ""
}

// usesUndeclared reports whether text refers to a variable ($name or
// ${name...}) that no ARG or ENV of the file declares.
func usesUndeclared(text string, declared map[string]bool) bool {
	for i := 0; i < len(text); i++ {
		if text[i] != '$' {
			continue
		}
		j := i + 1
		if j < len(text) && text[j] == '{' {
			j++
		}
		k := j
		for k < len(text) && isVarNameByte(text[k]) {
			k++
		}
		if k > j && !declared[text[j:k]] {
			return true
		}
	}
	return false
}
