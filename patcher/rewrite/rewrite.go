// Package rewrite proposes structural rewrites of a whole Dockerfile by
// kind: a static site built by Node becomes a build stage plus an
// unprivileged nginx; a naive Node, Python or Go service becomes a
// dependency or build stage plus a small non-root runtime.
//
// A rewrite is proposed only when the input is confidently of that kind
// and simple enough (one stage, only steps this package understands) to
// be rewritten without guessing: a wrong rewrite is worse than none. Each
// rewrite then checks its preconditions against the analyzer's facts in
// one place (its preconditions function) and, when one does not hold,
// withholds itself with the reason instead of proposing a change. Parts
// that need evidence (a HEALTHCHECK, a USER) are left out, and the
// explanation says why, when the evidence is missing. Every rewrite is a
// `review` change; the patcher verifies it like any fix.
package rewrite

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Rewrite is a proposed replacement of a whole Dockerfile.
type Rewrite struct {
	// Kind is the analyzer kind the rewrite is for (analyzer.KindStaticSite …).
	Kind string
	// Title is one line for the report.
	Title string
	// Explanation holds bullet points: what changed and why.
	Explanation []string
	// Content is the new Dockerfile.
	Content []byte
	// Files are files the new Dockerfile needs (an nginx config) or that
	// keep its context lean (.dockerignore), with paths relative to the
	// analyzed root like every GeneratedFile.
	Files []analyzer.GeneratedFile
	// Resolves lists rule IDs whose findings the rewrite makes moot.
	Resolves []string
	// Does says, by rule ID, what the rewrite does that a finding of the
	// rule, without a fix of its own, says no fix does: full-base-image
	// withholds a bare FROM swap when node-gyp needs the full image's
	// compilers, and the rewrite installs on the full image and runs on
	// the slim one. The patcher adds it to those findings (Result.NoteRewrites).
	Does map[string]string
}

// Fix expresses the rewrite as a fix of the original file, so that the
// patcher applies and verifies it like any other: one edit that replaces
// the whole file, and the files the new one needs.
func (rw *Rewrite) Fix(original []byte) *analyzer.Fix {
	return &analyzer.Fix{
		Message: rw.Title,
		Safety:  analyzer.Review,
		Edits:   []analyzer.TextEdit{{Start: 0, End: len(original), New: string(rw.Content)}},
		Files:   rw.Files,
	}
}

// Withheld is a rewrite that fits the file but one of whose
// preconditions does not hold, so it is not proposed; the findings it would
// have resolved stay, each with its own fix or reason.
type Withheld struct {
	Kind  string
	Title string
	// Precondition names what did not hold; Reason says it in words a
	// maintainer can check.
	Precondition analyzer.Precondition
	Reason       string
}

// Titles of the rewrites, shared by a proposed and a withheld rewrite.
const (
	titleStatic = "Build the site in its own stage and serve only the output with unprivileged nginx"
	titleNode   = "Split the Node service into a dependencies stage and a slim, non-root runtime"
	titlePython = "Build the Python dependencies in a virtualenv stage and run them on a slim, non-root image"
	// When the process must keep running as root.
	titlePythonRoot = "Build the Python dependencies in a virtualenv stage and run them on a slim image"
	titleNodeRoot   = "Split the Node service into a dependencies stage and a slim runtime"
	titleGo         = "Build a static Go binary in its own stage and run it on distroless as non-root"
)

