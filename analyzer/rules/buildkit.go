package rules

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dockopt/dockopt/analyzer"
)

// buildkitWarnings returns BuildKit's own warnings of one check for the
// file, from the offline conversion the engine runs once per file, without
// repeats and in line and message order, so that findings never depend on
// BuildKit's internals.
func buildkitWarnings(p *analyzer.Pass, check string) []analyzer.BuildKitWarning {
	if !buildkitMayWarn(p.File, check) {
		// The conversion is most of the cost of a file; asked only where
		// the check can report, it is skipped for nine files in ten.
		return nil
	}
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

// buildkitMayWarn reports whether BuildKit's check can warn about d in a
// way its mirror rule reports, from what the check looks at: false only
// when it surely cannot, so that the conversion it needs is not made for
// nothing. An ONBUILD, whose triggers BuildKit runs in the stages built
// FROM its own, is always converted.
func buildkitMayWarn(d *analyzer.Dockerfile, check string) bool {
	for _, in := range d.Instructions {
		if in.Keyword == "ONBUILD" || in.Node == nil {
			return true
		}
	}
	switch check {
	case "UndefinedVar":
		return undefinedVarMayReport(d)
	case "ExposeInvalidFormat", "ExposeProtoCasing":
		// Only a port with a host part or a protocol, or one a variable
		// may expand to such.
		for _, in := range d.Instructions {
			if in.Keyword == "EXPOSE" && strings.ContainsAny(in.Node.Original, "$:/") {
				return true
			}
		}
		return false
	case "WorkdirRelativePath":
		for _, in := range d.Instructions {
			if in.Keyword == "WORKDIR" && (len(in.Args) == 0 || !strings.HasPrefix(in.Args[0], "/")) {
				return true
			}
		}
		return false
	}
	// The checks of FROM (UndefinedArgInFrom, RedundantTargetPlatform,
	// FromPlatformFlagConstDisallowed, InvalidBaseImagePlatform,
	// InvalidDefaultArgInFrom) need a variable, a flag, or a base name
	// that is not a plain image reference; any other check is converted.
	for _, in := range d.Instructions {
		if in.Keyword != "FROM" {
			continue
		}
		if strings.Contains(in.Node.Original, "$") || strings.Contains(in.Node.Original, "--") ||
			len(in.Args) == 0 || !plainImageReference(in.Args[0]) {
			return true
		}
	}
	return false
}

// plainImageReference reports whether ref is surely a valid image
// reference, in a subset of the grammar BuildKit checks base names with
// (lower-case path components, a tag, a sha256 digest); false for
// anything else, valid or not.
func plainImageReference(ref string) bool {
	if len(ref) == 0 || len(ref) > 255 {
		return false
	}
	name, digest, hasDigest := strings.Cut(ref, "@")
	if hasDigest {
		hex, ok := strings.CutPrefix(digest, "sha256:")
		if !ok || len(hex) != 64 || !allBytes(hex, isLowerHex) {
			return false
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		tag := name[i+1:]
		name = name[:i]
		if tag == "" || len(tag) > 128 || tag[0] == '.' || tag[0] == '-' || !allBytes(tag, isTagByte) {
			return false
		}
	}
	if len(name) == 64 && allBytes(name, isLowerHex) {
		// BuildKit refuses a name that looks like an image ID.
		return false
	}
	host, _, hasHost := strings.Cut(name, "/")
	if hasHost && strings.Contains(host, ".") && strings.Contains(host, "_") {
		// A registry host cannot hold an underscore.
		return false
	}
	for c := range strings.SplitSeq(name, "/") {
		if !plainPathComponent(c) {
			return false
		}
	}
	return true
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(b byte) bool { return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' }

func isTagByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-'
}

// plainPathComponent reports whether c is lower-case letters and digits
// separated by single dots, underscores or hyphens.
func plainPathComponent(c string) bool {
	if c == "" {
		return false
	}
	separated := true
	for i := 0; i < len(c); i++ {
		switch b := c[i]; {
		case b >= 'a' && b <= 'z' || b >= '0' && b <= '9':
			separated = false
		case b == '.' || b == '_' || b == '-':
			if separated {
				return false
			}
			separated = true
		default:
			return false
		}
	}
	return !separated
}

// undefinedVarMayReport reports whether UndefinedVar's mirror can report
// about d: in a stage built from scratch, or for a variable one slip away
// from a name the file declares (undefined-variable reports nothing else).
// The names are those any $ of an instruction or heredoc is followed by,
// read as BuildKit's shell lexer reads them: all it may find unset.
func undefinedVarMayReport(d *analyzer.Dockerfile) bool {
	for _, s := range d.Stages {
		if s.BaseStage == nil && s.Base.IsScratch() {
			return true
		}
	}
	var declared []string
	for name := range declaredNames(d) {
		if len(name) >= 4 {
			declared = append(declared, name)
		}
	}
	if len(declared) == 0 {
		return false
	}
	mayBeTypo := func(used string) bool {
		if len(used) < 4 {
			return false
		}
		for _, name := range declared {
			if len(used)-len(name) <= 1 && len(name)-len(used) <= 1 && likelyTypo(used, name) {
				return true
			}
		}
		return false
	}
	for _, in := range d.Instructions {
		if variableNames(in.Node.Original, mayBeTypo) {
			return true
		}
		for _, h := range in.Heredocs {
			if variableNames(h.Content, mayBeTypo) {
				return true
			}
		}
	}
	return false
}

// variableNames calls found with the name after each $ of s, as
// BuildKit's shell lexer reads it (a run of digits, or of letters, digits
// and underscores, after $ or ${), until found returns true.
func variableNames(s string, found func(name string) bool) bool {
	for i := strings.IndexByte(s, '$'); i >= 0; i = strings.IndexByte(s, '$') {
		s = s[i+1:]
		start := 0
		if strings.HasPrefix(s, "{") {
			start = 1
		}
		end := start
		digits := false
		for end < len(s) {
			r, size := utf8.DecodeRuneInString(s[end:])
			if end == start {
				digits = unicode.IsDigit(r)
			}
			inName := unicode.IsDigit(r) || !digits && (unicode.IsLetter(r) || r == '_')
			if !inName {
				break
			}
			end += size
		}
		if end > start && found(s[start:end]) {
			return true
		}
	}
	return false
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
