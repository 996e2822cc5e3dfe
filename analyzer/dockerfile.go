package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/util/suggest"
	"mvdan.cc/sh/v3/syntax"
)

// MaxDockerfileSize bounds what is parsed: a Dockerfile larger than this is
// almost certainly not hand-written and would only slow every other file down.
const MaxDockerfileSize = 1 << 20

// MaxInstructions and MaxCommands bound the Dockerfiles that are analyzed:
// 100,000 instructions, of which 20,000 run a command (RUN, CMD,
// ENTRYPOINT, HEALTHCHECK, ONBUILD). The model keeps a few kilobytes per
// instruction, more for a command (its parsed shell script, the findings
// about it), and 1 MiB of one-word RUNs needed 1.9 GB. Both are far
// beyond any hand-written file.
const (
	MaxInstructions = 100000
	MaxCommands     = 20000
)

// Dockerfile is the parsed model rules inspect. It keeps the raw bytes and
// a line table because BuildKit's nodes carry only line numbers and join
// continuations; every edit a fix proposes is a byte range of Source.
type Dockerfile struct {
	Path   string
	Source []byte
	// Escape is the escape character (`\` or a backtick from `# escape=`).
	Escape     rune
	Directives []Directive
	// Instructions are the top-level instructions in file order: meta ARGs,
	// then each stage's FROM and its body.
	Instructions []*Instruction
	MetaArgs     []*Instruction
	Stages       []*Stage
	AST          *parser.Node
	// EmptyContinuationLines are lines BuildKit will reject in a future release.
	EmptyContinuationLines []int
	// Expansion is set when ARG/ENV values would expand past MaxExpansion;
	// BuildKit is then never asked to convert the file.
	Expansion *ExpansionError
	// Template is set for a template of Dockerfiles (template.go), read
	// with its placeholders filled in.
	Template bool

	lineStarts []int
	// stagesNamed lists the stages of each lower-cased name in file order.
	stagesNamed map[string][]*Stage
	// shell parses RUN scripts while the model is built.
	shell   *syntax.Parser
	newline string
}

// Directive is a parser directive such as `# syntax=` or `# check=`.
type Directive struct {
	Name  string
	Value string
	Line  int
}

// Directive returns the value of the named parser directive.
func (d *Dockerfile) Directive(name string) (string, bool) {
	for _, dir := range d.Directives {
		if strings.EqualFold(dir.Name, name) {
			return dir.Value, true
		}
	}
	return "", false
}

// Instruction is one Dockerfile instruction with exact source positions.
type Instruction struct {
	Index int
	// Keyword is the instruction name in upper case ("RUN"); Written is
	// how the file spells it, so fixes can keep the author's casing.
	Keyword string
	Written string
	Node    *parser.Node
	// StartLine and EndLine are 1-based and include heredoc bodies.
	StartLine, EndLine int
	// Start and End are byte offsets of the instruction in Source; End
	// excludes the final newline. KeywordStart is where its keyword is
	// written: Start, unless lines BuildKit joins into the instruction
	// come first (a line of a lone escape character). ArgsStart is where
	// the arguments begin, after the keyword and any --flags.
	Start, End, KeywordStart, ArgsStart int
	Flags                               []string
	Args                                []string
	// JSON is true for the exec (JSON array) form.
	JSON     bool
	Heredocs []parser.Heredoc
	// Command is BuildKit's typed instruction, nil when it does not parse;
	// FROM parses to *instructions.Stage in Parsed instead.
	Command  instructions.Command
	Parsed   any
	parseErr error
	Stage    *Stage
	// Shell is the SHELL in effect where the instruction runs (a SHELL
	// instruction's is the one before it), nil for the default; shared
	// with the stage, so not to be modified.
	Shell    []string
	Comments []string
	// Script is the parsed shell of a RUN in shell form (nil for exec form,
	// Windows stages and non-POSIX SHELLs).
	Script *Script
	// Trigger is the instruction an ONBUILD wraps; Onbuild points back.
	Trigger *Instruction
	Onbuild *Instruction

	// pos is the index in Stage.Instructions (the ONBUILD's for a
	// trigger); state is what the stage chain set before it.
	pos   int
	state runState
}

// Text returns the instruction's source text.
func (in *Instruction) Text(src []byte) string { return string(src[in.Start:in.End]) }

