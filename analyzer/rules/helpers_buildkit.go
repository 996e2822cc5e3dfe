package rules

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// buildkitWarnings returns BuildKit's own warnings of one check for the
// file, from the offline conversion the engine runs once per file, without
// repeats and in line and message order, so that findings never depend on
// BuildKit's internals.
func buildkitWarnings(p *analyzer.Pass, check string) []analyzer.BuildKitWarning {
	var out []analyzer.BuildKitWarning
	seen := map[analyzer.BuildKitWarning]bool{}
	for _, w := range p.BuildKit() {
		// BuildKit can say the same thing twice about one instruction
		// (COPY expands its sources and its destination separately).
		if w.Rule == check && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].StartLine != out[j].StartLine {
			return out[i].StartLine < out[j].StartLine
		}
		return out[i].Message < out[j].Message
	})
	return out
}

// instructionOnLine returns the top-level instruction that starts on line,
// which is where BuildKit locates its warnings.
func instructionOnLine(d *analyzer.Dockerfile, line int) *analyzer.Instruction {
	for _, in := range d.Instructions {
		if in.StartLine == line {
			return in
		}
		if in.StartLine > line {
			break
		}
	}
	return nil
}

// mirrorBuildKit reports every BuildKit warning of one check as a finding of
// the pass's rule, so that what fires is BuildKit's behaviour by
// construction. describe words the message and may propose a fix; it
// returns ok=false to drop a warning dockopt cannot stand behind.
func mirrorBuildKit(p *analyzer.Pass, check string, describe func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (msg string, fix *analyzer.Fix, ok bool)) {
	for _, w := range buildkitWarnings(p, check) {
		in := instructionOnLine(p.File, w.StartLine)
		msg, fix, ok := describe(w, in)
		if !ok {
			continue
		}
		if in != nil {
			p.Report(in, msg, fix)
			continue
		}
		p.ReportLines(w.StartLine, w.EndLine, -1, msg, fix)
	}
}

var quotedInMessage = regexp.MustCompile(`'([^']*)'|"([^"]*)"`)

// quotedValue returns the first quoted value of a BuildKit message, such as
// the port of "… found '80:80'", so dockopt can word its own message.
func quotedValue(msg string) string {
	m := quotedInMessage.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return m[1] + m[2]
}

// isAllCase reports whether a keyword is written entirely in one case, the
// only spellings BuildKit counts when it looks for the majority.
func isAllCase(s string) bool { return s == strings.ToLower(s) || s == strings.ToUpper(s) }

// matchCase returns word in the case of model: lower when model is all
// lower case, upper otherwise.
func matchCase(word, model string) string {
	if model == strings.ToLower(model) {
		return strings.ToLower(word)
	}
	return strings.ToUpper(word)
}

// deleteLines is an edit removing whole lines [first, last] and their
// line endings.
func deleteLines(d *analyzer.Dockerfile, first, last int) analyzer.TextEdit {
	end := len(d.Source)
	if last < d.LineCount() {
		end = d.Offset(last + 1)
	}
	return analyzer.TextEdit{Start: d.Offset(first), End: end, New: ""}
}

// rawWord is a whitespace-separated token of an instruction's source.
type rawWord struct {
	Text       string
	Start, End int
}

// rawWords splits [start, end) of the source into words at blanks and line
// continuations; it is meant for instructions whose arguments are plain
// words (FROM, EXPOSE), not for shell text.
func rawWords(d *analyzer.Dockerfile, start, end int) []rawWord {
	var out []rawWord
	src := d.Source
	i := start
	for i < end {
		c := src[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			i++
			continue
		}
		if rune(c) == d.Escape && lineContinues(src, i) {
			for i < end && src[i] != '\n' {
				i++
			}
			continue
		}
		if c == '#' && i > 0 && src[i-1] == '\n' {
			// A comment line inside a continuation.
			for i < end && src[i] != '\n' {
				i++
			}
			continue
		}
		j := i
		for j < end && src[j] != ' ' && src[j] != '\t' && src[j] != '\r' && src[j] != '\n' {
			j++
		}
		out = append(out, rawWord{Text: string(src[i:j]), Start: i, End: j})
		i = j
	}
	return out
}

// lineContinues reports whether the escape character at i ends its line.
func lineContinues(src []byte, i int) bool {
	j := i + 1
	for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
		j++
	}
	return j >= len(src) || src[j] == '\n'
}

// stageDescends reports whether s is built, directly or through other
// stages, FROM base.
func stageDescends(s, base *analyzer.Stage) bool {
	for i := 0; s != nil && i < 1000; i++ {
		if s == base {
			return true
		}
		s = s.BaseStage
	}
	return false
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

// contentEnd is the end of an instruction's text without a final line
// ending (the model's End includes it on the file's last line).
func contentEnd(d *analyzer.Dockerfile, in *analyzer.Instruction) int {
	end := in.End
	for end > in.Start && (d.Source[end-1] == '\n' || d.Source[end-1] == '\r') {
		end--
	}
	return end
}

// hasCommentLine reports whether a continued instruction holds comment
// lines, which a rewrite of its arguments would silently drop.
func hasCommentLine(d *analyzer.Dockerfile, in *analyzer.Instruction) bool {
	for l := in.StartLine + 1; l <= in.EndLine; l++ {
		if strings.HasPrefix(strings.TrimSpace(string(d.Source[d.Offset(l):d.LineEnd(l)])), "#") {
			return true
		}
	}
	return false
}

// renameVarFix rewrites the uses $old and ${old…} in an instruction to
// new, for a misspelled variable whose intended name is known. Escaped
// dollars are literal text and stay as they are.
func renameVarFix(d *analyzer.Dockerfile, in *analyzer.Instruction, old, new string) *analyzer.Fix {
	src := d.Source
	end := contentEnd(d, in)
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
