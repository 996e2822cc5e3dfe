package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// Queries on the shell scripts of RUN instructions.

// topStmts returns the top-level statements of a script that parsed.
func topStmts(s *analyzer.Script) []*syntax.Stmt {
	if s == nil || s.File == nil || s.Err != nil {
		return nil
	}
	return s.File.Stmts
}

// callChain reports a statement that is a plain command or a chain of
// plain commands joined by &&, with nothing in the background: a list
// whose commands can be moved as text.
func callChain(st *syntax.Stmt) bool {
	if st.Background || st.Coprocess || st.Negated {
		return false
	}
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		return true
	case *syntax.BinaryCmd:
		return c.Op == syntax.AndStmt && callChain(c.X) && callChain(c.Y)
	}
	return false
}

// topLevelCommands returns the simple commands that run in the RUN's own
// shell at the top level of its lists and && / || chains: not those inside
// subshells, functions, loops, conditionals or command substitutions.
func topLevelCommands(s *analyzer.Script) []analyzer.Command {
	return chainedCommands(s, false)
}

// unconditionalCommands returns the simple commands of a RUN that run
// whenever the RUN succeeds: its top-level statements and the members of
// their && chains, not a side of ||, nor a negated or background command,
// nor anything inside a conditional, loop, subshell, function or command
// substitution.
func unconditionalCommands(s *analyzer.Script) []analyzer.Command {
	return chainedCommands(s, true)
}

// chainedCommands returns the simple commands of the script's top-level
// statements and their && chains, and their || chains too unless
// unconditional, in script order.
func chainedCommands(s *analyzer.Script, unconditional bool) []analyzer.Command {
	if s == nil || s.File == nil {
		return nil
	}
	top := map[*syntax.CallExpr]bool{}
	var visit func(st *syntax.Stmt)
	visit = func(st *syntax.Stmt) {
		if st == nil || unconditional && (st.Background || st.Negated) {
			return
		}
		switch c := st.Cmd.(type) {
		case *syntax.CallExpr:
			top[c] = true
		case *syntax.BinaryCmd:
			if c.Op == syntax.AndStmt || c.Op == syntax.OrStmt && !unconditional {
				visit(c.X)
				visit(c.Y)
			}
		}
	}
	for _, st := range s.File.Stmts {
		visit(st)
	}
	var out []analyzer.Command
	for _, c := range s.Commands() {
		if top[c.Call] {
			out = append(out, c)
		}
	}
	return out
}

// stmtCallName returns a statement's command name after wrappers (sudo,
// env …) when it is a plain call, "" otherwise.
func stmtCallName(s *analyzer.Script, st *syntax.Stmt) string {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 {
		return ""
	}
	c, _ := s.CommandOf(call)
	return c.Name
}

// pipeline flattens a chain of `|` and `|&` into its commands.
func pipeline(b *syntax.BinaryCmd) []*syntax.Stmt {
	var out []*syntax.Stmt
	for _, side := range []*syntax.Stmt{b.X, b.Y} {
		if inner, ok := side.Cmd.(*syntax.BinaryCmd); ok && (inner.Op == syntax.Pipe || inner.Op == syntax.PipeAll) {
			out = append(out, pipeline(inner)...)
			continue
		}
		out = append(out, side)
	}
	return out
}

// shellNames are the interpreters a downloaded script is piped into.
var shellNames = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "busybox": true}

// commandNameEnd returns the file offset just after the command's name word
// (after `sudo` and similar wrappers), or -1 when positions are not exact.
func commandNameEnd(s *analyzer.Script, c analyzer.Command) int {
	if !s.Exact() || len(c.Call.Args) <= len(c.Prefix) {
		return -1
	}
	return s.End(c.Call.Args[len(c.Prefix)].End())
}

// subcommandWord returns the word of the first positional argument.
func subcommandWord(c analyzer.Command, valued ...string) (analyzer.Word, bool) {
	pos := c.Positional(valued...)
	if len(pos) == 0 {
		return analyzer.Word{}, false
	}
	return pos[0], true
}

// afterSubcommand returns the positional words after the subcommand.
func afterSubcommand(c analyzer.Command, valued ...string) []analyzer.Word {
	pos := c.Positional(valued...)
	if len(pos) == 0 {
		return nil
	}
	return pos[1:]
}

// removesPath reports an `rm` in the script whose argument is dir or lies
// under it ("/var/lib/apt/lists/*" for "/var/lib/apt/lists").
func removesPath(s *analyzer.Script, dir string) bool {
	for _, c := range s.CommandsNamed("rm") {
		for _, a := range c.Args {
			v := strings.TrimRight(a.Value, "/*")
			if v == dir || strings.HasPrefix(a.Value, dir+"/") {
				return true
			}
		}
	}
	return false
}

// fallbackFor returns the text of what runs when the call fails because
// it is on the left of `||` whose right side does not itself fail (exit,
// return, false): the build goes on without it. The commands of that
// right side are returned too.
func fallbackFor(s *analyzer.Script, call *syntax.CallExpr) (text string, then []analyzer.Command, ok bool) {
	if s == nil || s.File == nil {
		return "", nil, false
	}
	var y *syntax.Stmt
	syntax.Walk(s.File, func(n syntax.Node) bool {
		if ok {
			return false
		}
		if b, isBin := n.(*syntax.BinaryCmd); isBin && b.Op == syntax.OrStmt && containsCall(b.X, call) && !fails(b.Y) {
			ok, y = true, b.Y
			if from, to := int(b.Y.Pos().Offset()), int(b.Y.End().Offset()); from < to && to <= len(s.Src) {
				text = strings.Join(strings.Fields(s.Src[from:to]), " ")
			}
		}
		return true
	})
	if ok {
		for _, c := range s.Commands() {
			if c.Call != nil && containsCall(y, c.Call) {
				then = append(then, c)
			}
		}
	}
	return text, then, ok
}