// ContentEnd is where the instruction's text ends before any line break,
// the place to append to it. End can include the line break of a file's
// last line.
func (in *Instruction) ContentEnd(src []byte) int {
	end := in.End
	for end > in.Start && (src[end-1] == '\n' || src[end-1] == '\r') {
		end--
	}
	return end
}

// Flag returns the value of a --name[=value] flag and whether it is present.
func (in *Instruction) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		f = strings.TrimPrefix(f, "--")
		k, v, _ := strings.Cut(f, "=")
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Stage is one FROM and the instructions up to the next FROM.
type Stage struct {
	Index int
	// Name is the `AS` name as written, "" when unnamed.
	Name string
	From *Instruction
	// BaseRaw is the FROM image as written; Base is it with meta ARGs
	// substituted.
	BaseRaw string
	Base    ImageRef
	// BaseStage is set when FROM names an earlier stage.
	BaseStage    *Stage
	Platform     string
	Instructions []*Instruction
	Final        bool
	// Windows is true for Windows base images or a backtick escape.
	Windows bool
	// Shell is the effective SHELL at the end of the stage.
	Shell []string

	endState runState
	env      *stageEnv
	// treeIn and treeOut number the stage in a walk of the FROM tree;
	// root is the first stage of its chain.
	treeIn, treeOut int
	root            *Stage
}

// Root returns the first stage of the chain whose base is an image.
func (s *Stage) Root() *Stage {
	if s.root != nil {
		return s.root
	}
	seen := 0
	for s.BaseStage != nil && seen < 1000 {
		s = s.BaseStage
		seen++
	}
	return s
}

// Lineage returns the stages s is built on, root first, ending with s.
// BaseStage always names an earlier stage, so the walk ends.
func (s *Stage) Lineage() []*Stage {
	var out []*Stage
	for ; s != nil; s = s.BaseStage {
		out = append(out, s)
	}
	slices.Reverse(out)
	return out
}

// LineageInstructions returns the instructions of the stages in Lineage,
// in build order: everything that made the stage's filesystem and config.
func (s *Stage) LineageInstructions() []*Instruction {
	var out []*Instruction
	for _, st := range s.Lineage() {
		out = append(out, st.Instructions...)
	}
	return out
}

// Ref returns how later instructions refer to this stage.
func (s *Stage) Ref() string {
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprint(s.Index)
}

// Each yields every instruction with the keyword (all when keyword is ""),
// including those inside ONBUILD triggers, so that rules check triggers
// exactly as hadolint does.
func (d *Dockerfile) Each(keyword string) iter.Seq[*Instruction] {
	return func(yield func(*Instruction) bool) {
		for _, in := range d.Instructions {
			if keyword == "" || in.Keyword == keyword {
				if !yield(in) {
					return
				}
			}
			if in.Trigger != nil && (keyword == "" || in.Trigger.Keyword == keyword) {
				if !yield(in.Trigger) {
					return
				}
			}
		}
	}
}

// FinalStage returns the stage that is built by default.
func (d *Dockerfile) FinalStage() *Stage {
	if len(d.Stages) == 0 {
		return nil
	}
	return d.Stages[len(d.Stages)-1]
}

// StageByRef finds a stage by name (case-insensitive) or index; when
// both match, the earlier stage.
func (d *Dockerfile) StageByRef(ref string) *Stage {
	var found *Stage
	if named := d.stagesNamed[strings.ToLower(ref)]; len(named) > 0 {
		found = named[0]
	}
	if i, err := strconv.Atoi(ref); err == nil && strconv.Itoa(i) == ref && i >= 0 && i < len(d.Stages) {
		if found == nil || i < found.Index {
			found = d.Stages[i]
		}
	}
	return found
}

// Offset returns the byte offset of the start of a 1-based line.
func (d *Dockerfile) Offset(line int) int {
	if line < 1 {
		return 0
	}
	if line > len(d.lineStarts) {
		return len(d.Source)
	}
	return d.lineStarts[line-1]
}

// LineEnd returns the offset of the end of a 1-based line, before its newline.
func (d *Dockerfile) LineEnd(line int) int {
	end := d.Offset(line + 1)
	if end > 0 && end <= len(d.Source) && d.Source[end-1] == '\n' {
		end--
	}
	if end > 0 && end <= len(d.Source) && d.Source[end-1] == '\r' {
		end--
	}
	return end
}

