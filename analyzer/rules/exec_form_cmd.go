package rules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// ExecFormCmd mirrors BuildKit's JSONArgsRecommended and hadolint DL3025.
var ExecFormCmd = &analyzer.Rule{
	ID:       "exec-form-cmd",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "CMD or ENTRYPOINT in shell form",
	Rationale: `In shell form the container's main process is /bin/sh, not the program: SIGTERM from "docker stop" ` +
		`or Kubernetes reaches the shell, which does not pass it on, so the program is killed after the grace ` +
		`period instead of shutting down cleanly, and zombie processes are not reaped. The JSON (exec) form runs ` +
		`the program directly. Like BuildKit, and unlike hadolint, dockopt accepts the shell form when the ` +
		`stage sets a SHELL on purpose, and, unlike hadolint, it accepts HEALTHCHECK CMD in shell form: a health ` +
		`check is a short command run beside the main process, so signals do not concern it. The fix is offered ` +
		`only for a plain list of words; it needs review ` +
		`because signals now reach the program, and for an ENTRYPOINT so do "docker run" arguments, which the ` +
		`shell form ignored (a CMD's are replaced by them in either form), while for a CMD a base image's ` +
		`ENTRYPOINT gets the program instead of /bin/sh as its argument.`,
	Bad:         "FROM node:20\nCMD node server.js\n",
	Good:        "FROM node:20\nCMD [\"node\", \"server.js\"]\n",
	Equivalents: []string{"buildkit:JSONArgsRecommended", "hadolint:DL3025"},
	Fix:         analyzer.Review,
	Check: func(p *analyzer.Pass) {
		d := p.File
		shells := newChainFirst(func(in *analyzer.Instruction) bool { return in.Keyword == "SHELL" })
		cmdAfter := stagesWithCMDAfter(d)
		for _, s := range d.Stages {
			// A SHELL inherited from the stages s is built on.
			shell := shells.inChain(s.BaseStage)
			for _, in := range s.Instructions {
				if in.Keyword == "SHELL" {
					shell = true
				}
				if (in.Keyword != "CMD" && in.Keyword != "ENTRYPOINT") || in.JSON || shell {
					continue
				}
				sh := "/bin/sh -c"
				if s.Windows {
					sh = "cmd /S /C"
				}
				msg := fmt.Sprintf("%s in shell form runs the program under %s, which does not pass on SIGTERM; use the JSON form", in.Written, sh)
				// exec replaces the shell with the program, which then
				// gets the signals; BuildKit's JSONArgsRecommended still
				// fires, and an ENTRYPOINT still loses CMD and docker run
				// arguments.
				execs := !s.Windows && execsProgram(in)
				if execs {
					msg = fmt.Sprintf("%s in shell form execs the program from /bin/sh -c, so it gets the signals; the JSON form runs it without the shell", in.Written)
					if in.Keyword == "ENTRYPOINT" {
						msg = fmt.Sprintf("%s in shell form ignores CMD and docker run arguments (exec still hands signals to the program); use the JSON form", in.Written)
					}
				}
				// A CMD of a stage the final image is built FROM is the
				// final image's command until a later stage sets another.
				gate := s
				if shipsInFinalImage(d, s) {
					gate = d.FinalStage()
				}
				if runtimeChangeRefused(p, gate, in, msg) {
					continue
				}
				var fix *analyzer.Fix
				if words, ok := plainCommandWords(in); ok && !s.Windows && !hasCommentLine(d, in) && !(in.Keyword == "ENTRYPOINT" && cmdAfter[s]) {
					fix = &analyzer.Fix{
						Message: execFormFixMessage(in.Keyword, execs),
						Edits:   []analyzer.TextEdit{{Start: in.ArgsStart, End: in.ContentEnd(d.Source), New: jsonArgs(words)}},
					}
				}
				p.Report(in, msg, fix)
			}
		}
	},
}

