package rules

import (
	"encoding/csv"
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// runMountsAt reports whether the RUN mounts a cache or tmpfs at one of the
// directories (or a parent of it): what lands there never reaches the
// layer, so there is nothing to clean up.
func runMountsAt(in *analyzer.Instruction, dirs ...string) bool {
	for _, m := range runMountSpecs(in) {
		if m.typ != "cache" && m.typ != "tmpfs" {
			continue
		}
		for _, d := range dirs {
			if d == m.target || strings.HasPrefix(d, m.target+"/") {
				return true
			}
		}
	}
	return false
}

type runMountSpec struct{ typ, target string }

// runMountSpecs reads the --mount flags as written. BuildKit's typed RUN
// only fills its mounts once variables are expanded, which an offline
// analysis never does.
func runMountSpecs(in *analyzer.Instruction) []runMountSpec {
	var out []runMountSpec
	for _, f := range in.Flags {
		v, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		fields, err := csv.NewReader(strings.NewReader(v)).Read()
		if err != nil {
			continue
		}
		m := runMountSpec{typ: "bind"}
		for _, field := range fields {
			k, val, _ := strings.Cut(field, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				m.typ = strings.ToLower(val)
			case "target", "dst", "destination":
				m.target = path.Clean("/" + val)
			}
		}
		if m.target != "" {
			out = append(out, m)
		}
	}
	return out
}

// appendToChain returns an edit that appends `&& cmd` to a RUN whose script
// is one plain `&&` chain (or a single command) with exact offsets. Other
// shapes (`;` lists, `||`, background jobs, heredocs) are left to a person:
// where a cleanup belongs in them is a judgement call.
func appendToChain(s *analyzer.Script, cmd string) (analyzer.TextEdit, bool) {
	if !s.Exact() || s.Heredoc || len(s.File.Stmts) != 1 {
		return analyzer.TextEdit{}, false
	}
	st := s.File.Stmts[0]
	if !plainAndChain(st) {
		return analyzer.TextEdit{}, false
	}
	end := s.Pos(st.End())
	return analyzer.TextEdit{Start: end, End: end, New: " && " + cmd}, true
}

func plainAndChain(st *syntax.Stmt) bool {
	if st == nil || st.Background || st.Coprocess || st.Negated || st.Semicolon.IsValid() {
		return false
	}
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok {
		switch b.Op {
		case syntax.AndStmt:
			return plainAndChain(b.X) && plainAndChain(b.Y)
		case syntax.Pipe, syntax.PipeAll:
			return true
		}
		return false
	}
	return st.Cmd != nil
}

// topLevelCommands returns the simple commands that run in the RUN's own
// shell at the top level of its lists and && / || chains: not those inside
// subshells, functions, loops, conditionals or command substitutions.
func topLevelCommands(s *analyzer.Script) []analyzer.Command {
	if s == nil || s.File == nil {
		return nil
	}
	top := map[*syntax.CallExpr]bool{}
	var visit func(st *syntax.Stmt)
	visit = func(st *syntax.Stmt) {
		if st == nil {
			return
		}
		switch c := st.Cmd.(type) {
		case *syntax.CallExpr:
			top[c] = true
		case *syntax.BinaryCmd:
			if c.Op == syntax.AndStmt || c.Op == syntax.OrStmt {
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

// unpinned returns the static package arguments the predicate does not
// accept as pinned. Words with expansions are skipped: their value is
// unknown here, and a version is often what the variable holds.
func unpinned(pkgs []analyzer.Word, pinned func(string) bool) []string {
	var out []string
	for _, w := range pkgs {
		if w.Dynamic || w.Value == "" || pinned(w.Value) {
			continue
		}
		out = append(out, w.Value)
	}
	return out
}

// afterSubcommand returns the positional words after the subcommand.
func afterSubcommand(c analyzer.Command, valued ...string) []analyzer.Word {
	pos := c.Positional(valued...)
	if len(pos) == 0 {
		return nil
	}
	return pos[1:]
}

// subcommandWord returns the word of the first positional argument.
func subcommandWord(c analyzer.Command, valued ...string) (analyzer.Word, bool) {
	pos := c.Positional(valued...)
	if len(pos) == 0 {
		return analyzer.Word{}, false
	}
	return pos[0], true
}

// listWords renders package names for a message, shortening long lists.
func listWords(words []string) string {
	const max = 5
	if len(words) <= max {
		return strings.Join(words, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(words[:max], ", "), len(words)-max)
}

// insertFlagAfter returns the fix that inserts a flag after a word when
// the script's offsets are exact, nil otherwise.
func insertFlagAfter(s *analyzer.Script, w analyzer.Word, flag, message string) *analyzer.Fix {
	if !s.Exact() || w.End < 0 {
		return nil
	}
	return &analyzer.Fix{Message: message, Edits: []analyzer.TextEdit{{Start: w.End, End: w.End, New: " " + flag}}}
}

// stageNamed returns the stage with that name (case-insensitively), nil
// when no stage has it.
func stageNamed(d *analyzer.Dockerfile, ref string) *analyzer.Stage {
	for _, s := range d.Stages {
		if s.Name != "" && strings.EqualFold(s.Name, ref) {
			return s
		}
	}
	return nil
}
