package analyzer

import (
	"bytes"
	"fmt"
	"iter"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Script is the shell program of a RUN instruction, parsed by mvdan/sh from
// the text BuildKit gives the shell, each of whose positions maps back to a
// file offset: Pos for where a node starts, End for where it ends.
type Script struct {
	File *syntax.File
	// Src is the text given to the shell parser: the instruction's lines
	// joined as BuildKit joins them (each line continuation, the escape
	// character with the blanks after it and the newline, removed; comment
	// and empty lines inside a continuation dropped), heredoc bodies as
	// they are. Pos and End map its positions to file offsets.
	Src string
	// Offset is the file offset of Src's first byte, -1 when positions do
	// not map to the file.
	Offset int
	// segs maps Src to the file when it is not one copied range: Src from
	// segs[k].At on was copied from the file from segs[k].File on.
	segs []shellSeg
	// Heredoc is true when the script is the body of `RUN <<EOF`.
	Heredoc bool
	// Err is the shell parse error, if the script is not valid shell.
	Err error

	commands []Command
	byCall   map[*syntax.CallExpr]int
	// byPos orders the commands by where their call starts.
	byPos  []int
	walked bool
	// funcs is what functions returns, nil until it is asked.
	funcs map[string]uint
}

// Command is one simple command of a script, with its arguments.
type Command struct {
	// Name is the command's base name ("apt-get" for /usr/bin/apt-get),
	// after unwrapping sudo, env, nohup, time, exec and command.
	Name string
	Args []Word
	Call *syntax.CallExpr
	// Start and End are file offsets of the whole call.
	Start, End int
	// Prefix are the words before Name that were unwrapped (sudo, env …).
	Prefix []Word
}

// Word is a shell word with its static value.
type Word struct {
	// Value is the word with quotes removed; Dynamic is true when it holds
	// expansions whose value is unknown here.
	Value   string
	Dynamic bool
	Start   int
	End     int
	Node    *syntax.Word
}

// shellParser settings: bash, because Dockerfiles use bash-isms freely and
// a bash parse accepts every POSIX script.
func newShellParser() *syntax.Parser {
	return syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash))
}

// shellParsers keeps parsers between files and scripts: a parser is
// kilobytes of state, and Parse resets all of it (a file's model and a
// parser given back share nothing the parser writes again).
var shellParsers = sync.Pool{New: func() any { return newShellParser() }}

// parseShellText parses a script that is not a RUN of the model being
// built, with a pooled parser.
func parseShellText(text, name string) (*syntax.File, error) {
	p := shellParsers.Get().(*syntax.Parser)
	f, err := p.Parse(strings.NewReader(text), name)
	shellParsers.Put(p) // not after a panic, which the analysis recovers from
	return f, err
}

// shellParser returns the parser for the file's scripts: one, reused for
// every RUN while the model is built (a file can have thousands of RUNs),
// and given back to shellParsers when it is built.
func (d *Dockerfile) shellParser() *syntax.Parser {
	if d.shell == nil {
		d.shell = shellParsers.Get().(*syntax.Parser)
	}
	return d.shell
}

// releaseShellParser gives the file's script parser back once the model
// is built.
func (d *Dockerfile) releaseShellParser() {
	if d.shell != nil {
		shellParsers.Put(d.shell)
		d.shell = nil
	}
}

// runScript builds the Script of a RUN in shell form.
func (d *Dockerfile) runScript(in *Instruction) *Script {
	if len(in.Heredocs) > 0 && onlyHeredocMarkers(in.Args) {
		return d.heredocScript(in)
	}
	start, end := in.ArgsStart, in.End
	if start >= end {
		return nil
	}
	src, segs := d.shellSource(start, end)
	s := &Script{Src: src, Offset: start, segs: segs}
	s.File, s.Err = parseShell(d.shellParser(), src)
	return s
}

// StartScript parses the command of a CMD or ENTRYPOINT in shell form,
// which /bin/sh -c runs, with positions mapped to the file as a RUN's are.
// It is nil for the exec form, heredocs and other instructions.
func (d *Dockerfile) StartScript(in *Instruction) *Script {
	if (in.Keyword != "CMD" && in.Keyword != "ENTRYPOINT") || in.JSON || len(in.Heredocs) > 0 || in.ArgsStart >= in.End {
		return nil
	}
	src, segs := d.shellSource(in.ArgsStart, in.End)
	return parsedScript(src, in.ArgsStart, segs)
}

