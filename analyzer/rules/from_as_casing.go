package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

// FromAsCasing mirrors BuildKit's FromAsCasing check.
var FromAsCasing = &analyzer.Rule{
	ID:       "from-as-casing",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "AS keyword is cased differently from its FROM",
	Rationale: `A FROM line that mixes "FROM … as name" or "from … AS name" reads as two styles glued together ` +
		`and draws a BuildKit warning on every build. Writing AS in the same case as FROM keeps the file ` +
		`consistent and the build output quiet.`,
	Bad:         "FROM alpine:3.20 as base\n",
	Good:        "FROM alpine:3.20 AS base\n",
	Equivalents: []string{"buildkit:FromAsCasing"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		d := p.File
		for _, s := range d.Stages {
			from := s.From
			if len(from.Args) < 3 || !isAllCase(from.Written) || from.Args[1] == matchCase(from.Args[1], from.Written) {
				continue
			}
			want := matchCase(from.Args[1], from.Written)
			var fix *analyzer.Fix
			if w := rawWords(d, from.ArgsStart, from.End); len(w) >= 3 && w[1].Text == from.Args[1] {
				fix = &analyzer.Fix{
					Message: fmt.Sprintf("write %q", want),
					Edits:   []analyzer.TextEdit{{Start: w[1].Start, End: w[1].End, New: want}},
				}
			}
			p.Report(from, fmt.Sprintf("%q does not match the casing of %q; write %q", from.Args[1], from.Written, want), fix)
		}
	},
}
