package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// The fix builders every rule shares. Each returns edits of the original
// bytes and declines (nil or false) when it cannot place them exactly:
// no fix is better than a wrong one.

// insertLinesBefore inserts whole lines before in and the comment lines
// right above it, with in's indentation.
func insertLinesBefore(d *analyzer.Dockerfile, in *analyzer.Instruction, lines ...string) analyzer.TextEdit {
	// Above the comments right over in, which describe or waive it: a
	// line put between them would take them over.
	at := d.Offset(commentsAbove(d, in.StartLine))
	indent := d.Indent(in.StartLine)
	nl := d.Newline()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + nl)
	}
	return analyzer.TextEdit{Start: at, End: at, New: b.String()}
}

// insertLinesAfter inserts whole lines after the last line of in, with
// the indentation of its first.
func insertLinesAfter(d *analyzer.Dockerfile, in *analyzer.Instruction, lines ...string) analyzer.TextEdit {
	at := in.ContentEnd(d.Source)
	nl, indent := d.Newline(), d.Indent(in.StartLine)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(nl + indent + l)
	}
	return analyzer.TextEdit{Start: at, End: at, New: b.String()}
}

// deleteLines removes whole lines [first, last] and their line endings.
func deleteLines(d *analyzer.Dockerfile, first, last int) analyzer.TextEdit {
	end := len(d.Source)
	if last < d.LineCount() {
		end = d.Offset(last + 1)
	}
	return analyzer.TextEdit{Start: d.Offset(first), End: end, New: ""}
}

// deleteInstruction deletes an instruction's lines and the comment lines
// right above it when they describe it alone: nothing but a blank line, a
// comment or the end of the file follows the instruction. A comment over
// a group of instructions (# runtime settings, then several) stays.
func deleteInstruction(d *analyzer.Dockerfile, in *analyzer.Instruction) analyzer.TextEdit {
	first, last := in.StartLine, in.EndLine
	if next := in.EndLine + 1; next > d.LineCount() || isBlankOrComment(lineText(d, next)) || replacedRightBelow(in, next) {
		first = commentsAbove(d, in.StartLine)
		// Blank lines on both sides would become two in a row.
		if first > 1 && next <= d.LineCount() && strings.TrimSpace(lineText(d, first-1)) == "" && strings.TrimSpace(lineText(d, next)) == "" {
			last = next
		}
	}
	return deleteLines(d, first, last)
}

// replacedRightBelow reports whether the instruction starting on line next
// is another CMD, ENTRYPOINT or HEALTHCHECK like in: a stage keeps one,
// so a comment over the two names the first, not a group.
func replacedRightBelow(in *analyzer.Instruction, next int) bool {
	switch in.Keyword {
	case "CMD", "ENTRYPOINT", "HEALTHCHECK":
	default:
		return false
	}
	if in.Stage == nil {
		return false
	}
	for _, x := range in.Stage.Instructions {
		if x.StartLine == next {
			return x.Keyword == in.Keyword
		}
	}
	return false
}

// lineText returns a 1-based line of the file without its newline.
func lineText(d *analyzer.Dockerfile, line int) string {
	return string(d.Source[d.Offset(line):d.LineEnd(line)])
}

// wideWaiver reports a comment that waives rules for a whole file or
// stage (# hadolint global ignore=, # dockopt ignore-file=): it belongs to
// the file, wherever it is written.
func wideWaiver(text string) bool {
	t := strings.ToLower(text)
	return strings.Contains(t, "hadolint global") || strings.Contains(t, "hadolint stage") ||
		strings.Contains(t, "ignore-file") || strings.Contains(t, "ignore-stage")
}

func isBlankOrComment(text string) bool {
	t := strings.TrimSpace(text)
	return t == "" || strings.HasPrefix(t, "#")
}

// directiveLine reports a parser directive line (# syntax=, # escape=,
// # check=), which belongs to the file, not to an instruction.
func directiveLine(text string) bool {
	t := strings.TrimSpace(text)
	k, _, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(t, "#")), "=")
	if !strings.HasPrefix(t, "#") || !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(k)) {
	case "syntax", "escape", "check":
		return true
	}
	return false
}

// commentsAbove returns the first line of the comment block right above
// line that belongs to it: comment lines up to a file- or stage-wide
// waiver, and after the parser directives when the block starts the file
// (directives are only read there). One pass, whatever the file holds.
func commentsAbove(d *analyzer.Dockerfile, line int) int {
	first := line
	for first > 1 && strings.HasPrefix(strings.TrimSpace(lineText(d, first-1)), "#") && !wideWaiver(lineText(d, first-1)) {
		first--
	}
	if first == 1 {
		for first < line && directiveLine(lineText(d, first)) {
			first++
		}
	}
	return first
}

// laterCleanOnly returns a later RUN of in's stage that does nothing but
// clean tool's cache (RUN zypper clean -a), when no RUN between them runs
// tool: once in cleans up after itself, that RUN has nothing left to do.
func laterCleanOnly(in *analyzer.Instruction, tool string, isClean func(analyzer.Command) bool) *analyzer.Instruction {
	if in.Stage == nil || in.Onbuild != nil {
		return nil
	}
	for _, x := range in.Stage.Instructions {
		if x.Index <= in.Index || x.Keyword != "RUN" {
			continue
		}
		if x.Script == nil {
			return nil
		}
		cmds := x.Script.Commands()
		named := x.Script.CommandsNamed(tool)
		if len(named) == 0 {
			continue
		}
		if len(cmds) != len(named) || len(x.Flags) > 0 {
			return nil
		}
		for _, c := range named {
			if !isClean(c) {
				return nil
			}
		}
		return x
	}
	return nil
}