// ScriptAt parses a script that stands verbatim at a file offset (a JSON
// string without escapes that sh -c runs); offset -1 when it does not.
func ScriptAt(src string, offset int) *Script {
	return parsedScript(src, offset, nil)
}

// parsedScript parses a script that is not a RUN of the model being
// built, with a pooled parser: rules call it while others run.
func parsedScript(src string, offset int, segs []shellSeg) *Script {
	s := &Script{Src: src, Offset: offset, segs: segs}
	p := shellParsers.Get().(*syntax.Parser)
	s.File, s.Err = parseShell(p, src)
	shellParsers.Put(p)
	return s
}

// MaxShellNesting bounds how deeply a RUN script's subshells, groups and
// substitutions may nest for dockopt to parse it. The shell parser, and
// every walk of its tree, recurse once per level: 200,000 levels, which
// fit in a 1 MiB file, took half a minute and 600 MB. Real scripts nest a
// handful of levels.
const MaxShellNesting = 1000

// parseShell parses a script unless it nests deeper than MaxShellNesting
// (counted on its brackets, quotes or not: an over-estimate only for
// scripts no one writes).
func parseShell(p *syntax.Parser, src string) (*syntax.File, error) {
	depth, deepest := 0, 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '(', '{', '[':
			depth++
			deepest = max(deepest, depth)
		case ')', '}', ']':
			depth = max(depth-1, 0)
		}
	}
	if deepest > MaxShellNesting {
		return nil, fmt.Errorf("the script nests more than %d levels deep; it is not parsed", MaxShellNesting)
	}
	return p.Parse(strings.NewReader(src), "")
}

// shellSeg is where a piece of a script's text comes from in the file.
type shellSeg struct{ At, File int }

// shellSource returns the text of [start,end) as BuildKit gives it to the
// shell, and where its pieces come from when it is not the range as it is
// (nil then). BuildKit joins the lines of an instruction before anything
// else reads them: a line whose trimmed end is the escape character, not
// itself escaped, with only spaces and tabs after it, goes on with the next
// line, the escape and those blanks removed and no newline put between;
// comment lines and empty lines inside the continuation are dropped. The
// shell never sees a newline there, so an escape followed by blanks, a `#`
// comment that a continuation extends, or quotes across lines all read as
// they do in the build. Heredoc bodies are kept as they are.
func (d *Dockerfile) shellSource(start, end int) (string, []shellSeg) {
	var buf []byte
	var segs []shellSeg
	add := func(from, to int) {
		if from >= to {
			return
		}
		if n := len(segs); n == 0 || segs[n-1].File+len(buf)-segs[n-1].At != from {
			segs = append(segs, shellSeg{At: len(buf), File: from})
		}
		buf = append(buf, d.Source[from:to]...)
	}
	for l := range d.joinedLines(start, end) {
		if l.continues {
			add(l.start, l.escape)
			continue
		}
		add(l.start, l.content) // BuildKit drops the line's trailing \r
		if l.next < end {
			// The logical line's newline, then heredoc bodies; not the \r
			// before it, which BuildKit drops too and which would end the
			// line's last word for the shell (curl\r).
			add(l.end, end)
		}
	}
	if len(segs) == 1 && segs[0].File == start && len(buf) == end-start {
		segs = nil
	}
	return string(buf), segs
}

// joinedLine is one physical line of a logical line, as BuildKit joins
// them: start is where it begins, content where its text ends (before
// \r\n), end where its newline is, next where the following line begins;
// a line that continues goes on at next, its escape character at escape.
type joinedLine struct {
	start, content, end, next int
	escape                    int
	continues                 bool
}

// joinedLines yields the physical lines of the logical line that begins at
// start, within [start,limit), leaving out those BuildKit drops inside a
// continuation (comment and blank lines), up to the first that does not
// continue.
func (d *Dockerfile) joinedLines(start, limit int) iter.Seq[joinedLine] {
	return func(yield func(joinedLine) bool) {
		for i, first := start, !d.startsLine(start); i < limit; first = false {
			l := joinedLine{start: i, end: limit, next: limit}
			if nl := bytes.IndexByte(d.Source[i:limit], '\n'); nl >= 0 {
				l.end, l.next = i+nl, i+nl+1
			}
			if !first && droppedInContinuation(d.Source[i:l.end]) {
				i = l.next
				continue
			}
			l.content = i + len(bytes.TrimRight(d.Source[i:l.end], "\r\n"))
			l.escape, l.continues = d.continuationEscape(i, l.content)
			if !yield(l) || !l.continues {
				return
			}
			i = l.next
		}
	}
}

