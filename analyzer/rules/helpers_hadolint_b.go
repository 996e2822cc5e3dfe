package rules

import (
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"mvdan.cc/sh/v3/syntax"
)

// cacheMountTargets returns the targets of the RUN's BuildKit cache mounts.
func cacheMountTargets(in *analyzer.Instruction) []string {
	var out []string
	for _, f := range in.Flags {
		v, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		cache, target := false, ""
		for _, field := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(field, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				cache = val == "cache"
			case "target", "dst", "destination":
				target = path.Clean(val)
			}
		}
		if cache && target != "" {
			out = append(out, target)
		}
	}
	return out
}

// hasCacheMountUnder reports a cache mount on one of dirs or inside one of
// them, e.g. /var/cache/dnf for /var/cache/dnf/x86_64.
func hasCacheMountUnder(in *analyzer.Instruction, dirs ...string) bool {
	for _, t := range cacheMountTargets(in) {
		for _, d := range dirs {
			if t == d || strings.HasPrefix(t, d+"/") || strings.HasPrefix(d, t+"/") {
				return true
			}
		}
	}
	return false
}

// stageLineage returns s and the stages it is built on, base first.
func stageLineage(s *analyzer.Stage) []*analyzer.Stage {
	var chain []*analyzer.Stage
	for ; s != nil && len(chain) < 100; s = s.BaseStage {
		chain = append([]*analyzer.Stage{s}, chain...)
	}
	return chain
}

// shipsInFinalImage reports whether a stage's layers end up in the image
// that is built by default: the final stage or one it is built FROM. Caches
// left in other stages are thrown away with the stage.
func shipsInFinalImage(d *analyzer.Dockerfile, s *analyzer.Stage) bool {
	if s == nil {
		// ONBUILD triggers run in a child image that ships.
		return true
	}
	return slices.Contains(stageLineage(d.FinalStage()), s)
}

// stageOf returns the stage of an instruction, also for ONBUILD triggers.
func stageOf(in *analyzer.Instruction) *analyzer.Stage {
	if in.Onbuild != nil {
		return nil
	}
	return in.Stage
}

// appendToScript returns an edit that appends `&& cmd` to a RUN whose
// script is a single shell statement, or nil when that is not simple and
// exact (heredocs, several statements, background jobs).
func appendToScript(in *analyzer.Instruction, cmd string) *analyzer.TextEdit {
	s := in.Script
	if !s.Exact() || s.Heredoc || len(s.File.Stmts) != 1 {
		return nil
	}
	st := s.File.Stmts[0]
	if st.Background || st.Coprocess || st.Negated || st.Semicolon.IsValid() {
		return nil
	}
	end := s.Pos(st.End())
	if end <= in.ArgsStart || end > in.End {
		return nil
	}
	return &analyzer.TextEdit{Start: end, End: end, New: " && " + cmd}
}

// argWord returns the first argument of c with the value v.
func argWord(c analyzer.Command, v string) (analyzer.Word, bool) {
	for _, a := range c.Args {
		if a.Value == v {
			return a, true
		}
	}
	return analyzer.Word{}, false
}

// commandNameEnd returns the file offset just after the command's name word
// (after `sudo` and similar wrappers), or -1 when positions are not exact.
func commandNameEnd(s *analyzer.Script, c analyzer.Command) int {
	if !s.Exact() || len(c.Call.Args) <= len(c.Prefix) {
		return -1
	}
	return s.Pos(c.Call.Args[len(c.Prefix)].End())
}

// insertAfterWord is a fix that inserts text after a word of the script.
func insertAfterWord(s *analyzer.Script, w analyzer.Word, text, msg string) *analyzer.Fix {
	if !s.Exact() || w.End < 0 {
		return nil
	}
	return &analyzer.Fix{Message: msg, Edits: []analyzer.TextEdit{{Start: w.End, End: w.End, New: text}}}
}

// dockerWord evaluates a LABEL or ENV word the way BuildKit does, with no
// variables defined; dynamic is true when it refers to any variable.
func dockerWord(d *analyzer.Dockerfile, raw string) (value string, dynamic bool) {
	lex := shell.NewLex(d.Escape)
	res, err := lex.ProcessWordWithMatches(raw, emptyEnvB{})
	if err != nil {
		return raw, true
	}
	return res.Result, len(res.Matched) > 0 || len(res.Unmatched) > 0
}

type emptyEnvB struct{}

func (emptyEnvB) Get(string) (string, bool) { return "", false }
func (emptyEnvB) Keys() []string            { return nil }

// labelPair is one key=value of a LABEL with quotes removed.
type labelPair struct {
	Key, Value string
	// Dynamic is true when the key or value uses a build variable, whose
	// value is only known at build time.
	Dynamic bool
}

// labelPairs returns the labels an instruction sets.
func labelPairs(d *analyzer.Dockerfile, in *analyzer.Instruction) []labelPair {
	c, ok := in.Command.(*instructions.LabelCommand)
	if !ok {
		return nil
	}
	var out []labelPair
	for _, kv := range c.Labels {
		k, kd := dockerWord(d, kv.Key)
		v, vd := dockerWord(d, kv.Value)
		out = append(out, labelPair{Key: k, Value: v, Dynamic: kd || vd})
	}
	return out
}

// schemaLabels yields every LABEL pair whose key the configured label
// schema gives the type typ ("" for any type).
func schemaLabels(p *analyzer.Pass, typ string, visit func(in *analyzer.Instruction, lp labelPair)) {
	if p.Config == nil || len(p.Config.LabelSchema) == 0 {
		return
	}
	for in := range p.File.Each("LABEL") {
		for _, lp := range labelPairs(p.File, in) {
			t, ok := p.Config.LabelSchema[lp.Key]
			if ok && (typ == "" || t == typ) {
				visit(in, lp)
			}
		}
	}
}

// stageInstalls reports whether a package manager in the stage's lineage
// installs the named package (curl, wget, bash …).
func stageInstalls(s *analyzer.Stage, pkg string) bool {
	for _, st := range stageLineage(s) {
		for _, in := range st.Instructions {
			if in.Keyword != "RUN" || in.Script == nil {
				continue
			}
			for _, c := range in.Script.Commands() {
				switch c.Name {
				case "apt-get", "apt", "apk", "dnf", "microdnf", "yum", "zypper", "tdnf":
				default:
					continue
				}
				for _, a := range c.Args {
					name := a.Value
					for _, sep := range []string{"=", ">", "<", "~"} {
						name, _, _ = strings.Cut(name, sep)
					}
					if name == pkg {
						return true
					}
				}
			}
		}
	}
	return false
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

// labelValueRule builds a rule that checks the values of the labels the
// label schema gives type typ; valid says whether a value conforms and
// want describes the expected form for messages.
func labelValueRule(r *analyzer.Rule, typ, want string, valid func(string) bool) *analyzer.Rule {
	r.Check = func(p *analyzer.Pass) {
		schemaLabels(p, typ, func(in *analyzer.Instruction, lp labelPair) {
			if lp.Dynamic || valid(lp.Value) {
				return
			}
			p.Reportf(in, "label %s is %q, which is not %s", lp.Key, lp.Value, want)
		})
	}
	return r
}