// Line returns the 1-based line of a byte offset.
func (d *Dockerfile) Line(offset int) int {
	lo, hi := 0, len(d.lineStarts)
	for lo < hi {
		mid := (lo + hi) / 2
		if d.lineStarts[mid] <= offset {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// LineCount is the number of lines in the file.
func (d *Dockerfile) LineCount() int { return len(d.lineStarts) }

// Indent returns the leading white space of a line, for edits that insert
// instructions and want to match the file.
func (d *Dockerfile) Indent(line int) string {
	start := d.Offset(line)
	i := start
	for i < len(d.Source) && (d.Source[i] == ' ' || d.Source[i] == '\t') {
		i++
	}
	return string(d.Source[start:i])
}

// Newline returns the file's line ending. Fixes ask for it, one per
// finding, so it is found once per file.
func (d *Dockerfile) Newline() string {
	if d.newline == "" {
		d.newline = "\n"
		if bytes.Contains(d.Source, []byte("\r\n")) {
			d.newline = "\r\n"
		}
	}
	return d.newline
}

// ErrInput marks errors caused by the file's content rather than by dockopt.
var ErrInput = errors.New("invalid Dockerfile")

// Parse builds the model of one Dockerfile. It refuses binary, non-UTF-8 and
// oversized input with errors that say which.
func Parse(path string, src []byte) (*Dockerfile, error) {
	if err := checkText(src); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, describeParseError(err))
	}
	if err := checkCounts(res.AST); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	d := &Dockerfile{Path: path, Source: src, AST: res.AST, Escape: res.EscapeToken}
	d.lineStarts = lineStarts(src)
	d.Directives = parseDirectives(src)
	d.Expansion = CheckExpansion(res.AST, res.EscapeToken)
	for _, w := range res.Warnings {
		if w.Location != nil {
			d.EmptyContinuationLines = append(d.EmptyContinuationLines, w.Location.Start.Line)
		}
	}
	d.Newline()
	err = d.build()
	d.releaseShellParser()
	if err != nil {
		return nil, err
	}
	d.computeState()
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("%w: no FROM instruction, so there is no build stage", ErrInput)
	}
	for _, in := range d.Instructions {
		if in.parseErr != nil {
			return nil, fmt.Errorf("%w: line %d: %s", ErrInput, in.StartLine, instructionError(in.parseErr))
		}
	}
	return d, nil
}

// checkCounts refuses a file past MaxInstructions or MaxCommands.
func checkCounts(ast *parser.Node) error {
	if n := len(ast.Children); n > MaxInstructions {
		return fmt.Errorf("the file has %d instructions; Dockerfiles with more than %d are not analyzed", n, MaxInstructions)
	}
	commands := 0
	for _, n := range ast.Children {
		switch strings.ToUpper(n.Value) {
		case "RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "ONBUILD":
			commands++
		}
	}
	if commands > MaxCommands {
		return fmt.Errorf("the file has %d RUN, CMD, ENTRYPOINT, HEALTHCHECK and ONBUILD instructions; Dockerfiles with more than %d are not analyzed", commands, MaxCommands)
	}
	return nil
}

