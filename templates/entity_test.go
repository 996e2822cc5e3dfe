package templates_test

import (
	"testing"

	"github.com/dockopt/dockopt/templates"
)

// TestEscapedTextHasNoCharacterReference checks that a message quoting what
// a repository wrote cannot smuggle a character in as an HTML character
// reference: GitHub's Markdown turns "&#x202E;" outside code into U+202E,
// the right-to-left override that c7ca4c8 shows escaped everywhere else,
// and "&lt;details&gt;" into text that reads as HTML.
func TestEscapedTextHasNoCharacterReference(t *testing.T) {
	for _, s := range []string{
		"COPY . /app&#x202E;x on line 3",
		"(including .env.&#8238;gpj)",
		"&rlm;name&lrm;",
		"&lt;details open&gt;",
	} {
		got := templates.EscapeMarkdown(s)
		for i := 0; i < len(got); i++ {
			if got[i] == '&' && (i == 0 || got[i-1] != '\\') {
				t.Errorf("EscapeMarkdown(%q) = %q leaves a character reference Markdown decodes", s, got)
				break
			}
		}
	}
	// A lone & (a shell's &&) needs no escape and keeps its look.
	if got := templates.EscapeMarkdown("apt-get update && apt-get install"); got != "apt-get update && apt-get install" {
		t.Errorf("EscapeMarkdown escapes a plain &&: %q", got)
	}
}
