package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// statusUse is what a script does with a pipe's status, which pipefail
// changes when a command before the last fails.
type statusUse int

const (
	// statusExit: the status ends the RUN or its && chain, so a failure
	// fails the RUN.
	statusExit statusUse = iota
	// statusTest: the status is tested (an if or while condition, the
	// left of ||, a negation): a failure takes the other way.
	statusTest
	// statusOther: the status reaches something else (a command
	// substitution, a loop or function body, an && chain whose status is
	// dropped): a failure changes what runs next.
	statusOther
	// statusLost: nothing reads the status (a statement followed by
	// another without set -e, the left of || true).
	statusLost
)

// pipeStatusUses returns, for each pipe of the script (the outermost
// BinaryCmd of each pipeline), what is done with its status. errexit says
// the script runs under set -e, where a failing statement ends it.
func pipeStatusUses(f *syntax.File, errexit bool) map[*syntax.BinaryCmd]statusUse {
	uses := map[*syntax.BinaryCmd]statusUse{}
	var list func([]*syntax.Stmt, statusUse)
	var stmt func(*syntax.Stmt, statusUse)
	// words walks what a statement holds outside its own status: the
	// command substitutions of its words.
	words := func(n syntax.Node) {
		syntax.Walk(n, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.CmdSubst:
				list(n.Stmts, statusOther)
				return false
			case *syntax.ProcSubst:
				list(n.Stmts, statusOther)
				return false
			}
			return true
		})
	}
	list = func(stmts []*syntax.Stmt, use statusUse) {
		for i, st := range stmts {
			u := use
			if i < len(stmts)-1 && (!errexit || use == statusTest) {
				u = statusLost
			}
			stmt(st, u)
		}
	}
	stmt = func(st *syntax.Stmt, use statusUse) {
		if st == nil {
			return
		}
		if st.Negated && use != statusLost {
			use = statusTest
		}
		for _, r := range st.Redirs {
			words(r)
		}
		switch c := st.Cmd.(type) {
		case *syntax.BinaryCmd:
			switch c.Op {
			case syntax.Pipe, syntax.PipeAll:
				uses[c] = use
				for _, e := range pipeline(c) {
					stmt(e, statusOther)
				}
			case syntax.AndStmt:
				left := use
				if use == statusLost {
					// Its failure skips the right side.
					left = statusOther
				}
				stmt(c.X, left)
				stmt(c.Y, use)
			case syntax.OrStmt:
				left := statusTest
				if call, ok := c.Y.Cmd.(*syntax.CallExpr); ok && len(call.Args) == 1 && (call.Args[0].Lit() == "true" || call.Args[0].Lit() == ":") {
					left = statusLost
				}
				stmt(c.X, left)
				stmt(c.Y, use)
			}
		case *syntax.IfClause:
			for ic := c; ic != nil; ic = ic.Else {
				list(ic.Cond, statusTest)
				list(ic.Then, use)
			}
		case *syntax.WhileClause:
			list(c.Cond, statusTest)
			list(c.Do, statusOther)
		case *syntax.ForClause:
			words(c.Loop)
			list(c.Do, statusOther)
		case *syntax.Block:
			list(c.Stmts, use)
		case *syntax.Subshell:
			list(c.Stmts, use)
		case *syntax.CaseClause:
			words(c.Word)
			for _, item := range c.Items {
				list(item.Stmts, use)
			}
		case *syntax.FuncDecl:
			stmt(c.Body, statusOther)
		default:
			if c != nil {
				words(c)
			}
		}
	}
	list(f.Stmts, statusExit)
	return uses
}

// scriptErrexit reports a script that runs set -e (or -o errexit)
// anywhere (setsErrexit).
func scriptErrexit(s *analyzer.Script) bool {
	found := false
	syntax.Walk(s.File, func(n syntax.Node) bool {
		if st, ok := n.(*syntax.Stmt); ok && setsErrexit(st) {
			found = true
		}
		return !found
	})
	return found
}