// Plan proposes a rewrite for an analyzed Dockerfile. It returns the
// rewrite, or what withheld one that fits the file, or neither when no
// rewrite applies.
func Plan(fr *analyzer.FileResult) (*Rewrite, *Withheld) {
	if fr == nil || fr.Error != "" || fr.Dockerfile == nil {
		return nil, nil
	}
	o, ok := readOriginal(fr)
	if !ok {
		return nil, nil
	}
	var (
		rw *Rewrite
		w  *Withheld
	)
	switch fr.Kind {
	case analyzer.KindStaticSite:
		rw, w = planStatic(o)
	case analyzer.KindNodeService:
		// A dev server of a front-end framework is a static site in disguise.
		if rw, w = planStatic(o); rw == nil && w == nil {
			rw, w = planNode(o)
		}
	case analyzer.KindPythonService:
		rw, w = planPython(o)
	case analyzer.KindGoService:
		rw, w = planGo(o)
	}
	if w != nil {
		return nil, w
	}
	if rw == nil {
		return nil, nil
	}
	if rw.Kind == "" {
		rw.Kind = fr.Kind
	}
	if bc := fr.BuildContext; bc != nil && bc.Truncated {
		// A rewrite chooses what to COPY, what the runtime image needs and
		// what the .dockerignore may exclude from the context's files.
		return nil, &Withheld{Kind: rw.Kind, Title: rw.Title, Precondition: analyzer.PreconditionContext,
			Reason: fmt.Sprintf("the build context has more than %d files and dockopt lists no more, so it cannot check what the rewrite needs from it", analyzer.MaxContextFiles)}
	}
	if bc := fr.BuildContext; bc != nil && bc.DockerIgnore.CompileError() != nil {
		// BuildKit refuses the context as it is; whatever the rewrite
		// does, the build fails, and the lines it may append would only
		// hide that behind a larger change.
		return nil, &Withheld{Kind: rw.Kind, Title: rw.Title, Precondition: analyzer.PreconditionContext,
			Reason: fmt.Sprintf("%s has a pattern BuildKit refuses (%v), so no build of this context can check the rewrite; fix that file first", bc.DockerIgnore.Path, bc.DockerIgnore.CompileError())}
	}
	if bc := fr.BuildContext; bc.IgnoreUnread() {
		// The rewrite COPYs context files by name, and may need lines in
		// the .dockerignore; neither can be checked against a file
		// nobody can read.
		reason := bc.UnreadDockerIgnore + " could not be read, so whether the builder sees the files this rewrite copies by name is not known"
		if writesDockerignore(rw) {
			reason = bc.UnreadDockerIgnore + " could not be read, so the lines this rewrite needs in it cannot be added"
		}
		return nil, &Withheld{Kind: rw.Kind, Title: rw.Title, Precondition: analyzer.PreconditionContext, Reason: reason}
	}
	// Whether the rewrite parses is not checked here: the patcher analyzes
	// it as a candidate, which refuses one that does not, with the reason.
	return rw, nil
}

// writesDockerignore reports a rewrite that adds to (or creates) a
// .dockerignore.
func writesDockerignore(rw *Rewrite) bool {
	return slices.ContainsFunc(rw.Files, func(f analyzer.GeneratedFile) bool { return strings.HasSuffix(f.Path, ".dockerignore") })
}

// original holds what a single-stage Dockerfile says, sorted by what a
// rewrite does with it.
type original struct {
	fr    *analyzer.FileResult
	d     *analyzer.Dockerfile
	bc    *analyzer.BuildContext
	stage *analyzer.Stage
	nl    string

	// header is everything before FROM as written: directives, comments,
	// meta ARGs.
	header string
	// labels are LABEL instructions as written (MAINTAINER turned into a
	// label), with their comments.
	labels []string
	// args are the stage's ARG instructions as written.
	args []string
	// envs are ENV instructions as written; envKeys the variables set.
	envs    []envLine
	ports   []int
	workdir string
	// app is the folder the original keeps the app in (its WORKDIR or
	// the folder its commands cd into); paths are made relative to it.
	app string
	// health is the HEALTHCHECK as written, "" when there is none;
	// healthIn is its instruction.
	health   string
	healthIn *analyzer.Instruction
	// keep are instructions carried to the runtime stage unchanged
	// (VOLUME, STOPSIGNAL).
	keep []string
	user string
	// cmd is ENTRYPOINT+CMD as words; cmdShell says a shell form was
	// involved and cmdText is the CMD instruction as written.
	cmd      []string
	cmdShell bool
	cmdText  string
	// runArgs are the arguments the start command passes to a built
	// binary.
	runArgs []string
	runs    []*analyzer.Instruction
	copies  []*analyzer.Instruction
	// copyDir and runDir are the working directory each COPY/ADD and RUN
	// ran in, which relative paths are resolved against.
	copyDir map[*analyzer.Instruction]string
	runDir  map[*analyzer.Instruction]string
	// order records, per RUN/COPY index, the position among all body
	// instructions, so that "ENV before the install" can be told apart.
	order map[*analyzer.Instruction]int
	// node is the package manager the context's lockfile names, read on
	// first use (nodePackageManager): a Node service is planned as a
	// static site first, and both plans ask.
	node   *nodePM
	nodeOK bool
}

type envLine struct {
	text string
	keys []string
	pos  int
}

