package testfiles

import (
	"regexp"
	"strings"
)

// codeSpanOpen finds a run of backticks not escaped by a backslash.
var codeSpanOpen = regexp.MustCompile("(?:^|[^\\\\`])(`+)")

// OutsideCode is markdown without its code spans, as GitHub reads them:
// a run of backticks opens a span that the next run of the same length
// closes; a run that nothing closes is text. What is left is what
// Markdown renders as Markdown, where a name must not read as a link or
// HTML.
func OutsideCode(markdown string) string {
	var b strings.Builder
	s := markdown
	for {
		m := codeSpanOpen.FindStringSubmatchIndex(s)
		if m == nil {
			return b.String() + s
		}
		open, end := m[2], m[3]
		fence := s[open:end]
		closeAt := -1
		for i := end; i < len(s); {
			j := strings.Index(s[i:], fence)
			if j < 0 {
				break
			}
			j += i
			after := j + len(fence)
			if s[j-1] != '`' && (after == len(s) || s[after] != '`') {
				closeAt = j
				break
			}
			for i = after; i < len(s) && s[i] == '`'; i++ {
			}
		}
		if closeAt < 0 {
			// Unmatched: the backticks are text, and so is what follows.
			b.WriteString(s[:end])
			s = s[end:]
			continue
		}
		b.WriteString(s[:open])
		s = s[closeAt+len(fence):]
	}
}
