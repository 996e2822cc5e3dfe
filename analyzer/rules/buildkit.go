package rules

import (
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
