package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// MaskedErrors finds RUN scripts that let a failed command pass.
var MaskedErrors = &analyzer.Rule{
	ID:       "masked-errors",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "RUN hides the failure of a command",
	Rationale: `A RUN fails the build only when its last command fails. Commands joined with ";" (without ` +
		"`set -e`" + `), or followed by "|| true", "|| :" or "|| exit 0", can fail silently: the build goes ` +
		`green and the image ships without the package that did not install or the file that did not ` +
		`download, to break later in production where it is harder to see why. Join commands with && and ` +
		`let failures fail. Conventional cases whose failure is harmless (rm -f, grep, pkill, test, stopping a ` +
		`gpg-agent with gpgconf --kill) are not reported, nor ";" inside if/for/while bodies or after set -e, ` +
		`nor the ";" before a closing "exit $status" that passes a kept status on (a retry loop's end), ` +
		`nor the ";" after ". FILE" under sh, which exits when it cannot read the file (. is a special built-in).`,
	Bad:            "RUN apt-get update; apt-get install -y curl\nRUN pip install gunicorn || true\n",
	Good:           "RUN apt-get update && apt-get install -y curl\nRUN pip install gunicorn\n",
	Fix:            analyzer.Review,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			stmts := topStmts(in.Script)
			if len(stmts) == 0 {
				continue
			}
			checkSemicolons(p, in, stmts)
			checkOrTrue(p, in)
		}
	},
}

// harmlessFailures are commands whose failure is conventionally
// ignored: removing what may not exist, testing, signalling.
var harmlessFailures = map[string]bool{
	"rm": true, "rmdir": true, "unlink": true, "pkill": true, "kill": true, "killall": true, "umount": true,
	"grep": true, "egrep": true, "fgrep": true, "test": true, "[": true, "[[": true, "diff": true, "cmp": true,
	"which": true, "command": true, "type": true, "id": true, "getent": true, "true": true, "false": true,
	":": true, "echo": true, "printf": true, "set": true, "export": true, "ls": true, "cat": true,
	"userdel": true, "groupdel": true, "deluser": true, "delgroup": true, "ldconfig": true, "hash": true,
}

// setsErrexit reports a statement that turns on `set -e`.
func setsErrexit(st *syntax.Stmt) bool {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) < 2 || call.Args[0].Lit() != "set" {
		return false
	}
	for i, a := range call.Args[1:] {
		v := a.Lit()
		if len(v) > 1 && v[0] == '-' && v[1] != '-' && v[1] != 'o' && strings.Contains(v, "e") {
			return true
		}
		if v == "-o" && i+2 < len(call.Args) && call.Args[i+2].Lit() == "errexit" {
			return true
		}
		if len(v) > 1 && v[0] == '-' && strings.Contains(v, "e") && strings.HasSuffix(v, "o") && i+2 < len(call.Args) && call.Args[i+2].Lit() == "pipefail" {
			return true // -eo pipefail
		}
	}
	return false
}

func shellErrexit(s *analyzer.Stage) bool {
	if s == nil {
		return false
	}
	for i, w := range s.Shell {
		if i == 0 {
			continue
		}
		if (strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "e") && w != "-c") ||
			w == "errexit" {
			return true
		}
	}
	return false
}

// stmtNames returns the names of the commands a statement runs. `command
// -v git` asks whether git is there and runs nothing: its name is command,
// a probe like which, type and test, not git (the model unwraps the
// wrapper, since other rules count the probe as a use of git).
func stmtNames(sc *analyzer.Script, st *syntax.Stmt) []string {
	var names []string
	for _, c := range sc.CommandsWithin(st.Pos(), st.End()) {
		if commandProbe(c) {
			names = append(names, "command")
			continue
		}
		if stopsGPGAgent(c) {
			names = append(names, "kill")
			continue
		}
		names = append(names, c.Name)
	}
	return names
}