// elevation returns the sudo or doas (with a space) a command runs under,
// "" for none: a cleanup appended after `sudo zypper in` needs root too.
func elevation(c analyzer.Command) string {
	for _, w := range c.Prefix {
		if b := path.Base(w.Value); b == "sudo" || b == "doas" {
			return w.Value + " "
		}
	}
	return ""
}

// removeWord deletes a word and the blanks that separate it from its
// neighbour on the same line, leaving comments and indentation alone.
func removeWord(d *analyzer.Dockerfile, start, end int) analyzer.TextEdit {
	i := start
	for i > 0 && (d.Source[i-1] == ' ' || d.Source[i-1] == '\t') {
		i--
	}
	if i > 0 && d.Source[i-1] != '\n' {
		return analyzer.TextEdit{Start: i, End: end}
	}
	j := end
	for j < len(d.Source) && (d.Source[j] == ' ' || d.Source[j] == '\t') {
		j++
	}
	return analyzer.TextEdit{Start: start, End: j}
}

// insertAfterWord is a fix that inserts text (usually " --flag") right
// after a word of a RUN script, when the script's offsets are exact.
func insertAfterWord(s *analyzer.Script, w analyzer.Word, text, message string) *analyzer.Fix {
	if !s.Exact() || w.End < 0 {
		return nil
	}
	return &analyzer.Fix{Message: message, Edits: []analyzer.TextEdit{{Start: w.End, End: w.End, New: text}}}
}

// appendToChain returns an edit that appends `&& cmd` to a RUN whose
// script is one plain `&&` chain (or a single command) with exact offsets.
// Other shapes (`;` lists, `||`, background jobs, heredocs) are left to a
// person: where a command belongs in them is a judgement call.
func appendToChain(in *analyzer.Instruction, cmd string) (analyzer.TextEdit, bool) {
	s := in.Script
	if !s.Exact() || s.Heredoc || len(s.File.Stmts) != 1 {
		return analyzer.TextEdit{}, false
	}
	st := s.File.Stmts[0]
	if !appendableChain(st) {
		return analyzer.TextEdit{}, false
	}
	end := s.End(st.End())
	if end <= in.ArgsStart || end > in.End {
		return analyzer.TextEdit{}, false
	}
	return analyzer.TextEdit{Start: end, End: end, New: " && " + cmd}, true
}

// appendableChain reports a statement after which `&& cmd` runs exactly
// when everything before it succeeded: commands and pipelines joined by
// &&, in the foreground, with no trailing `;`.
func appendableChain(st *syntax.Stmt) bool {
	if st == nil || st.Background || st.Coprocess || st.Negated || st.Semicolon.IsValid() {
		return false
	}
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok {
		switch b.Op {
		case syntax.AndStmt:
			return appendableChain(b.X) && appendableChain(b.Y)
		case syntax.Pipe, syntax.PipeAll:
			return true
		}
		return false
	}
	return st.Cmd != nil
}

// renameVarFix rewrites the uses $old and ${old…} in an instruction to
// new, for a misspelled variable whose intended name is known. Escaped
// dollars are literal text and stay as they are.
func renameVarFix(d *analyzer.Dockerfile, in *analyzer.Instruction, old, new string) *analyzer.Fix {
	src := d.Source
	end := in.ContentEnd(src)
	var edits []analyzer.TextEdit
	for i := in.Start; i < end; i++ {
		if src[i] != '$' || (i > in.Start && rune(src[i-1]) == d.Escape) {
			continue
		}
		start := i + 1
		if start < end && src[start] == '{' {
			start++
		}
		stop := start + len(old)
		if stop > end || string(src[start:stop]) != old {
			continue
		}
		if stop < end && isVarNameByte(src[stop]) {
			continue
		}
		if src[start-1] == '{' && stop < end && strings.IndexByte(":-+?", src[stop]) >= 0 {
			// ${APP_DRI:-/tmp}: the author gave the undefined name a
			// meaning of its own, which the rename would change.
			return nil
		}
		edits = append(edits, analyzer.TextEdit{Start: start, End: stop, New: new})
	}
	if len(edits) == 0 {
		return nil
	}
	return &analyzer.Fix{Message: fmt.Sprintf("use $%s", new), Edits: edits}
}

func isVarNameByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// matchCase returns word in the case of model: lower when model is all
// lower case, upper otherwise, so that inserted keywords match the file.
func matchCase(word, model string) string {
	if model == strings.ToLower(model) {
		return strings.ToLower(word)
	}
	return strings.ToUpper(word)
}

// dockerfileQuote double-quotes a value so that BuildKit's word processing
// (ENV, LABEL, ARG values) gives back exactly s: the escape character, '"'
// and '$' are escaped, everything else is literal inside double quotes.
func dockerfileQuote(s string, escape rune) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '$' || r == escape {
			b.WriteRune(escape)
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// shellQuote quotes a word for the shell only when it needs it.
func shellQuote(s string) string {
	q, err := syntax.Quote(s, syntax.LangPOSIX)
	if err != nil {
		return s
	}
	return q
}

// insertAfterCommandName is a fix that inserts text right after the word
// naming the command (after wrappers such as sudo), where options go.
func insertAfterCommandName(s *analyzer.Script, c analyzer.Command, text, message string) *analyzer.Fix {
	end := commandNameEnd(s, c)
	if end < 0 {
		return nil
	}
	return &analyzer.Fix{Message: message, Edits: []analyzer.TextEdit{{Start: end, End: end, New: text}}}
}
