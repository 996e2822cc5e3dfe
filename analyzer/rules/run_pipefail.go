package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// RunPipefail mirrors hadolint DL4006.
var RunPipefail = &analyzer.Rule{
	ID:       "run-pipefail",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "RUN with a pipe but without pipefail",
	Rationale: `A shell pipeline's status is the status of its last command. In RUN curl -fsSL $URL | tar xz, ` +
		`a failed download still lets the step succeed whenever tar exits 0, and the image is built without ` +
		`the file. With pipefail the step fails instead. Set it for the whole stage with SHELL ` +
		`["/bin/bash", "-o", "pipefail", "-c"] (Alpine: /bin/ash), or with set -o pipefail in the RUN. ` +
		`dockopt does not report RUNs that set pipefail themselves, nor pipes fed only by echo or printf, ` +
		`which cannot fail. Unlike hadolint, it accepts SHELL ["/bin/sh", "-o", "pipefail", "-c"]: a sh that ` +
		`knows the option (busybox ash) honours it, and one that does not fails every RUN with an error.`,
	Bad:         "FROM debian:12\nRUN curl -fsSL https://example.com/x.tgz | tar xz\n",
	Good:        "FROM debian:12\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL https://example.com/x.tgz | tar xz\n",
	Equivalents: []string{"hadolint:DL4006"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		bash := installs("bash")
		for _, s := range p.File.Stages {
			var sh []string
			if s.BaseStage != nil {
				sh = s.BaseStage.Shell
			}
			fixed := false
			for _, in := range s.Instructions {
				if in.Keyword == "SHELL" {
					sh = in.Args
					continue
				}
				if in.Keyword != "RUN" || in.Script == nil || in.Script.File == nil || shellHasPipefail(sh) {
					continue
				}
				pipe := riskyPipe(in.Script)
				if pipe == nil {
					continue
				}
				var fix *analyzer.Fix
				if !fixed && len(sh) == 0 {
					fix = pipefailShellFix(p.File, s, in, bash)
					fixed = fix != nil
				}
				p.Report(in, "a failure before the pipe is hidden: only the last command's status counts; set pipefail", fix)
			}
		}
	},
}

func shellHasPipefail(sh []string) bool {
	for i, a := range sh {
		if a == "pipefail" && i > 0 && strings.HasPrefix(sh[i-1], "-") && strings.Contains(sh[i-1], "o") {
			return true
		}
	}
	return false
}

// riskyPipe returns the first pipeline whose status can hide a failure,
// unless the script turns pipefail on before it.
func riskyPipe(s *analyzer.Script) *syntax.BinaryCmd {
	var found *syntax.BinaryCmd
	syntax.Walk(s.File, func(n syntax.Node) bool {
		if found != nil {
			return false
		}
		b, ok := n.(*syntax.BinaryCmd)
		if !ok || (b.Op != syntax.Pipe && b.Op != syntax.PipeAll) {
			return true
		}
		stmts := pipeline(b)
		for _, st := range stmts[:len(stmts)-1] {
			if !cannotFail(st) {
				found = b
				return false
			}
		}
		return false
	})
	if found == nil {
		return nil
	}
	for _, c := range s.CommandsNamed("set") {
		if c.Call.Pos().Offset() < found.Pos().Offset() && c.Has("pipefail") {
			return nil
		}
	}
	return found
}

// cannotFail reports a pipeline element that only prints its arguments.
func cannotFail(st *syntax.Stmt) bool {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 || len(st.Redirs) > 0 {
		return false
	}
	switch call.Args[0].Lit() {
	case "echo", "printf":
		return true
	}
	return false
}

// pipefailShellFix inserts a SHELL with pipefail before the RUN, when the
// stage's image has a shell known to support it (bash finds where a chain
// installs bash).
func pipefailShellFix(d *analyzer.Dockerfile, s *analyzer.Stage, in *analyzer.Instruction, bash *chainFirst) *analyzer.Fix {
	var sh string
	switch base := s.Root().Base; {
	case bash.inChain(s) || base.Distro() == "debian" || base.Distro() == "rhel" || base.Distro() == "suse":
		sh = `["/bin/bash", "-o", "pipefail", "-c"]`
	case base.Distro() == "alpine":
		sh = `["/bin/ash", "-o", "pipefail", "-c"]`
	default:
		return nil
	}
	kw := "SHELL"
	if in.Written == strings.ToLower(in.Written) {
		kw = "shell"
	}
	text := kw + " " + sh + d.Newline() + d.Indent(in.StartLine)
	return &analyzer.Fix{
		Message: "run this stage's RUN instructions with " + sh + " so that a failing command in a pipe fails the build",
		Edits:   []analyzer.TextEdit{{Start: in.Start, End: in.Start, New: text}},
	}
}
