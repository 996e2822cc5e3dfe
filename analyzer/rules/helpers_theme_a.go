package rules

import (
	"path"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// Helpers shared by the theme-A rules (image contents, context, users,
// layers). Names end in A where a generic name could clash with another
// group's helpers.

// chainA returns the stages s is built on, root first, ending with s.
func chainA(s *analyzer.Stage) []*analyzer.Stage {
	var out []*analyzer.Stage
	for ; s != nil && len(out) < 100; s = s.BaseStage {
		out = append([]*analyzer.Stage{s}, out...)
	}
	return out
}

// finalChainA returns the stages whose layers end up in the final image.
func finalChainA(d *analyzer.Dockerfile) []*analyzer.Stage {
	return chainA(d.FinalStage())
}

// inChainA reports whether stage s is one of chain.
func inChainA(chain []*analyzer.Stage, s *analyzer.Stage) bool {
	for _, c := range chain {
		if c == s {
			return true
		}
	}
	return false
}

// chainInstructionsA yields the instructions of the stages in order.
func chainInstructionsA(chain []*analyzer.Stage) []*analyzer.Instruction {
	var out []*analyzer.Instruction
	for _, s := range chain {
		out = append(out, s.Instructions...)
	}
	return out
}

// copySpecA is a COPY or ADD reduced to what the context rules need.
type copySpecA struct {
	in      *analyzer.Instruction
	sources []string
	dest    string
	from    string
	chown   string
	add     bool
}

// copyOf returns the spec of a COPY or ADD instruction.
func copyOf(in *analyzer.Instruction) (copySpecA, bool) {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		return copySpecA{in: in, sources: c.SourcePaths, dest: c.DestPath, from: c.From, chown: c.Chown}, true
	case *instructions.AddCommand:
		return copySpecA{in: in, sources: c.SourcePaths, dest: c.DestPath, chown: c.Chown, add: true}, true
	}
	return copySpecA{}, false
}

// contextSources returns the sources read from the build context: not
// from another stage or image, not URLs or git repositories, no heredocs.
func (c copySpecA) contextSources() []string {
	if c.from != "" {
		return nil
	}
	var out []string
	for _, s := range c.sources {
		if c.add && isRemoteSourceA(s) {
			continue
		}
		if strings.HasPrefix(s, "<<") {
			continue
		}
		out = append(out, s)
	}
	return out
}

func isRemoteSourceA(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "://") || strings.HasPrefix(l, "git@")
}

// isWholeContextA reports a source that names the whole context folder.
func isWholeContextA(src string) bool {
	switch path.Clean(strings.TrimPrefix(src, "/")) {
	case ".", "*", "":
		return true
	}
	return src == "/"
}

// copiesWholeContextA reports whether the instruction sends the whole
// context folder into the image.
func copiesWholeContextA(in *analyzer.Instruction) bool {
	c, ok := copyOf(in)
	if !ok {
		return false
	}
	for _, s := range c.contextSources() {
		if isWholeContextA(s) {
			return true
		}
	}
	return false
}

// startInstructionA returns the last CMD or ENTRYPOINT of the final image.
func startInstructionA(d *analyzer.Dockerfile) *analyzer.Instruction {
	var last *analyzer.Instruction
	for _, in := range chainInstructionsA(finalChainA(d)) {
		if in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT" {
			last = in
		}
	}
	return last
}

// startWordsA returns the words of the final image's start command with
// shell wrappers, `npx`-style runners and `cd dir &&` prefixes kept, as
// analyzer.StartCommand does.
func startWordsA(d *analyzer.Dockerfile) []string { return analyzer.StartCommand(d) }

// lineInsertA inserts whole lines before the line where in starts, with
// that line's indentation.
func lineInsertA(d *analyzer.Dockerfile, in *analyzer.Instruction, lines ...string) analyzer.TextEdit {
	at := d.Offset(in.StartLine)
	indent := d.Indent(in.StartLine)
	nl := d.Newline()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + nl)
	}
	return analyzer.TextEdit{Start: at, End: at, New: b.String()}
}

// buildKitAwareA reports a Dockerfile that already relies on BuildKit
// features, so that proposing more of them asks nothing new of its users.
func buildKitAwareA(d *analyzer.Dockerfile) bool {
	if _, ok := d.Directive("syntax"); ok {
		return true
	}
	for in := range d.Each("") {
		for _, f := range in.Flags {
			if strings.HasPrefix(f, "--mount") {
				return true
			}
		}
		if len(in.Heredocs) > 0 {
			return true
		}
	}
	return false
}

// cacheMountTargetsA returns the targets of the RUN's cache mounts.
func cacheMountTargetsA(in *analyzer.Instruction) []string {
	var out []string
	for _, f := range in.Flags {
		v, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		isCache := false
		target := ""
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			switch strings.ToLower(k) {
			case "type":
				isCache = val == "cache"
			case "target", "dst", "destination":
				target = val
			}
		}
		if isCache && target != "" {
			out = append(out, path.Clean(target))
		}
	}
	return out
}

