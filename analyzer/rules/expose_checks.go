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

// ExposeHostMapping mirrors BuildKit's ExposeInvalidFormat check.
var ExposeHostMapping = &analyzer.Rule{
	ID:       "expose-host-mapping",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "EXPOSE with an IP address or host port",
	Rationale: `EXPOSE only documents which container ports the image listens on; publishing to a host port or ` +
		`address is decided by "docker run -p" or the orchestrator. "EXPOSE 8080:80" does not publish anything: ` +
		`the builder keeps only the container port, and BuildKit has announced that the form will become an ` +
		`error. Writing just the container port states what the image really does and builds the same image.`,
	Bad:         "FROM nginx:1.27\nEXPOSE 8080:80\n",
	Good:        "FROM nginx:1.27\nEXPOSE 80\n",
	Equivalents: []string{"buildkit:ExposeInvalidFormat"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		mirrorBuildKit(p, "ExposeInvalidFormat", func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			port := quotedValue(w.Message)
			container := port[strings.LastIndex(port, ":")+1:]
			var fix *analyzer.Fix
			if word, ok := exposeWord(p.File, in, port); ok && container != "" {
				fix = &analyzer.Fix{
					Message: "keep only the container port",
					Edits:   []analyzer.TextEdit{{Start: word.Start, End: word.End, New: container}},
				}
			}
			return fmt.Sprintf("EXPOSE %s: EXPOSE cannot publish to a host address or port; it only records container port %s", port, container), fix, true
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
