package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ExposeProtoCasing mirrors BuildKit's ExposeProtoCasing check.
var ExposeProtoCasing = &analyzer.Rule{
	ID:       "expose-proto-casing",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "EXPOSE protocol not in lower case",
	Rationale: `Image configs record exposed ports as "80/tcp"; "80/TCP" is accepted today only because the ` +
		`builder lower-cases it, and tools that read the Dockerfile compare the text as written. Writing the ` +
		`protocol in lower case matches what ends up in the image.`,
	Bad:         "FROM nginx:1.27\nEXPOSE 80/TCP\n",
	Good:        "FROM nginx:1.27\nEXPOSE 80/tcp\n",
	Equivalents: []string{"buildkit:ExposeProtoCasing"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		mirrorBuildKit(p, "ExposeProtoCasing", func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			port := quotedValue(w.Message)
			var fix *analyzer.Fix
			if word, ok := exposeWord(p.File, in, port); ok {
				slash := strings.LastIndex(word.Text, "/")
				fix = &analyzer.Fix{
					Message: "write the protocol in lower case",
					Edits:   []analyzer.TextEdit{{Start: word.Start + slash + 1, End: word.End, New: strings.ToLower(word.Text[slash+1:])}},
				}
			}
			return fmt.Sprintf("EXPOSE %s: write the protocol in lower case", port), fix, true
		})
	},
}

// exposeWord finds the EXPOSE argument written exactly as BuildKit saw it;
// ports that came from variables have no such word and get no fix.
func exposeWord(d *analyzer.Dockerfile, in *analyzer.Instruction, port string) (rawWord, bool) {
	if in == nil || in.Keyword != "EXPOSE" || port == "" {
		return rawWord{}, false
	}
	for _, w := range rawWords(d, in.ArgsStart, in.End) {
		if w.Text == port {
			return w, true
		}
	}
	return rawWord{}, false
}
