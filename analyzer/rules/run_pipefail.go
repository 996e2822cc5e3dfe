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
		`dockopt does not report RUNs that set pipefail themselves, nor pipes fed only by echo, printf or yes, ` +
		`which cannot fail. It proposes no SHELL when a pipe it would cover works only without pipefail: ` +
		`yes | cmd, where yes is killed by SIGPIPE when cmd exits, and cmd | head or cmd | grep -q, ` +
		`whose reader stops early and leaves cmd to die of SIGPIPE; nor when a command before the last fails ` +
		`harmlessly today, its status an answer rather than an error: grep that matches nothing, diff, ` +
		`command -v, a glob that matches no file (cat *.patch | patch -p1), ls of a missing path, find over /, ` +
		`a command whose errors go to /dev/null. Pipefail is for failures the build should stop on: a download, ` +
		`a fetch, a build step. Unlike hadolint, it accepts SHELL ["/bin/sh", "-o", "pipefail", "-c"]: a sh that ` +
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

// cannotFail reports a pipeline element that only prints its arguments
// (yes without end: its SIGPIPE is what sigpipeUnder looks for).
func cannotFail(st *syntax.Stmt) bool {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 || len(st.Redirs) > 0 {
		return false
	}
	switch call.Args[0].Lit() {
	case "echo", "printf", "yes":
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
	if why := sigpipeUnder(p.File, in); why != "" {
		return nil, "no fix: " + why, analyzer.PreconditionLater
	}
	for _, at := range coveredRuns(p.File, in) {
		if why := benignFailurePipe(p.File, at); why != "" {
			return nil, "no fix: " + why, analyzer.PreconditionLater
		}
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

// sigpipeUnder says why a SHELL with pipefail above in would fail a RUN
// that builds today: a RUN it covers (in, the later ones of its stage and
// of the stages built from it, up to a SHELL of their own) has a pipe
// whose writer dies of SIGPIPE when its reader exits, which only the
// reader's status hides. It returns "" when there is none.
func sigpipeUnder(d *analyzer.Dockerfile, in *analyzer.Instruction) string {
	for _, at := range coveredRuns(d, in) {
		if why := sigpipePipe(d, at); why != "" {
			return why
		}
	}
	return ""
}

// coveredRuns returns the RUNs a SHELL inserted above in would run: in,
// the later ones of its stage and of the stages built from it, up to a
// SHELL of their own.
func coveredRuns(d *analyzer.Dockerfile, in *analyzer.Instruction) []*analyzer.Instruction {
	var out []*analyzer.Instruction
	inherits := map[*analyzer.Stage]bool{}
	for _, s := range d.Stages {
		if s != in.Stage && (s.BaseStage == nil || !inherits[s.BaseStage]) {
			continue
		}
		inherits[s] = true
		for _, at := range s.Instructions {
			if s == in.Stage && at.StartLine < in.StartLine {
				continue
			}
			if at.Keyword == "SHELL" {
				inherits[s] = false
				break
			}
			if at.Keyword != "RUN" || at.Script == nil || at.Script.File == nil {
				continue
			}
			out = append(out, at)
		}
	}
	return out
}

// sigpipePipe describes the first pipe of a RUN whose writer is killed by
// SIGPIPE before it ends: one that never ends (yes, cat /dev/urandom, tail
// -f), or any writer but echo and printf before a reader that stops early
// (head, grep -q). Without pipefail that status is lost; with it, the RUN
// fails. A pipe inside a command substitution or a condition counts too:
// pipefail reaches it, and whether its status matters is not asked. One
// on the left of `|| true` (or `|| :`) does not: whatever its status, the
// list succeeds, so pipefail changes nothing there.
func sigpipePipe(d *analyzer.Dockerfile, in *analyzer.Instruction) string {
	s := in.Script
	var why string
	// orElse are the pipes on the left of a || (Walk visits the list
	// before its sides).
	orElse := map[*syntax.BinaryCmd]bool{}
	syntax.Walk(s.File, func(n syntax.Node) bool {
		if why != "" {
			return false
		}
		b, ok := n.(*syntax.BinaryCmd)
		if ok && b.Op == syntax.OrStmt && alwaysSucceeds(b.Y) {
			return false
		}
		if ok && b.Op == syntax.OrStmt {
			if x, isBinary := b.X.Cmd.(*syntax.BinaryCmd); isBinary {
				orElse[x] = true
			}
		}
		if !ok || (b.Op != syntax.Pipe && b.Op != syntax.PipeAll) {
			return true
		}
		outcome := "so under pipefail the RUN would fail"
		if orElse[b] {
			// cmd | head || exit 0: the RUN does not fail, but what
			// follows the || runs in place of the rest of the script.
			outcome = "so under pipefail the command after its || would run instead, where today the script goes on"
		}
		line := in.StartLine
		if s.Exact() {
			line = d.Line(s.Pos(b.Pos()))
		}
		stmts := pipeline(b)
		for i, w := range stmts[:len(stmts)-1] {
			writer, wok := stmtCommand(s, w)
			reader, rok := stmtCommand(s, stmts[i+1])
			if wok && endlessWriter(writer, w) {
				rname, exits := "a compound command", "its reader"
				if rok {
					rname, exits = reader.Name, reader.Name
				}
				why = fmt.Sprintf("line %d pipes %s into %s: %s never stops writing and is killed by SIGPIPE when %s exits, %s",
					line, writer.Name, rname, writer.Name, exits, outcome)
				return false
			}
			if !rok || cannotFail(w) {
				continue
			}
			if early := earlyReader(reader); early != "" {
				wname, killed := "a compound command", "it"
				if wok {
					wname, killed = writer.Name, writer.Name
				}
				why = fmt.Sprintf("line %d pipes %s into %s, which stops reading early: %s may then be killed by SIGPIPE, %s",
					line, wname, early, killed, outcome)
				return false
			}
		}
		return true
	})
	return why
}

// alwaysSucceeds reports a statement whose status is 0 whatever came
// before it and after which the script goes on: true or :, with no
// redirection that could fail.
func alwaysSucceeds(st *syntax.Stmt) bool {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || len(st.Redirs) > 0 || len(call.Assigns) > 0 || len(call.Args) == 0 {
		return false
	}
	words := make([]string, len(call.Args))
	for i, w := range call.Args {
		v, ok := analyzer.Literal(w)
		if !ok {
			return false
		}
		words[i] = v
	}
	// Not exit 0: it ends the whole script, so under pipefail what
	// follows the list would silently not run.
	switch words[0] {
	case "true", ":", "/bin/true", "/usr/bin/true":
		return true
	}
	return false
}

// stmtCommand returns the command a pipeline element runs when it is a
// plain call.
func stmtCommand(s *analyzer.Script, st *syntax.Stmt) (analyzer.Command, bool) {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 {
		return analyzer.Command{}, false
	}
	return s.CommandOf(call)
}

// endlessDevices never reach end of file.
var endlessDevices = map[string]bool{"/dev/urandom": true, "/dev/random": true, "/dev/zero": true}

// endlessWriter reports a command that writes until its reader goes away:
// yes, seq to infinity, tail -f, and the filters that copy an endless
// device (cat /dev/urandom, tr -dc a-z </dev/urandom, dd if=/dev/zero
// without count=).
func endlessWriter(c analyzer.Command, st *syntax.Stmt) bool {
	switch c.Name {
	case "yes":
		return true
	case "seq":
		return c.Has("inf", "infinity", "+inf")
	case "tail":
		opts, _ := c.Options("nc", "--lines", "--bytes")
		_, ok := analyzer.LastOption(opts, "-f", "-F", "--follow")
		return ok || c.HasPrefixArg("--follow=")
	case "dd":
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a.Value, "if="); ok && endlessDevices[v] && !c.HasPrefixArg("count=") {
				return true
			}
		}
		return false
	case "cat", "tr", "od", "base64", "hexdump", "xxd", "strings":
		for _, a := range c.Args {
			if endlessDevices[a.Value] {
				return true
			}
		}
		for _, r := range st.Redirs {
			if r.Op == syntax.RdrIn && r.N == nil {
				if v, ok := analyzer.Literal(r.Word); ok && endlessDevices[v] {
					return true
				}
			}
		}
	}
	return false
}

// earlyReader names a reader that may exit before its input ends (head;
// grep -q, -m, -l, -L), "" for one that reads it all. head -n -N and
// -c -N read to the end to leave the last N out.
func earlyReader(c analyzer.Command) string {
	switch c.Name {
	case "head":
		opts, _ := c.Options("nc", "--lines", "--bytes")
		if o, ok := analyzer.LastOption(opts, "-n", "-c", "--lines", "--bytes"); ok && o.HasValue && strings.HasPrefix(o.Value.Value, "-") {
			return ""
		}
		return "head"
	case "sed":
		// A q or Q command (sed 5q, sed -n '1p;q') quits before the
		// input ends. Any q in the script counts: withholding the SHELL
		// for an s/q/x/ costs less than a build that fails.
		for _, a := range c.Args {
			if !strings.HasPrefix(a.Value, "-") && strings.ContainsAny(a.Value, "qQ") {
				return "sed " + a.Value
			}
		}
	case "awk", "gawk", "mawk", "nawk":
		for _, a := range c.Args {
			if strings.Contains(a.Value, "exit") {
				return c.Name + " with exit"
			}
		}
	case "grep", "egrep", "fgrep":
		opts, _ := c.Options("ABCDXdefm", "--after-context", "--before-context", "--context", "--devices", "--directories",
			"--regexp", "--file", "--max-count", "--binary-files", "--label", "--include", "--exclude", "--exclude-dir", "--exclude-from")
		for _, o := range opts {
			switch o.Name {
			case "-q", "--quiet", "--silent", "-m", "--max-count", "-l", "--files-with-matches", "-L", "--files-without-match":
				return c.Name + " " + o.Name
			}
		}
	}
	return ""
}