// commandNameWordA returns the word that names the command (after
// wrappers such as sudo), for edits that insert options right after it.
func commandNameWordA(s *analyzer.Script, c analyzer.Command) (start, end int) {
	w := c.Call.Args[len(c.Prefix)]
	return s.Pos(w.Pos()), s.Pos(w.End())
}

// stageDistroA returns the distribution family of a stage's root image.
func stageDistroA(s *analyzer.Stage) string {
	return s.Root().Base.Distro()
}

// userBeforeA returns the USER in effect just before in (in its stage
// chain), "" when none is set.
func userBeforeA(in *analyzer.Instruction) string {
	if in.Stage == nil {
		return ""
	}
	u := ""
	for _, i := range chainInstructionsA(chainA(in.Stage)) {
		if i == in || (in.Onbuild != nil && i == in.Onbuild) {
			break
		}
		if c, ok := i.Command.(*instructions.UserCommand); ok {
			u = c.User
		}
	}
	return u
}

// runsAsRootA reports whether a RUN runs as root, as far as the
// Dockerfile says (the base image's own USER is checked too).
func runsAsRootA(in *analyzer.Instruction) bool {
	u := userBeforeA(in)
	if u == "" && in.Stage != nil {
		u = analyzer.BaseImageUser(in.Stage.Root().Base)
	}
	return u == "" || analyzer.IsRootUser(u) || strings.Contains(u, "$")
}

// topStmtsA returns the top-level statements of a script.
func topStmtsA(s *analyzer.Script) []*syntax.Stmt {
	if s == nil || s.File == nil || s.Err != nil {
		return nil
	}
	return s.File.Stmts
}

// callNameA returns the base name of a statement's command when it is a
// plain call with a static name.
func callNameA(st *syntax.Stmt) string {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 {
		return ""
	}
	lit := call.Args[0].Lit()
	return path.Base(lit)
}

// simpleAndChainA reports a statement that is a plain command or a chain
// of plain commands joined by &&, with nothing in the background.
func simpleAndChainA(st *syntax.Stmt) bool {
	if st.Background || st.Coprocess || st.Negated {
		return false
	}
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		return true
	case *syntax.BinaryCmd:
		return c.Op == syntax.AndStmt && simpleAndChainA(c.X) && simpleAndChainA(c.Y)
	}
	return false
}

// quoteA quotes a word for the shell only when it needs it.
func quoteA(s string) string {
	q, err := syntax.Quote(s, syntax.LangPOSIX)
	if err != nil {
		return s
	}
	return q
}

// resolvePathA resolves p against the working directory, for paths in
// RUN scripts and COPY destinations.
func resolvePathA(workdir, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	if strings.HasPrefix(p, "~/") || p == "~" {
		return path.Clean("/root/" + strings.TrimPrefix(p, "~"))
	}
	if workdir == "" {
		workdir = "/"
	}
	return path.Clean(path.Join(workdir, p))
}

// workdirBeforeA returns the WORKDIR in effect before in.
func workdirBeforeA(in *analyzer.Instruction) string {
	if in.Stage == nil {
		return "/"
	}
	wd := "/"
	for _, i := range chainInstructionsA(chainA(in.Stage)) {
		if i == in {
			break
		}
		if c, ok := i.Command.(*instructions.WorkdirCommand); ok {
			wd = resolvePathA(wd, c.Path)
		}
	}
	return wd
}

// envBeforeA returns the value of an ENV set in the chain before in.
func envBeforeA(in *analyzer.Instruction, name string) (string, bool) {
	if in.Stage == nil {
		return "", false
	}
	val, found := "", false
	for _, i := range chainInstructionsA(chainA(in.Stage)) {
		if i == in {
			break
		}
		if c, ok := i.Command.(*instructions.EnvCommand); ok {
			for _, kv := range c.Env {
				if kv.Key == name {
					// The parser keeps quotes; the builder removes them.
					val, found = strings.Trim(kv.Value, `"'`), true
				}
			}
		}
	}
	return val, found
}

// joinLinesA renders a list of line numbers for messages.
func joinLinesA(lines []int) string {
	var parts []string
	for _, l := range lines {
		parts = append(parts, strconv.Itoa(l))
	}
	return strings.Join(parts, ", ")
}

// endOfTextA is where an instruction's text ends, before any line break
// (the model's End includes the newline of a file's last line).
func endOfTextA(d *analyzer.Dockerfile, in *analyzer.Instruction) int {
	end := in.End
	for end > in.Start && (d.Source[end-1] == '\n' || d.Source[end-1] == '\r') {
		end--
	}
	return end
}