// execFormFixMessage says what the exec form changes for the keyword.
// docker run arguments replace a CMD in either form, so only an
// ENTRYPOINT's program starts receiving them; a CMD becomes the arguments
// of a base image's ENTRYPOINT, where the shell form gave it /bin/sh.
// With exec the signals reached the program before.
func execFormFixMessage(keyword string, execs bool) string {
	switch {
	case keyword == "ENTRYPOINT" && execs:
		return "switch to the exec form: docker run arguments now reach the program"
	case keyword == "ENTRYPOINT":
		return "switch to the exec form: signals and docker run arguments now reach the program"
	case execs:
		return "switch to the exec form: the program starts without a shell in front (docker run arguments still replace the command, as before), and a base image ENTRYPOINT gets the program instead of /bin/sh as its argument"
	}
	return "switch to the exec form: signals now reach the program (docker run arguments still replace the command, as before), and a base image ENTRYPOINT gets the program instead of /bin/sh as its argument"
}

// execsProgram reports a shell-form command whose last command, run when
// the ones before it succeed, is exec PROGRAM: the shell gives its process
// to the program.
func execsProgram(in *analyzer.Instruction) bool {
	if len(in.Args) != 1 || len(in.Heredocs) > 0 {
		return false
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(in.Args[0]), "")
	if err != nil || len(f.Stmts) == 0 {
		return false
	}
	st := f.Stmts[len(f.Stmts)-1]
	for {
		b, ok := st.Cmd.(*syntax.BinaryCmd)
		if !ok || b.Op != syntax.AndStmt {
			break
		}
		st = b.Y
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || len(call.Args) < 2 {
		return false
	}
	return call.Args[0].Lit() == "exec"
}

// stagesWithCMDAfter returns the stages to which a CMD applies, their own
// or one of a stage built on them: an exec-form ENTRYPOINT would receive
// it as arguments, where the shell form ignored it. Stages only build on
// earlier ones, so one walk back through them carries it down the chains.
func stagesWithCMDAfter(d *analyzer.Dockerfile) map[*analyzer.Stage]bool {
	out := map[*analyzer.Stage]bool{}
	for i := len(d.Stages) - 1; i >= 0; i-- {
		s := d.Stages[i]
		for _, in := range s.Instructions {
			if in.Keyword == "CMD" {
				out[s] = true
			}
		}
		if out[s] && s.BaseStage != nil {
			out[s.BaseStage] = true
		}
	}
	return out
}

// shellBuiltins cannot run without a shell; `exec` is dropped instead, since
// the exec form does what it did.
var shellBuiltins = map[string]bool{
	"cd": true, "source": true, ".": true, "export": true, "set": true, "ulimit": true, "trap": true,
	"eval": true, "exit": true, "wait": true, "umask": true, "alias": true, "read": true, "unset": true,
	"shift": true, "readonly": true, "local": true, "declare": true, "typeset": true, "command": true,
}

// plainCommandWords returns the words of a shell-form command when the shell
// adds nothing to it: one simple command of literal words, without
// variables, globs, tildes, escapes, redirections or operators.
func plainCommandWords(in *analyzer.Instruction) ([]string, bool) {
	if len(in.Args) != 1 || len(in.Heredocs) > 0 {
		return nil, false
	}
	text := in.Args[0]
	if strings.ContainsAny(text, "$`\\\n") {
		return nil, false
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(text), "")
	if err != nil || len(f.Stmts) != 1 || len(f.Last) > 0 {
		return nil, false
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || st.Coprocess || len(st.Redirs) > 0 || len(st.Comments) > 0 || len(call.Assigns) > 0 || len(call.Args) == 0 {
		return nil, false
	}
	var words []string
	for _, w := range call.Args {
		v, ok := plainShellWord(w)
		if !ok {
			return nil, false
		}
		words = append(words, v)
	}
	if words[0] == "exec" {
		words = words[1:]
	}
	if len(words) == 0 || shellBuiltins[words[0]] || strings.HasPrefix(words[0], "-") {
		return nil, false
	}
	return words, true
}

// plainShellWord returns the value of a word made only of plain text and
// quoted text, with nothing the shell would expand.
func plainShellWord(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for i, part := range w.Parts {
		switch x := part.(type) {
		case *syntax.Lit:
			if strings.ContainsAny(x.Value, "*?[]{}") || (i == 0 && strings.HasPrefix(x.Value, "~")) {
				return "", false
			}
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			if x.Dollar {
				return "", false
			}
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(lit.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// jsonArgs writes the exec form, `["a", "b"]`, without HTML escaping.
func jsonArgs(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(w)
		parts[i] = strings.TrimSuffix(b.String(), "\n")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
