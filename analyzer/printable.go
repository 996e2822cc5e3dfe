package analyzer

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// unprintable reports the runes that break a line or drive a terminal: C0
// and C1 controls (a line break, a carriage return, an escape sequence's
// ESC, NEL) and Unicode's own line and paragraph separators.
func unprintable(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// hasUnprintable reports whether s holds a rune unprintable reports. An
// ASCII byte is read without decoding a rune (messages, asked once each,
// are nearly all ASCII); the rest are decoded as before.
func hasUnprintable(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			return strings.IndexFunc(s[i:], unprintable) >= 0
		}
		if b < 0x20 || b == 0x7f {
			return true
		}
	}
	return false
}

// PrintableName quotes a name that holds a control character: a
// repository chooses its names, and a line break in one would start a
// line of its own in every output that shows it. Other names are shown as
// they are.
func PrintableName(name string) string {
	if hasUnprintable(name) {
		return strconv.Quote(name)
	}
	return name
}

// escapeControl writes each control character of a message as its Go
// escape (\n, \x1b), leaving the rest as it is. A message quotes what the
// repository wrote (a file name, a JSON-form COPY source), and every
// output shows it as one line; a rule that quoted the name itself with
// PrintableName leaves nothing here to escape.
func escapeControl(s string) string {
	if !hasUnprintable(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		if !unprintable(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