// stopsGPGAgent reports `gpgconf --kill …` or `gpg-connect-agent
// killagent`, which stop the agent a key import may have started and fail
// when none runs: the official images' `command -v gpgconf && gpgconf
// --kill all || :` ignores that on purpose. Like kill, their name is kill.
func stopsGPGAgent(c analyzer.Command) bool {
	for _, a := range c.Args {
		if c.Name == "gpgconf" && a.Value == "--kill" || c.Name == "gpg-connect-agent" && strings.EqualFold(a.Value, "killagent") {
			return true
		}
	}
	return false
}

// commandProbe reports `command -v NAME` or `command -V NAME`, which only
// look the name up.
func commandProbe(c analyzer.Command) bool {
	for i, w := range c.Prefix {
		if w.Value != "command" {
			continue
		}
		for _, o := range c.Prefix[i+1:] {
			if !strings.HasPrefix(o.Value, "-") {
				break
			}
			if strings.ContainsAny(o.Value[1:], "vV") {
				return true
			}
		}
	}
	return false
}

func allHarmless(names []string) bool {
	for _, n := range names {
		if !harmlessFailures[n] {
			return false
		}
	}
	return true
}

func firstHarmful(names []string) string {
	for _, n := range names {
		if !harmlessFailures[n] {
			return n
		}
	}
	return ""
}

func checkSemicolons(p *analyzer.Pass, in *analyzer.Instruction, stmts []*syntax.Stmt) {
	sc := in.Script
	errexit := shellErrexit(in.Stage)
	dotFatal := posixShell(in)
	var masked []*syntax.Stmt
	for i, st := range stmts {
		if setsErrexit(st) {
			errexit = true
			continue
		}
		if i == len(stmts)-1 || errexit {
			continue
		}
		if i == len(stmts)-2 && exitsWithStatus(stmts[i+1], keptStatus(sc)) {
			// `…; exit $status` (or a bare exit) ends the script with a
			// status it chose or with this statement's: a retry loop's
			// way of failing, not a masked failure.
			continue
		}
		if _, ok := st.Cmd.(*syntax.CallExpr); !ok {
			if _, ok := st.Cmd.(*syntax.BinaryCmd); !ok {
				// if/for/while/case: what their bodies ignore is their
				// own business, and their status is often meaningless.
				continue
			}
		}
		if dotFatal && sourcesFile(st) {
			continue
		}
		names := stmtNames(sc, st)
		if len(names) == 0 || allHarmless(names) {
			continue
		}
		masked = append(masked, st)
	}
	if len(masked) == 0 {
		return
	}
	first := firstHarmful(stmtNames(sc, masked[0]))
	how := `commands joined by ";"`
	if sc.Heredoc {
		how = "the heredoc's commands"
	}
	msg := fmt.Sprintf("%s run on after a failure: if %s fails the build still succeeds; join them with && or start the script with set -e", how, first)
	if len(masked) > 1 {
		msg = fmt.Sprintf("%s run on after a failure (%d commands can fail unnoticed, the first is %s); join them with && or start the script with set -e", how, len(masked), first)
	}
	p.Report(in, msg, semicolonFix(sc, stmts))
}

// sourcesFile reports `. FILE`: . is a POSIX special built-in, and a
// non-interactive POSIX shell exits when it cannot read the file, so the
// ";" after it lets no failure through.
func sourcesFile(st *syntax.Stmt) bool {
	call, ok := st.Cmd.(*syntax.CallExpr)
	return ok && len(call.Args) >= 2 && call.Args[0].Lit() == "."
}

// posixShell reports a RUN whose shell is a POSIX sh: the default
// /bin/sh (dash, busybox ash, or bash started as sh, which is in POSIX
// mode), a SHELL naming sh, dash or ash, or bash with --posix or -o posix.
// bash otherwise carries on after a failed . or source.
func posixShell(in *analyzer.Instruction) bool {
	sh := in.Shell
	if len(sh) == 0 {
		return true
	}
	switch path.Base(sh[0]) {
	case "sh", "dash", "ash":
		return true
	case "bash":
		for i, w := range sh {
			if w == "--posix" || w == "posix" && i > 0 && sh[i-1] == "-o" {
				return true
			}
		}
	}
	return false
}