func checkText(src []byte) error {
	if len(src) > MaxDockerfileSize {
		return fmt.Errorf("file is %.1f MB; Dockerfiles over %d KiB are not analyzed", float64(len(src))/1e6, MaxDockerfileSize>>10)
	}
	if len(bytes.TrimSpace(src)) == 0 {
		return errors.New("file is empty")
	}
	head := src
	if len(head) > 8000 {
		head = head[:8000]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return errors.New("file is binary (contains NUL bytes)")
	}
	if !utf8.Valid(src) {
		line := 1 + bytes.Count(src[:firstInvalidUTF8(src)], []byte("\n"))
		return fmt.Errorf("file is not valid UTF-8 text (first bad byte on line %d)", line)
	}
	return nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func describeParseError(err error) error {
	var loc *parser.LocationError
	if errors.As(err, &loc) && len(loc.Locations) > 0 && len(loc.Locations[0]) > 0 {
		return fmt.Errorf("line %d: %v", loc.Locations[0][0].Start.Line, errors.Unwrap(err))
	}
	return err
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, b := range src {
		if b == '\n' && i+1 < len(src) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// parseDirectives reads the leading `# name=value` lines BuildKit treats as
// parser directives (syntax, escape, check).
func parseDirectives(src []byte) []Directive {
	var out []Directive
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	for i, line := range bytes.Split(src, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		if i == 0 && strings.HasPrefix(l, "#!") {
			continue
		}
		if !strings.HasPrefix(l, "#") {
			break
		}
		k, v, ok := strings.Cut(strings.TrimSpace(l[1:]), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			break
		}
		out = append(out, Directive{Name: strings.ToLower(k), Value: strings.TrimSpace(v), Line: i + 1})
	}
	return out
}

func (d *Dockerfile) build() error {
	var stage *Stage
	metaEnv := map[string]string{}
	lex := lexer(d.Escape)
	d.Instructions = make([]*Instruction, 0, len(d.AST.Children))
	for i, node := range d.AST.Children {
		in := d.newInstruction(i, node)
		d.Instructions = append(d.Instructions, in)
		if in.Keyword == "ONBUILD" && node.Next != nil && len(node.Next.Children) > 0 {
			t := d.newTriggerInstruction(in, node.Next.Children[0])
			in.Trigger = t
		}
		switch {
		case in.Keyword == "FROM":
			stage = d.newStage(in, lex, metaEnv)
		case stage == nil && in.Keyword == "ARG":
			d.MetaArgs = append(d.MetaArgs, in)
			if c, ok := in.Command.(*instructions.ArgCommand); ok {
				for _, kv := range c.Args {
					if kv.Value != nil {
						// BuildKit expands a meta ARG's default as a word:
						// ARG OS="linux" is linux, not "linux" in quotes.
						metaEnv[kv.Key] = expandStatic(lex, *kv.Value, metaEnv)
					} else if _, ok := metaEnv[kv.Key]; !ok {
						metaEnv[kv.Key] = ""
					}
				}
			}
		case stage != nil:
			in.Stage = stage
			in.Shell = stage.Shell
			stage.Instructions = append(stage.Instructions, in)
			if in.Trigger != nil {
				in.Trigger.Stage = stage
				in.Trigger.Shell = stage.Shell
			}
			if in.Keyword == "SHELL" {
				if c, ok := in.Command.(*instructions.ShellCommand); ok {
					stage.Shell = append([]string(nil), c.Shell...)
				}
			}
		}
		target := in
		if in.Trigger != nil {
			target = in.Trigger
		}
		if target.Keyword == "RUN" && !target.JSON && target.Stage != nil && stagePOSIX(target.Stage) {
			target.Script = d.runScript(target)
		}
	}
	if len(d.Stages) > 0 {
		d.Stages[len(d.Stages)-1].Final = true
	}
	return nil
}

func stagePOSIX(s *Stage) bool {
	if s.Windows {
		return false
	}
	if len(s.Shell) == 0 {
		return true
	}
	sh := strings.ToLower(s.Shell[0])
	for _, posix := range []string{"/bin/sh", "/bin/bash", "/bin/ash", "/bin/dash", "/usr/bin/bash", "/bin/zsh", "sh", "bash", "ash", "dash"} {
		if sh == posix {
			return true
		}
	}
	return false
}

func (d *Dockerfile) newInstruction(index int, node *parser.Node) *Instruction {
	in := &Instruction{
		Index:     index,
		Keyword:   upperKeyword(node.Value),
		Node:      node,
		StartLine: node.StartLine,
		EndLine:   node.EndLine,
		Flags:     node.Flags,
		JSON:      node.Attributes["json"],
		Heredocs:  node.Heredocs,
		Comments:  node.PrevComment,
	}
	in.Args = nodeArgs(node)
	in.Start = d.Offset(in.StartLine)
	for in.Start < len(d.Source) && (d.Source[in.Start] == ' ' || d.Source[in.Start] == '\t') {
		in.Start++
	}
	in.End = d.LineEnd(in.EndLine)
	if in.End < in.Start {
		in.End = in.Start
	}
	in.KeywordStart = d.keywordStart(in.Start, in.End)
	kwEnd := in.KeywordStart
	for kwEnd < in.End && !isSpace(d.Source[kwEnd]) {
		kwEnd++
	}
	in.Written = writtenKeyword(d.Source[in.KeywordStart:kwEnd], in.Keyword)
	in.ArgsStart = d.skipFlags(kwEnd, in.End, len(in.Flags))
	in.Parsed, in.Command, in.parseErr = parseTyped(node)
	return in
}

// upperKeywords are the instruction names BuildKit's parser gives (in
// lower case), each with its upper-case form: looked up instead of
// converted, a string less for every instruction of every analysis.
var upperKeywords = func() map[string]string {
	m := make(map[string]string, len(command.Commands))
	for name := range command.Commands {
		m[name] = strings.ToUpper(name)
	}
	return m
}()

// upperKeyword returns a node's instruction name in upper case.
func upperKeyword(value string) string {
	if k, ok := upperKeywords[value]; ok {
		return k
	}
	return strings.ToUpper(value)
}

// writtenKeyword is the keyword as written: keyword itself (no copy)
// when written in upper case, as it nearly always is.
func writtenKeyword(written []byte, keyword string) string {
	if string(written) == keyword {
		return keyword
	}
	return string(written)
}

// nodeArgs returns the values of the words after an instruction's name,
// in one allocation.
func nodeArgs(node *parser.Node) []string {
	n := 0
	for a := node.Next; a != nil; a = a.Next {
		n++
	}
	if n == 0 {
		return nil
	}
	args := make([]string, 0, n)
	for a := node.Next; a != nil; a = a.Next {
		args = append(args, a.Value)
	}
	return args
}

// keywordStart returns where the keyword of the instruction at start is:
// past the continuations BuildKit joins into it first (a line of a lone
// escape character), and the comment lines it drops inside them.
func (d *Dockerfile) keywordStart(start, end int) int {
	i := d.skipBlank(start, end)
	for i > start && i < end && d.Source[i] == '#' && d.startsLine(i) {
		nl := bytes.IndexByte(d.Source[i:end], '\n')
		if nl < 0 {
			return i
		}
		i = d.skipBlank(i+nl+1, end)
	}
	return i
}

// newTriggerInstruction models the instruction inside ONBUILD, positioned
// where it is written after the ONBUILD keyword.
func (d *Dockerfile) newTriggerInstruction(parent *Instruction, node *parser.Node) *Instruction {
	t := &Instruction{
		Index:        parent.Index,
		Keyword:      upperKeyword(node.Value),
		Node:         node,
		StartLine:    parent.StartLine,
		EndLine:      parent.EndLine,
		Flags:        node.Flags,
		JSON:         node.Attributes["json"],
		Heredocs:     node.Heredocs,
		Onbuild:      parent,
		Start:        parent.ArgsStart,
		KeywordStart: parent.ArgsStart,
		End:          parent.End,
	}
	t.Args = nodeArgs(node)
	kwEnd := t.Start
	for kwEnd < t.End && !isSpace(d.Source[kwEnd]) {
		kwEnd++
	}
	t.Written = string(d.Source[t.Start:kwEnd])
	t.ArgsStart = d.skipFlags(kwEnd, t.End, len(t.Flags))
	t.Parsed, t.Command, _ = parseTyped(node)
	return t
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// skipBlank skips white space and escaped newlines (line continuations).
func (d *Dockerfile) skipBlank(i, end int) int {
	for i < end {
		switch {
		case isSpace(d.Source[i]):
			i++
		case rune(d.Source[i]) == d.Escape && d.continuationAt(i):
			i++
		default:
			return i
		}
	}
	return i
}

// continuationAt reports whether the escape character at i continues its
// line, as BuildKit decides it (see continuationEscape).
func (d *Dockerfile) continuationAt(i int) bool {
	lineEnd := i + 1
	for lineEnd < len(d.Source) && d.Source[lineEnd] != '\n' {
		lineEnd++
	}
	content := lineEnd
	for content > i+1 && d.Source[content-1] == '\r' {
		content--
	}
	e, ok := d.continuationEscape(i, content)
	return ok && e == i
}

func (d *Dockerfile) skipFlags(i, end, n int) int {
	i = d.skipBlank(i, end)
	for k := 0; k < n && i < end; k++ {
		if !bytes.HasPrefix(d.Source[i:end], []byte("--")) {
			break
		}
		for i < end && !isSpace(d.Source[i]) {
			i++
		}
		i = d.skipBlank(i, end)
	}
	return i
}

// brokenRef reports a reference with an empty part where a variable
// without a value was: "", "node:", "/base:1", "node:-alpine".
func brokenRef(ref string) bool {
	return ref == "" || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ":") || strings.HasSuffix(ref, ":") ||
		strings.HasSuffix(ref, "/") || strings.HasSuffix(ref, "@") || strings.Contains(ref, "//") || strings.Contains(ref, ":-") ||
		strings.Contains(ref, ":.")
}

func (d *Dockerfile) newStage(from *Instruction, lex lexer, metaEnv map[string]string) *Stage {
	s := &Stage{Index: len(d.Stages), From: from}
	from.Stage = s
	if c, ok := from.Parsed.(*instructions.Stage); ok {
		s.Name = c.Name
		s.BaseRaw = c.BaseName
		s.Platform = c.Platform
	} else if len(from.Args) > 0 {
		s.BaseRaw = from.Args[0]
		if len(from.Args) >= 3 && strings.EqualFold(from.Args[1], "as") {
			s.Name = from.Args[2]
		}
	}
	// BuildKit lower-cases stage names; keep what was written for messages.
	if len(from.Args) >= 3 && strings.EqualFold(from.Args[1], "as") {
		s.Name = from.Args[2]
	}
	resolved := s.BaseRaw
	unresolved := false
	if strings.Contains(resolved, "$") {
		res, err := lex.ProcessWordWithMatches(resolved, mapEnv(metaEnv))
		if err == nil {
			resolved = res.Result
			unresolved = len(res.Unmatched) > 0
		} else {
			unresolved = true
		}
		for k := range res.Matched {
			if metaEnv[k] == "" {
				unresolved = true
			}
		}
	}
	if named := d.stagesNamed[strings.ToLower(resolved)]; len(named) > 0 {
		s.BaseStage = named[len(named)-1]
	}
	s.Base = ParseImageRef(resolved)
	s.Base.Unresolved = unresolved || resolved == ""
	if s.Base.Unresolved && brokenRef(resolved) {
		// Messages name the base image by Raw: what the substitution
		// leaves of FROM ${BUILD_IMAGE} or node:${TAG} is no name at
		// all, so name it as written.
		s.Base.Raw = s.BaseRaw
	}
	if s.BaseStage != nil {
		s.Windows = s.BaseStage.Windows
		s.Shell = append([]string(nil), s.BaseStage.Shell...)
	} else {
		s.Windows = s.Base.IsWindows()
	}
	if d.Escape == '`' {
		s.Windows = true
	}
	d.Stages = append(d.Stages, s)
	if s.Name != "" {
		if d.stagesNamed == nil {
			d.stagesNamed = map[string][]*Stage{}
		}
		k := strings.ToLower(s.Name)
		d.stagesNamed[k] = append(d.stagesNamed[k], s)
	}
	return s
}

type mapEnv map[string]string

func (m mapEnv) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }
func (m mapEnv) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// quietLinter is handed to BuildKit's instruction parser, which panics on a
// nil linter when a "# check=" comment sits above an instruction (found by
// FuzzAnalyze). It skips every rule: a linter that runs one appends the
// rule's name to its CalledRules, which files parsed at once raced on and
// which grew for as long as the process ran. The warnings were dropped
// anyway; BuildKit's checks run in the conversion (Pass.BuildKit).
var quietLinter = linter.New(&linter.Config{SkipAll: true, Warn: func(string, string, string, string, []parser.Range) {}})

// instructionError is BuildKit's error for one instruction, without its
// location (the caller gives the line), and with a suggestion that is the
// same on every run: BuildKit picks the closest instruction name from a map
// it ranges over, so ADG was "did you mean ADD?" on one run and "ARG?" on
// the next. The first of the closest in alphabetical order is suggested.
func instructionError(err error) string {
	err = errors.Unwrap(err)
	var unknown *instructions.UnknownInstructionError
	if !errors.As(err, &unknown) {
		return err.Error()
	}
	msg := unknown.Error()
	if name, ok := suggest.Search(unknown.Instruction, instructionNames(), false); ok {
		msg += " (did you mean " + name + "?)"
	}
	return msg
}

var instructionNames = sync.OnceValue(func() []string {
	var names []string
	for name := range command.Commands {
		names = append(names, strings.ToUpper(name))
	}
	slices.Sort(names)
	return names
})

func parseTyped(node *parser.Node) (any, instructions.Command, error) {
	v, err := instructions.ParseInstructionWithLinter(node, quietLinter)
	if err != nil {
		return nil, nil, err
	}
	cmd, _ := v.(instructions.Command)
	return v, cmd, nil
}