// startsLine reports whether only blanks come before offset on its line:
// arguments that start a line (after RUN's flags and a continuation) are
// inside a continuation already, where BuildKit drops comment and empty
// lines.
func (d *Dockerfile) startsLine(offset int) bool {
	for i := offset - 1; i >= 0; i-- {
		switch d.Source[i] {
		case '\n':
			return true
		case ' ', '\t':
		default:
			return false
		}
	}
	return false
}

// droppedInContinuation reports whether BuildKit drops a line that comes
// after a line continuation: a comment line or a line of white space.
func droppedInContinuation(line []byte) bool {
	t := bytes.TrimLeftFunc(bytes.TrimRight(line, "\r\n"), unicode.IsSpace)
	return len(t) == 0 || t[0] == '#'
}

// continuationEscape reports whether the line [lineStart,contentEnd) (its
// line ending trimmed) goes on with the next, as BuildKit's parser decides
// it (`([^E])E[ \t]*$|^E[ \t]*$` for the escape character E), and the
// offset of the escape character that ends it.
func (d *Dockerfile) continuationEscape(lineStart, contentEnd int) (int, bool) {
	e := contentEnd
	for e > lineStart && (d.Source[e-1] == ' ' || d.Source[e-1] == '\t') {
		e--
	}
	if e == lineStart || rune(d.Source[e-1]) != d.Escape {
		return 0, false
	}
	e--
	if e > 0 && d.Source[e-1] != '\n' && rune(d.Source[e-1]) == d.Escape {
		return 0, false // an escaped escape character
	}
	return e, true
}

// logicalLineEnd returns the offset just after the line that ends the
// instruction's first logical line (where heredoc bodies begin).
func (d *Dockerfile) logicalLineEnd(start, end int) int {
	for l := range d.joinedLines(start, end) {
		if !l.continues {
			return l.next
		}
	}
	return end
}

func onlyHeredocMarkers(args []string) bool {
	if len(args) == 0 {
		return false
	}
	joined := strings.TrimSpace(strings.Join(args, " "))
	for _, f := range strings.Fields(joined) {
		if !strings.HasPrefix(f, "<<") {
			return false
		}
	}
	return true
}

// heredocScript parses the body of `RUN <<EOF` as a shell script, unless a
// shebang names another interpreter.
func (d *Dockerfile) heredocScript(in *Instruction) *Script {
	h := in.Heredocs[0]
	body := h.Content
	if strings.HasPrefix(body, "#!") {
		first, _, _ := strings.Cut(body, "\n")
		interp := path.Base(strings.Fields(first[2:] + " x")[0])
		if interp == "env" {
			if f := strings.Fields(first[2:]); len(f) > 1 {
				interp = f[1]
			}
		}
		switch interp {
		case "sh", "bash", "ash", "dash":
		default:
			return nil
		}
	}
	bodyStart := d.logicalLineEnd(in.Start, in.End)
	s := &Script{Src: body, Offset: bodyStart, Heredoc: true}
	if h.Chomp || bodyStart+len(body) > len(d.Source) || string(d.Source[bodyStart:bodyStart+len(body)]) != body {
		// Tabs were stripped (<<-) or the body moved: positions are
		// approximate, so fixes must not edit inside this script.
		s.Offset = -1
	}
	s.File, s.Err = parseShell(d.shellParser(), body)
	return s
}

// Exact reports whether the script's positions map to file offsets, which
// fixes need before they edit inside it.
func (s *Script) Exact() bool { return s != nil && s.Offset >= 0 && s.Err == nil }

// Pos converts the shell position where a node starts to a file offset.
func (s *Script) Pos(p syntax.Pos) int {
	if s.Offset < 0 {
		return -1
	}
	return s.fileOffset(int(p.Offset()))
}

// End converts the shell position where a node ends (just after its last
// byte) to a file offset: just after that byte in the file, so before a
// line continuation that follows it.
func (s *Script) End(p syntax.Pos) int {
	if s.Offset < 0 {
		return -1
	}
	i := int(p.Offset())
	if i == 0 || s.segs == nil {
		return s.fileOffset(i)
	}
	return s.fileOffset(i-1) + 1
}

// fileOffset maps an offset in Src to the file.
func (s *Script) fileOffset(i int) int {
	if s.segs == nil {
		return s.Offset + i
	}
	k := sort.Search(len(s.segs), func(k int) bool { return s.segs[k].At > i }) - 1
	k = max(k, 0)
	return s.segs[k].File + i - s.segs[k].At
}