// readOriginal collects the facts of a single-stage, Linux Dockerfile, or
// reports false when it holds something no rewrite should guess about.
func readOriginal(fr *analyzer.FileResult) (*original, bool) {
	d := fr.Dockerfile
	if len(d.Stages) != 1 {
		return nil, false
	}
	s := d.Stages[0]
	if s.Windows || s.Base.Unresolved || s.Base.IsScratch() || s.Platform != "" {
		return nil, false
	}
	bc := fr.BuildContext
	if bc == nil {
		return nil, false
	}
	o := &original{fr: fr, d: d, bc: bc, stage: s, nl: "\n", workdir: "/", order: map[*analyzer.Instruction]int{},
		copyDir: map[*analyzer.Instruction]string{}, runDir: map[*analyzer.Instruction]string{}}
	o.header = string(d.Source[:d.Offset(s.From.StartLine)])
	for i, in := range s.Instructions {
		text := withComments(in, d)
		switch in.Keyword {
		case "LABEL":
			o.labels = append(o.labels, text)
		case "MAINTAINER":
			o.labels = append(o.labels, "LABEL org.opencontainers.image.authors="+strconv.Quote(strings.Join(in.Args, " ")))
		case "ARG":
			o.args = append(o.args, text)
		case "ENV":
			c, ok := in.Command.(*instructions.EnvCommand)
			if !ok {
				return nil, false
			}
			e := envLine{text: text, pos: i}
			for _, kv := range c.Env {
				e.keys = append(e.keys, kv.Key)
			}
			o.envs = append(o.envs, e)
		case "EXPOSE":
			for _, a := range in.Args {
				p, proto, _ := strings.Cut(a, "/")
				n, err := strconv.Atoi(p)
				if err != nil || proto != "" && proto != "tcp" {
					return nil, false
				}
				o.ports = append(o.ports, n)
			}
		case "WORKDIR":
			if len(in.Args) != 1 || strings.Contains(in.Args[0], "$") {
				return nil, false
			}
			o.workdir = path.Join(o.workdir, in.Args[0])
		case "HEALTHCHECK":
			o.health, o.healthIn = text, in
		case "VOLUME", "STOPSIGNAL":
			o.keep = append(o.keep, text)
		case "USER":
			o.user = in.Args[0]
		case "CMD":
			o.cmdText = text
		case "ENTRYPOINT":
		case "RUN":
			if len(in.Heredocs) > 0 || in.JSON || in.Script == nil || in.Script.Err != nil {
				return nil, false
			}
			o.runs = append(o.runs, in)
			o.runDir[in] = o.workdir
			o.order[in] = i
		case "COPY", "ADD":
			if len(in.Heredocs) > 0 {
				return nil, false
			}
			for _, f := range in.Flags {
				// --from, --parents, --exclude and the like change what is
				// copied in ways the rewrite's own COPY would not repeat.
				name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
				if name != "chown" && name != "chmod" && name != "link" {
					return nil, false
				}
			}
			o.copies = append(o.copies, in)
			o.copyDir[in] = o.workdir
			o.order[in] = i
		default:
			// SHELL, ONBUILD and anything else change how the rest runs.
			return nil, false
		}
	}
	o.cmd = analyzer.StartCommand(d)
	for _, in := range s.Instructions {
		if (in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT") && !in.JSON {
			o.cmdShell = true
		}
	}
	if len(o.cmd) == 0 {
		return nil, false
	}
	return o, true
}

// withComments returns an instruction as written, preceded by the
// comment lines directly above it.
func withComments(in *analyzer.Instruction, d *analyzer.Dockerfile) string {
	var b strings.Builder
	for _, c := range in.Comments {
		b.WriteString("# " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "#")) + "\n")
	}
	b.WriteString(strings.ReplaceAll(in.Text(d.Source), "\r\n", "\n"))
	return b.String()
}

// envBefore returns the ENV lines written before instruction index pos
// (before=true) or after it.
func (o *original) envSplit(pos int) (before, after []string) {
	for _, e := range o.envs {
		if e.pos < pos {
			before = append(before, e.text)
		} else {
			after = append(after, e.text)
		}
	}
	return before, after
}

// setsEnv reports whether the original sets a variable.
func (o *original) setsEnv(key string) bool {
	for _, e := range o.envs {
		if slices.Contains(e.keys, key) {
			return true
		}
	}
	return false
}

// rel makes an absolute path of the image relative to the original
// WORKDIR when it lies inside it ("/site/public" → "public").
func (o *original) rel(p string) string {
	if !path.IsAbs(p) {
		return path.Clean(p)
	}
	p = path.Clean(p)
	base := o.app
	if base == "" {
		base = o.workdir
	}
	if p == base {
		return "."
	}
	prefix := strings.TrimSuffix(base, "/") + "/"
	if strings.HasPrefix(p, prefix) {
		return strings.TrimPrefix(p, prefix)
	}
	return p
}

// contextPath is a path relative to the build context, as a generated
// file's path relative to the analyzed root.
func (o *original) contextPath(p string) string {
	return path.Join(o.bc.Dir, p)
}

// dockerfile accumulates the new file.
type dockerfile struct {
	b strings.Builder
}