// exitsWithStatus reports `exit`, `exit $?`, or `exit $name` or `exit
// "$name"` where name is one of kept, the variables the script assigns a
// status to.
func exitsWithStatus(st *syntax.Stmt, kept map[string]bool) bool {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 || call.Args[0].Lit() != "exit" {
		return false
	}
	if len(call.Args) == 1 {
		return true
	}
	if len(call.Args) != 2 || len(call.Args[1].Parts) != 1 {
		return false
	}
	part := call.Args[1].Parts[0]
	if dq, ok := part.(*syntax.DblQuoted); ok && len(dq.Parts) == 1 {
		part = dq.Parts[0]
	}
	pe, ok := part.(*syntax.ParamExp)
	if !ok || pe.Param == nil || pe.Length || pe.Exp != nil || pe.Repl != nil || pe.Slice != nil {
		return false
	}
	return pe.Param.Value == "?" || kept[pe.Param.Value]
}

// keptStatus returns the variables a script assigns $? to (exit_code=$?):
// an exit with one of them passes a failure's status on. A variable set
// to a constant (rc=0) does not.
func keptStatus(sc *analyzer.Script) map[string]bool {
	kept := map[string]bool{}
	syntax.Walk(sc.File, func(n syntax.Node) bool {
		a, ok := n.(*syntax.Assign)
		if !ok || a.Name == nil || a.Value == nil || len(a.Value.Parts) != 1 {
			return true
		}
		if pe, ok := a.Value.Parts[0].(*syntax.ParamExp); ok && pe.Param != nil && pe.Param.Value == "?" {
			kept[a.Name.Value] = true
		}
		return true
	})
	return kept
}

// semicolonFix turns top-level `;` into && when every statement is a
// plain command or && chain, so precedence cannot change the meaning.
func semicolonFix(sc *analyzer.Script, stmts []*syntax.Stmt) *analyzer.Fix {
	if !sc.Exact() || sc.Heredoc {
		return nil
	}
	var edits []analyzer.TextEdit
	for i, st := range stmts {
		if !callChain(st) {
			return nil
		}
		if i == len(stmts)-1 {
			break
		}
		if !st.Semicolon.IsValid() {
			return nil // separated by a newline: not a plain RUN line
		}
		at := sc.Pos(st.Semicolon)
		src := sc.Src
		rel := int(st.Semicolon.Offset())
		repl := "&&"
		if rel == 0 || (src[rel-1] != ' ' && src[rel-1] != '\t') {
			repl = " " + repl
		}
		if rel+1 < len(src) && src[rel+1] != ' ' && src[rel+1] != '\t' && src[rel+1] != '\n' {
			repl += " "
		}
		edits = append(edits, analyzer.TextEdit{Start: at, End: at + 1, New: repl})
	}
	if len(edits) == 0 {
		return nil
	}
	return &analyzer.Fix{Message: "join the commands with && so that a failure stops the build", Edits: edits}
}

// maskingTail reports the right side of `||` that swallows a failure.
func maskingTail(st *syntax.Stmt) (string, bool) {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 {
		return "", false
	}
	name := call.Args[0].Lit()
	switch name {
	case "true", ":":
		return "|| " + name, true
	case "exit", "return":
		if len(call.Args) == 2 && call.Args[1].Lit() == "0" {
			return "|| " + name + " 0", true
		}
		if len(call.Args) == 1 {
			return "", false // exit with the status of the failed command
		}
	case "echo", "printf":
		return "|| " + name + " …", true
	}
	return "", false
}

func checkOrTrue(p *analyzer.Pass, in *analyzer.Instruction) {
	sc := in.Script
	syntax.Walk(sc.File, func(n syntax.Node) bool {
		b, ok := n.(*syntax.BinaryCmd)
		if !ok || b.Op != syntax.OrStmt {
			return true
		}
		tail, ok := maskingTail(b.Y)
		if !ok {
			return true
		}
		names := stmtNames(sc, b.X)
		if len(names) == 0 || allHarmless(names) {
			return true
		}
		p.Report(in, fmt.Sprintf("%q hides a failure of %s: the build succeeds and the image ships without what it should have done; remove it, or handle the expected failure explicitly", tail, firstHarmful(names)), nil)
		return true
	})
}
