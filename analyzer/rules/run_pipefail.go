package rules

import (
	"fmt"
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
		`The fix names a shell that exists at that line and at every RUN after it, and knows the option: ` +
		`bash on GNU systems, busybox ash (the /bin/sh RUN already uses) on Alpine, never a bash that is ` +
		`installed later or not at all; and it proposes no SHELL for the final stage of a base image, whose ` +
		`children would inherit it. ` +
		`dockopt does not report RUNs that set pipefail themselves, nor pipes fed only by echo or printf, ` +
		`which cannot fail. Unlike hadolint, it accepts SHELL ["/bin/sh", "-o", "pipefail", "-c"]: a sh that ` +
		`knows the option (busybox ash) honours it, and one that does not fails every RUN with an error.`,
	Bad:         "FROM debian:12\nRUN curl -fsSL https://example.com/x.tgz | tar xz\n",
	Good:        "FROM debian:12\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL https://example.com/x.tgz | tar xz\n",
	Equivalents: []string{"hadolint:DL4006"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		probeRead := false
		var lastProbe *analyzer.Instruction // read once, when a fix needs it
		piped := func() *analyzer.Instruction {
			if !probeRead {
				probeRead, lastProbe = true, lastPipedShellProbe(p.File)
			}
			return lastProbe
		}
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
				const msg = "a failure before the pipe is hidden: only the last command's status counts; set pipefail"
				if fixed || len(sh) > 0 {
					p.Report(in, msg, nil)
					continue
				}
				fixed = true
				fix, why, pre := pipefailShellFix(p, s, in, piped())
				if fix == nil {
					p.ReportWithheld(in, msg+"; "+why, pre)
					continue
				}
				p.Report(in, msg, fix)
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

// pipefailShellFix inserts a SHELL with pipefail before the RUN, with a
// shell that exists there and in every RUN after it, and that knows the
// option: bash on GNU systems (their /bin/sh, dash, does not), busybox's
// ash on Alpine and BusyBox, which is the /bin/sh RUN already uses there.
// A SHELL of the final image is inherited by every image built FROM it,
// so there it is proposed only for an application image.
func pipefailShellFix(p *analyzer.Pass, s *analyzer.Stage, in *analyzer.Instruction, pipedProbe *analyzer.Instruction) (*analyzer.Fix, string, analyzer.Precondition) {
	if inFinalImage(p.File, s) {
		if ok, why := p.RuntimeChangeAllowed(p.File.FinalStage()); !ok {
			return nil, strings.Replace(why, "no change proposed", "no SHELL proposed", 1) + "; set -o pipefail in the RUN instead where its shell knows it", analyzer.PreconditionRole
		}
	}
	sf := p.Facts().Stage(s)
	var sh, tool string
	switch d := sf.Distro(); d.Userland {
	case analyzer.UserlandBusybox:
		sh, tool = `["/bin/ash", "-o", "pipefail", "-c"]`, "ash"
		if d.Family == analyzer.DistroBusybox {
			sh, tool = `["/bin/sh", "-o", "pipefail", "-c"]`, "sh"
		}
	case analyzer.UserlandGNU, "":
		sh, tool = `["/bin/bash", "-o", "pipefail", "-c"]`, "bash"
	default:
		return nil, fmt.Sprintf("no fix: this stage has no POSIX shell that knows pipefail (%s)", d.Why), analyzer.PreconditionTool
	}
	if ok, why := toolFromHere(p, in, tool); !ok {
		return nil, "no fix: " + why + ", and the SHELL would run this RUN and every later one with it", analyzer.PreconditionTool
	}
	if probe := pipedProbe; probe != nil && probe.StartLine > in.StartLine {
		return nil, fmt.Sprintf("no fix: a later shell-form HEALTHCHECK with a pipe (line %d) may run with this SHELL too, and its pipe would then fail whenever its first command does (wget on a 404, say)", probe.StartLine), analyzer.PreconditionTool
	}
	kw := "SHELL"
	if in.Written == strings.ToLower(in.Written) {
		kw = "shell"
	}
	return &analyzer.Fix{
		Message: "run this stage's RUN instructions with " + sh + " so that a failing command in a pipe fails the build",
		// Above the comments over the RUN, which describe the RUN.
		Edits: []analyzer.TextEdit{insertLinesBefore(p.File, in, kw+" "+sh)},
	}, "", ""
}

// lastPipedShellProbe returns the file's last shell-form HEALTHCHECK
// with a pipe: one after a RUN, in its stage or a stage built on it, runs
// with the SHELL the fix adds. Any later one counts, which keeps this one
// pass over the file's HEALTHCHECKs, usually none.
func lastPipedShellProbe(d *analyzer.Dockerfile) *analyzer.Instruction {
	var last *analyzer.Instruction
	for x := range d.Each("HEALTHCHECK") {
		if x.Onbuild != nil {
			continue
		}
		args := strings.TrimSpace(string(d.Source[x.KeywordStart+len(x.Written) : x.End]))
		for _, f := range x.Flags {
			args = strings.TrimSpace(strings.TrimPrefix(args, f))
		}
		rest, ok := strings.CutPrefix(args, "CMD")
		if !ok {
			rest, ok = strings.CutPrefix(args, "cmd")
		}
		if ok && !strings.HasPrefix(strings.TrimSpace(rest), "[") && strings.Contains(strings.ReplaceAll(rest, "||", ""), "|") {
			last = x
		}
	}
	return last
}