// benignFailure says when a pipe writer fails in a way the author relies
// on being harmless (its status is an answer, not an error), as the
// continuation of "<name> …": "exits 1 when nothing matches". "" for a
// command whose failure is an error the build should stop on (a
// download, a package fetch, a compiler), which pipefail is for.
func benignFailure(c analyzer.Command, st *syntax.Stmt) string {
	// A download whose messages are silenced (wget -qO- URL 2>/dev/null
	// | tar xz) still fails as an error: pipefail is what catches it.
	download := c.Name == "curl" || c.Name == "wget"
	for _, r := range st.Redirs {
		if download {
			break
		}
		if v, ok := analyzer.Literal(r.Word); ok && (r.Op == syntax.RdrOut || r.Op == syntax.AppOut || r.Op == syntax.RdrAll) && v == "/dev/null" && (r.Op == syntax.RdrAll || r.N != nil && r.N.Value == "2") {
			return "may fail: its errors are sent to /dev/null"
		}
		if r.Op == syntax.DplOut && r.N != nil && r.N.Value == "2" {
			if v, ok := analyzer.Literal(r.Word); ok && v == "-" {
				return "may fail: its errors are closed off"
			}
		}
	}
	for i, w := range c.Prefix {
		if w.Value == "command" && i+1 < len(c.Prefix) && (c.Prefix[i+1].Value == "-v" || c.Prefix[i+1].Value == "-V") {
			return "exits 1 when the command is not there"
		}
	}
	switch c.Name {
	case "grep", "egrep", "fgrep", "zgrep", "rg":
		return "exits 1 when nothing matches"
	case "diff", "cmp":
		return "exits 1 when the files differ"
	case "which", "type", "hash":
		return "exits 1 when the command is not there"
	case "test", "[":
		return "exits 1 when the test is false"
	case "pgrep", "pidof":
		return "exits 1 when no process matches"
	case "dpkg-query":
		return "fails when a package is not installed"
	case "dpkg":
		if c.Has("-s", "--status", "-l", "--list", "-L", "--listfiles", "-S", "--search") {
			return "fails when a package is not installed"
		}
	case "rpm":
		if c.HasPrefixArg("-q") {
			return "fails when a package is not installed"
		}
	case "ldd":
		return "fails on a file that is not a dynamic executable"
	case "find":
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "-") {
				break
			}
			if a.Value == "/" {
				return "fails when an entry of /proc vanishes while it walks /"
			}
		}
	case "xargs":
		// xargs exits 123 when a command it runs fails.
		if inner := xargsCommand(c); inner != "" {
			if why := benignFailure(analyzer.Command{Name: inner}, &syntax.Stmt{}); why != "" {
				return "exits 123 when " + inner + ", which it runs, " + why
			}
		}
	}
	for _, a := range c.Args {
		if c.Name == "find" && strings.HasPrefix(a.Value, "-") {
			break // find's patterns are its own, not the shell's
		}
		if strings.HasPrefix(a.Value, "-") || strings.Contains(a.Value, "://") {
			// An option (--exclude=*.pyc) or a URL (…/x.tgz?raw=true)
			// that matches no file is passed on as written, as meant.
			continue
		}
		if a.Node != nil && unquotedGlob(a.Node) {
			return "fails when " + a.Value + " matches no file"
		}
	}
	if c.Name == "ls" {
		for _, a := range c.Args {
			if !strings.HasPrefix(a.Value, "-") {
				return "fails when a path it lists does not exist"
			}
		}
	}
	return ""
}

// xargsCommand returns the base name of the command xargs runs, "" when
// it is not a plain word.
func xargsCommand(c analyzer.Command) string {
	_, positional := c.Options("aEeIiLlnPsd", "--arg-file", "--eof", "--replace", "--max-lines", "--max-args", "--max-procs", "--max-chars", "--delimiter")
	if len(positional) == 0 || positional[0].Dynamic {
		return ""
	}
	name := positional[0].Value
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// unquotedGlob reports a word with a *, ? or [ outside quotes, which the
// shell expands to file names, or leaves as it is when none matches.
func unquotedGlob(w *syntax.Word) bool {
	for _, p := range w.Parts {
		if lit, ok := p.(*syntax.Lit); ok && strings.ContainsAny(lit.Value, "*?[") {
			return true
		}
	}
	return false
}

// benignFailurePipe describes the first pipe of a RUN whose status a
// SHELL with pipefail would change although nothing is wrong: a command
// before the last that fails as an answer (grep matching nothing, diff,
// command -v), on input that may be absent (a glob that matches no file,
// ls of a missing path) or with its errors silenced; "" when there is
// none, or the script drops that pipe's status anyway.
func benignFailurePipe(d *analyzer.Dockerfile, in *analyzer.Instruction) string {
	s := in.Script
	uses := pipeStatusUses(s.File, scriptErrexit(s))
	pipefailAt := -1 // where the RUN turns pipefail on itself
	for _, c := range s.CommandsNamed("set") {
		if c.Has("pipefail") && (pipefailAt < 0 || c.Call.Pos().Offset() < uint(pipefailAt)) {
			pipefailAt = int(c.Call.Pos().Offset())
		}
	}
	var why string
	syntax.Walk(s.File, func(n syntax.Node) bool {
		if why != "" {
			return false
		}
		b, ok := n.(*syntax.BinaryCmd)
		if !ok || (b.Op != syntax.Pipe && b.Op != syntax.PipeAll) {
			return true
		}
		if pipefailAt >= 0 && int(b.Pos().Offset()) > pipefailAt {
			return false
		}
		use, known := uses[b]
		if !known {
			use = statusOther
		}
		if use == statusLost {
			return true
		}
		stmts := pipeline(b)
		for i, w := range stmts[:len(stmts)-1] {
			name, fails := benignWriter(s, w)
			if fails == "" {
				continue
			}
			rname := "a compound command"
			if reader, ok := stmtCommand(s, stmts[i+1]); ok {
				rname = reader.Name
			}
			line := in.StartLine
			if s.Exact() {
				line = d.Line(s.Pos(w.Pos()))
			}
			outcome := "the RUN would fail in that case"
			switch use {
			case statusTest:
				outcome = "the test the pipe is part of would go the other way in that case"
			case statusOther:
				outcome = "the pipe would fail in that case, where it succeeds today"
			}
			why = fmt.Sprintf("line %d pipes %s into %s: %s %s, which only %s's status hides today, so under pipefail %s", line, name, rname, name, fails, rname, outcome)
			return false
		}
		return true
	})
	return why
}

// benignWriter returns the command of a pipe element that may fail
// harmlessly and when (benignFailure); for a compound element, the first
// such command it runs outside command substitutions.
func benignWriter(s *analyzer.Script, st *syntax.Stmt) (name, fails string) {
	if c, ok := stmtCommand(s, st); ok {
		return c.Name, benignFailure(c, st)
	}
	syntax.Walk(st, func(n syntax.Node) bool {
		if fails != "" {
			return false
		}
		switch n := n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst:
			return false
		case *syntax.Stmt:
			if c, ok := stmtCommand(s, n); ok {
				if why := benignFailure(c, n); why != "" {
					name, fails = c.Name, why
				}
			}
		}
		return true
	})
	return name, fails
}
