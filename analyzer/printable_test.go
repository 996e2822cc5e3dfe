package analyzer_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// A message quotes what the repository wrote: a file name, a COPY source
// in JSON form ("a\n2 error fake"). Whatever a rule puts in it, a finding
// reads as one line, with the control characters written as escapes, so
// no name can start a line of its own (a fake finding) or move a
// terminal's cursor in any output.
func TestFindingMessagesHoldNoControlCharacters(t *testing.T) {
	raw := analyzer.New([]*analyzer.Rule{{ID: "names-a-file", Category: analyzer.CategoryReliability, Severity: analyzer.SeverityWarning,
		Title: "names-a-file", Rationale: strings.Repeat("why ", 12), Check: func(p *analyzer.Pass) {
			p.Report(p.File.Instructions[0], "copies a\n2 error fake\x1b[2J\r\u202egnp.exe", &analyzer.Fix{Message: "stop copying a\n2 error fake"})
		}}})
	fr, _ := raw.AnalyzeSource(t.Context(), "Dockerfile", []byte("FROM debian:12\n"), nil, nil)
	if len(fr.Findings) != 1 || fr.Findings[0].Fix == nil {
		t.Fatalf("findings %+v, want one with a fix", fr.Findings)
	}
	f := fr.Findings[0]
	if want := `copies a\n2 error fake\x1b[2J\r\u202egnp.exe`; f.Message != want {
		t.Errorf("message %q, want %q", f.Message, want)
	}
	if want := `stop copying a\n2 error fake`; f.Fix.Message != want {
		t.Errorf("fix message %q, want %q", f.Fix.Message, want)
	}
}

func TestPrintableName(t *testing.T) {
	for name, want := range map[string]string{
		"app.key":         "app.key",
		"a b.key":         "a b.key",
		"a\n2 error fake": `"a\n2 error fake"`,
		"tab\there":       `"tab\there"`,
		"esc\x1b[31m":     `"esc\x1b[31m"`,
		"next\u0085line":  `"next\u0085line"`,
		"sep\u2028line":   `"sep\u2028line"`,
		"über-geheim.pem": "über-geheim.pem",
		"del\x7f":         `"del\x7f"`,
		"über\nline":      `"über\nline"`,
		"ü\u0085":         `"ü\u0085"`,
		// Bidi controls reorder what is shown (Trojan Source).
		"x\u202eelif.sh":  `"x\u202eelif.sh"`,
		"a\u2066b\u2069":  `"a\u2066b\u2069"`,
		"rlm\u200f":       `"rlm\u200f"`,
		"alm\u061c":       `"alm\u061c"`,
		"שלום/Dockerfile": "שלום/Dockerfile",
	} {
		if got := analyzer.PrintableName(name); got != want {
			t.Errorf("PrintableName(%q) = %s, want %s", name, got, want)
		}
	}
}