// Commands returns every simple command in the script in source order,
// including those in subshells, conditionals and command substitutions.
//
// The result is computed once and shared: callers must not modify it.
func (s *Script) Commands() []Command {
	if s == nil || s.File == nil {
		return nil
	}
	if s.walked {
		return s.commands
	}
	s.walked = true
	var out []Command
	syntax.Walk(s.File, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		words := make([]Word, len(call.Args))
		for i, w := range call.Args {
			words[i] = s.word(w)
		}
		c := Command{Call: call, Start: s.Pos(call.Pos()), End: s.End(call.End())}
		c.Prefix, words = unwrapCommand(words)
		if len(words) == 0 {
			return true
		}
		c.Name = path.Base(words[0].Value)
		c.Args = words[1:]
		out = append(out, c)
		return true
	})
	s.commands = out
	s.byCall = make(map[*syntax.CallExpr]int, len(out))
	for i, c := range out {
		s.byCall[c.Call] = i
	}
	return out
}

// CommandsWithin returns the commands whose call lies within the shell
// positions [from, to], in the order of Commands. Rules ask this for
// every statement of a script, so it does not read them all.
func (s *Script) CommandsWithin(from, to syntax.Pos) []Command {
	cmds := s.Commands()
	if s.byPos == nil {
		s.byPos = make([]int, len(cmds))
		for i := range s.byPos {
			s.byPos[i] = i
		}
		sort.SliceStable(s.byPos, func(i, j int) bool {
			return cmds[s.byPos[i]].Call.Pos().Offset() < cmds[s.byPos[j]].Call.Pos().Offset()
		})
	}
	lo, hi := from.Offset(), to.Offset()
	first := sort.Search(len(s.byPos), func(i int) bool { return cmds[s.byPos[i]].Call.Pos().Offset() >= lo })
	var idx []int
	for _, i := range s.byPos[first:] {
		c := cmds[i].Call
		if c.Pos().Offset() > hi {
			break
		}
		if c.End().Offset() <= hi {
			idx = append(idx, i)
		}
	}
	sort.Ints(idx)
	out := make([]Command, len(idx))
	for k, i := range idx {
		out[k] = cmds[i]
	}
	return out
}

// CommandOf returns the command a call of the script runs, if it runs one.
func (s *Script) CommandOf(call *syntax.CallExpr) (Command, bool) {
	s.Commands()
	if i, ok := s.byCall[call]; ok {
		return s.commands[i], true
	}
	return Command{}, false
}

// CallsFunction reports whether c runs a shell function the script defines
// before it (`apk() { :; }; apk add x`) rather than the program of that
// name. A path (/sbin/apk) or a wrapper that runs a program (command,
// sudo, env) bypasses the function; time does not.
func (s *Script) CallsFunction(c Command) bool {
	if s == nil || s.File == nil || c.Call == nil || len(c.Call.Args) <= len(c.Prefix) {
		return false
	}
	for _, w := range c.Prefix {
		if w.Value != "time" && !strings.HasPrefix(w.Value, "-") {
			return false
		}
	}
	name, dyn := staticWord(c.Call.Args[len(c.Prefix)])
	if dyn || strings.Contains(name, "/") {
		return false
	}
	at, ok := s.functions()[name]
	return ok && at < c.Call.Pos().Offset()
}

// functions maps the name of each function the script defines to where it
// is first defined, walked once.
func (s *Script) functions() map[string]uint {
	if s.funcs != nil {
		return s.funcs
	}
	s.funcs = map[string]uint{}
	syntax.Walk(s.File, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok && fd.Name != nil {
			if _, seen := s.funcs[fd.Name.Value]; !seen {
				s.funcs[fd.Name.Value] = fd.Pos().Offset()
			}
		}
		return true
	})
	return s.funcs
}

