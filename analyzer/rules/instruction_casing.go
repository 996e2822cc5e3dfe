package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// InstructionCasing mirrors BuildKit's ConsistentInstructionCasing check.
var InstructionCasing = &analyzer.Rule{
	ID:       "instruction-casing",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Instruction keyword cased differently from the rest of the file",
	Rationale: `Dockerfile keywords are case-insensitive, but a file that mixes "RUN" and "run" (or writes "Copy") ` +
		`is harder to scan and to search, and BuildKit warns about it on every build. Like BuildKit, the count ` +
		`covers FROM and the instructions of each stage, not the ARGs before the first FROM. Where most of ` +
		`the file is in upper case, dockopt upper-cases the others; it never rewrites keywords into lower ` +
		`case, so in a file mostly in lower case it reports the others without an edit.`,
	Bad:         "FROM alpine:3.20\nrun apk add --no-cache curl\nCMD [\"curl\", \"--version\"]\n",
	Good:        "FROM alpine:3.20\nRUN apk add --no-cache curl\nCMD [\"curl\", \"--version\"]\n",
	Equivalents: []string{"buildkit:ConsistentInstructionCasing"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		var counted []*analyzer.Instruction
		for _, s := range p.File.Stages {
			counted = append(counted, s.From)
			counted = append(counted, s.Instructions...)
		}
		lower, upper := 0, 0
		for _, in := range counted {
			switch {
			case in.Written == strings.ToLower(in.Written):
				lower++
			case in.Written == strings.ToUpper(in.Written):
				upper++
			}
		}
		// A tie goes to upper case, the convention.
		want, casing, same := strings.ToUpper, "upper case", upper
		if lower > upper {
			want, casing, same = strings.ToLower, "lower case", lower
		}
		like := fmt.Sprintf("like %d of the %d instructions of this file", same, len(counted))
		for _, in := range counted {
			if in.Written == want(in.Written) {
				continue
			}
			if lower > upper {
				// Lower-casing keywords is churn no maintainer merges,
				// and upper-casing this one alone would not make the
				// file consistent: report it, edit nothing.
				p.Report(in, fmt.Sprintf("%q is not in %s %s; no fix: dockopt rewrites keywords only into upper case, "+
					"so it does not lower-case this one; make the casing consistent by hand if you wish", in.Written, casing, like), nil)
				continue
			}
			fix := &analyzer.Fix{
				Message: fmt.Sprintf("write %q", want(in.Written)),
				Edits:   []analyzer.TextEdit{{Start: in.KeywordStart, End: in.KeywordStart + len(in.Written), New: want(in.Written)}},
			}
			p.Report(in, fmt.Sprintf("%q is not in %s %s; write %q", in.Written, casing, like, want(in.Written)), fix)
		}
	},
}
