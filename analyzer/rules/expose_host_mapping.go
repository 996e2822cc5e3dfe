package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

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