// CommandsNamed returns the commands whose name is one of names.
func (s *Script) CommandsNamed(names ...string) []Command {
	var out []Command
	for _, c := range s.Commands() {
		for _, n := range names {
			if c.Name == n {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func (s *Script) word(w *syntax.Word) Word {
	val, dyn := staticWord(w)
	return Word{Value: val, Dynamic: dyn, Start: s.Pos(w.Pos()), End: s.End(w.End()), Node: w}
}

// staticWord returns the word's value as the shell passes it, and whether
// it holds expansions whose value is unknown here. A dynamic word's value
// is its text as written.
func staticWord(w *syntax.Word) (string, bool) {
	if v, ok := Literal(w); ok {
		return v, false
	}
	var b bytes.Buffer
	p := wordPrinters.Get().(*syntax.Printer)
	p.Print(&b, w)
	wordPrinters.Put(p)
	return b.String(), true
}

// wordPrinters keeps mvdan/sh printers between dynamic words: a new one
// allocates a 4 KiB bufio.Writer, and Print resets all of its state.
var wordPrinters = sync.Pool{New: func() any { return syntax.NewPrinter() }}

// Literal returns the value of a word that holds no expansion, with
// quotes and escapes removed by mvdan/sh's own expansion; ok is false for
// words with parameters, command substitutions, arithmetic and the like.
func Literal(w *syntax.Word) (string, bool) {
	if w == nil {
		return "", true
	}
	if !staticParts(w.Parts) {
		return "", false
	}
	if len(w.Parts) == 1 {
		// Most words are one plain literal or one single-quoted string:
		// answered here as expand.Literal would answer them (its Lit case
		// cuts at NUL; a '…' is taken as is), without a Config and its
		// field slices per word.
		switch p := w.Parts[0].(type) {
		case *syntax.Lit:
			if !strings.HasPrefix(p.Value, "~") {
				v, _, _ := strings.Cut(p.Value, "\x00")
				return v, true
			}
		case *syntax.SglQuoted:
			if !p.Dollar {
				return p.Value, true
			}
		}
	}
	if lit, ok := w.Parts[0].(*syntax.Lit); ok && strings.HasPrefix(lit.Value, "~") {
		// expand resolves ~user through the user database of the machine
		// dockopt runs on, which says nothing of the image: the tilde
		// stays as written.
		rest := *lit
		rest.Value = lit.Value[1:]
		v, err := expand.Literal(&expand.Config{}, &syntax.Word{Parts: append([]syntax.WordPart{&rest}, w.Parts[1:]...)})
		return "~" + v, err == nil
	}
	// A Config of its own each time: expand fills a nil one in by writing
	// to a package-level value, a data race between the files analyzed in
	// parallel.
	v, err := expand.Literal(&expand.Config{}, w)
	return v, err == nil
}

// staticParts reports whether word parts hold only literals and quotes
// (double quotes looked into), the parts expand.Literal resolves alone.
func staticParts(parts []syntax.WordPart) bool {
	for _, p := range parts {
		switch p := p.(type) {
		case *syntax.Lit, *syntax.SglQuoted:
		case *syntax.DblQuoted:
			if !staticParts(p.Parts) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// unwrapCommand strips wrappers that run another command, so that
// `sudo apt-get install` is seen as apt-get.
func unwrapCommand(words []Word) (prefix, rest []Word) {
	for len(words) > 0 {
		switch path.Base(words[0].Value) {
		case "sudo", "nohup", "time", "exec", "command", "nice", "ionice", "chronic", "gosu", "su-exec", "tini", "dumb-init":
			prefix = append(prefix, words[0])
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0].Value, "-") {
				prefix = append(prefix, words[0])
				words = words[1:]
				if len(prefix) > 1 && (prefix[len(prefix)-2].Value == "sudo" || prefix[len(prefix)-2].Value == "gosu") && len(words) > 0 && !strings.HasPrefix(words[0].Value, "-") && prefix[len(prefix)-1].Value == "-u" {
					prefix = append(prefix, words[0])
					words = words[1:]
				}
			}
		case "env":
			prefix = append(prefix, words[0])
			words = words[1:]
			for len(words) > 0 && (strings.Contains(words[0].Value, "=") || strings.HasPrefix(words[0].Value, "-")) {
				prefix = append(prefix, words[0])
				words = words[1:]
			}
		default:
			return prefix, words
		}
	}
	return prefix, words
}

// Has reports whether any argument equals one of the given values
// (flags included, e.g. "-y", "--yes").
func (c Command) Has(values ...string) bool {
	for _, a := range c.Args {
		for _, v := range values {
			if a.Value == v {
				return true
			}
		}
	}
	return false
}

// HasShortFlag reports a single-letter flag, also when combined with others
// (`-qy` has `y`). Long options are not considered.
func (c Command) HasShortFlag(letter byte) bool {
	for _, a := range c.Args {
		v := a.Value
		if len(v) >= 2 && v[0] == '-' && v[1] != '-' && strings.IndexByte(v[1:], letter) >= 0 {
			return true
		}
	}
	return false
}

// HasPrefixArg reports an argument starting with prefix, e.g. "--target=".
func (c Command) HasPrefixArg(prefix string) bool {
	for _, a := range c.Args {
		if strings.HasPrefix(a.Value, prefix) {
			return true
		}
	}
	return false
}

// Positional returns the arguments that are not options. It cannot know
// which options take a value, so callers pass them in valued.
func (c Command) Positional(valued ...string) []Word {
	var out []Word
	for i := c.nextPositional(0, valued); i < len(c.Args); i = c.nextPositional(i+1, valued) {
		out = append(out, c.Args[i])
	}
	return out
}

// nextPositional returns the index of the first positional argument at or
// after from (len(c.Args) if none), skipping options and the values of
// those in valued.
func (c Command) nextPositional(from int, valued []string) int {
	for i := from; i < len(c.Args); i++ {
		a := c.Args[i].Value
		if !strings.HasPrefix(a, "-") || a == "-" {
			return i
		}
		for _, v := range valued {
			if a == v {
				i++ // its value
				break
			}
		}
	}
	return len(c.Args)
}

// Option is one option of a command line as getopt reads it.
type Option struct {
	// Name is "-u" for a short option, also one out of a cluster (-lmu),
	// and "--uid" for a long one.
	Name string
	// Value is the value of an option that takes one, HasValue false when
	// the option takes none or the command line ends before it. A value
	// attached to its option (-u10, -ms/bin/bash, --uid=10) has Start and
	// End only when its word is plain text, else -1.
	Value    Word
	HasValue bool
}

// Options reads the arguments as getopt_long does. shortValued holds the
// letters of the short options that take a value, longValued the long
// ones ("--uid"). In a cluster of short options, one that takes a value
// takes the rest of the cluster if any (-s/bin/bash, -ms/bin/bash), else
// the next word (-lmu 10: -l, -m, -u 10); a long option takes what follows
// its = or the next word. Options and positional arguments may mix, and
// "--" ends the options.
func (c Command) Options(shortValued string, longValued ...string) (opts []Option, positional []Word) {
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		v := a.Value
		switch {
		case v == "--":
			return opts, append(positional, c.Args[i+1:]...)
		case !strings.HasPrefix(v, "-") || v == "-":
			positional = append(positional, a)
		case strings.HasPrefix(v, "--"):
			name, value, attached := strings.Cut(v, "=")
			o := Option{Name: name}
			switch {
			case attached:
				o.Value, o.HasValue = attachedWord(a, len(name)+1, value), true
			case slices.Contains(longValued, name) && i+1 < len(c.Args):
				i++
				o.Value, o.HasValue = c.Args[i], true
			}
			opts = append(opts, o)
		default:
			for j := 1; j < len(v); j++ {
				o := Option{Name: "-" + v[j:j+1]}
				if strings.IndexByte(shortValued, v[j]) >= 0 {
					switch {
					case j+1 < len(v):
						o.Value, o.HasValue = attachedWord(a, j+1, v[j+1:]), true
					case i+1 < len(c.Args):
						i++
						o.Value, o.HasValue = c.Args[i], true
					}
					opts = append(opts, o)
					break
				}
				opts = append(opts, o)
			}
		}
	}
	return opts, positional
}

// attachedWord is the part of w from byte at of its value on.
func attachedWord(w Word, at int, value string) Word {
	sub := Word{Value: value, Dynamic: w.Dynamic, Start: -1, End: -1}
	if w.Start >= 0 && w.End-w.Start == len(w.Value) {
		sub.Start, sub.End = w.Start+at, w.End
	}
	return sub
}

// LastOption returns the last of opts named one of names: the one a
// command that reads its options in order ends up with.
func LastOption(opts []Option, names ...string) (Option, bool) {
	for i := len(opts) - 1; i >= 0; i-- {
		if slices.Contains(names, opts[i].Name) {
			return opts[i], true
		}
	}
	return Option{}, false
}

// Subcommand returns the first positional argument ("install" in
// `apt-get -y install curl`), or "". It is asked for every command by
// many rules, so it does not collect the others.
func (c Command) Subcommand(valued ...string) string {
	if i := c.nextPositional(0, valued); i < len(c.Args) {
		return c.Args[i].Value
	}
	return ""
}

// ArgsText returns the arguments as written, for messages.
func (c Command) String() string {
	parts := []string{c.Name}
	for _, a := range c.Args {
		parts = append(parts, a.Value)
	}
	return strings.Join(parts, " ")
}
