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

// bidiControl reports the invisible runes that reorder the text around
// them (Unicode's explicit directional embeddings, overrides and isolates,
// and the implicit marks): a name or quoted line holding one can show a
// reader something other than what it is ("Trojan Source",
// CVE-2021-42574), in a terminal, a report or a pull request alike.
func bidiControl(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// ShownEscaped reports the runes dockopt shows as escapes wherever it
// quotes what a repository wrote: unprintable ones and bidiControl's.
func ShownEscaped(r rune) bool { return unprintable(r) || bidiControl(r) }

// hasUnprintable reports whether s holds a rune ShownEscaped reports. An
// ASCII byte is read without decoding a rune (messages, asked once each,
// are nearly all ASCII); the rest are decoded as before.
func hasUnprintable(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			return strings.IndexFunc(s[i:], ShownEscaped) >= 0
		}
		if b < 0x20 || b == 0x7f {
			return true
		}
	}
	return false
}

// PrintableName quotes a name that holds a control character or a bidi
// control: a repository chooses its names, and a line break in one would
// start a line of its own in every output that shows it, a right-to-left
// override would show its end first. Other names are shown as they are.
func PrintableName(name string) string {
	if hasUnprintable(name) {
		return strconv.Quote(name)
	}
	return name
}

// escapeControl writes each control character and bidi control of a
// message as its Go escape (\n, \x1b, \u202e), leaving the rest as it
// is. A message quotes what the repository wrote (a file name, a JSON-form
// COPY source), and every output shows it as one line, in the order it
// was written; a rule that quoted the name itself with PrintableName
// leaves nothing here to escape.
func escapeControl(s string) string {
	if !hasUnprintable(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		if !ShownEscaped(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