func (w *dockerfile) line(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// workdir sets the working directory, which starts as /.
func (w *dockerfile) workdir(dir string) {
	if dir != "/" {
		w.line("WORKDIR %s", dir)
	}
}

func (w *dockerfile) raw(lines ...string) {
	for _, l := range lines {
		if l == "" {
			continue
		}
		w.b.WriteString(l)
		w.b.WriteByte('\n')
	}
}

func (w *dockerfile) blank() {
	s := w.b.String()
	if s != "" && !strings.HasSuffix(s, "\n\n") {
		w.b.WriteByte('\n')
	}
}

func (w *dockerfile) bytes() []byte { return []byte(w.b.String()) }

// execForm writes words as a JSON array, the exec form.
func execForm(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// plainWords reports whether shell words can move to the exec form
// without changing their meaning: no expansions, quotes or operators.
func plainWords(words []string) bool {
	for _, w := range words {
		if w == "" || strings.ContainsAny(w, "$`'\"\\;&|<>(){}*?~") {
			return false
		}
	}
	return true
}

// headerText returns the original header with a blank line after it.
func (o *original) headerText() string {
	h := strings.ReplaceAll(o.header, "\r\n", "\n")
	h = strings.TrimRight(h, "\n")
	if h == "" {
		return ""
	}
	return h + "\n\n"
}

// runtimeCopies repeats the original's COPY and ADD instructions for the
// runtime stage, with destinations written relative to workdir where they
// lie inside it: the runtime gets the files the original had, where it
// had them, and no more. A copy that a later copy of the whole context to
// the same folder repeats is left out. owner, when set, replaces the
// ownership the original gave its files; otherwise they stay root's, and
// a --chown naming the original's own account (which the rewrite does not
// create) is dropped.
func (o *original) runtimeCopies(workdir, owner string) []string {
	type copyLine struct {
		in        *analyzer.Instruction
		srcs      []string
		abs       string
		destSlash bool
	}
	var all []copyLine
	for _, in := range o.copies {
		srcs, dest := in.Args[:len(in.Args)-1], in.Args[len(in.Args)-1]
		abs := dest
		if !path.IsAbs(abs) {
			abs = path.Join(o.copyDir[in], dest)
		}
		all = append(all, copyLine{in: in, srcs: srcs, abs: path.Clean(abs), destSlash: strings.HasSuffix(dest, "/")})
	}
	// lands is where a source ends up: a folder's contents in the
	// destination, a file in it or at it.
	lands := func(c copyLine, s string) string {
		s = path.Clean(s)
		intoDir := c.destSlash || len(c.srcs) > 1 || c.abs == o.copyDir[c.in]
		if strings.ContainsAny(s, "*?[") {
			// A glob's matches land in the folder under their own names.
			if intoDir && !strings.Contains(s, "/") {
				return path.Join(c.abs, s)
			}
			return ""
		}
		if _, isFile := slices.BinarySearch(o.bc.Files, s); !isFile {
			return c.abs
		}
		if intoDir {
			return path.Join(c.abs, path.Base(s))
		}
		return c.abs
	}
	covered := func(c copyLine, later []copyLine) bool {
		if _, chmod := c.in.Flag("chmod"); chmod {
			return false
		}
		for _, l := range later {
			if len(l.srcs) != 1 || path.Clean(l.srcs[0]) != "." {
				continue
			}
			all := true
			for _, s := range c.srcs {
				if at := lands(c, s); at == "" || at != path.Join(l.abs, path.Clean(s)) {
					all = false
				}
			}
			if all {
				return true
			}
		}
		return false
	}
	var out []string
	for i, c := range all {
		if covered(c, all[i+1:]) {
			// A .env copied by name stays named: the copy of the whole
			// context brings it too, but a .dockerignore entry for
			// secrets (which the rewrite or a rule may add) would then
			// drop what the original's build chose to ship.
			env := slices.DeleteFunc(slices.Clone(c.srcs), func(s string) bool { return !strings.HasPrefix(path.Base(s), ".env") })
			if len(env) == 0 {
				continue
			}
			c.srcs = env
			if len(env) == 1 && !c.destSlash && c.abs == o.copyDir[c.in] {
				c.destSlash = true
			}
		}
		var words []string
		if owner != "" {
			words = append(words, "--chown="+owner)
		}
		for _, f := range c.in.Flags {
			if name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "="); name == "chmod" || name == "link" {
				words = append(words, f)
			}
		}
		dest := c.in.Args[len(c.in.Args)-1]
		if path.IsAbs(dest) || o.copyDir[c.in] != workdir {
			// Written relative to the runtime's WORKDIR where it lies inside.
			dest = relTo(c.abs, workdir)
			if c.destSlash && dest != "." && !strings.HasSuffix(dest, "/") {
				dest += "/"
			}
		}
		args := append(slices.Clone(c.srcs), dest)
		if slices.ContainsFunc(args, func(a string) bool { return strings.ContainsAny(a, " \t\"'") }) {
			out = append(out, "COPY "+strings.Join(append(words, execForm(args)), " "))
			continue
		}
		out = append(out, "COPY "+strings.Join(append(words, args...), " "))
	}
	return out
}
