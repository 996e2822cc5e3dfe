package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// StageNameCasing mirrors BuildKit's StageNameCasing check.
var StageNameCasing = &analyzer.Rule{
	ID:       "stage-name-casing",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "Stage name is not lower case",
	Rationale: `BuildKit folds stage names to lower case, so "Build", "BUILD" and "build" all name the same stage. ` +
		`Writing a name with capitals suggests a distinction that does not exist, and tools that compare names ` +
		`exactly (scripts calling --target, other linters) disagree with the builder. Lower-case names read the ` +
		`same everywhere.`,
	Bad:         "FROM golang:1.22 AS Builder\nRUN go build -o /app .\nFROM scratch\nCOPY --from=Builder /app /app\n",
	Good:        "FROM golang:1.22 AS builder\nRUN go build -o /app .\nFROM scratch\nCOPY --from=builder /app /app\n",
	Equivalents: []string{"buildkit:StageNameCasing"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		d := p.File
		for _, s := range d.Stages {
			args := s.From.Args
			if len(args) != 3 || args[2] == strings.ToLower(args[2]) {
				continue
			}
			name := args[2]
			edits := stageRenameEdits(d, s, name, strings.ToLower(name))
			var fix *analyzer.Fix
			if len(edits) > 0 {
				fix = &analyzer.Fix{Message: fmt.Sprintf("rename the stage to %q everywhere it is used", strings.ToLower(name)), Edits: edits}
			}
			p.Report(s.From, fmt.Sprintf("stage name %q has capitals; BuildKit treats stage names as lower case, so write %q", name, strings.ToLower(name)), fix)
		}
	},
}

// stageRenameEdits rewrites a stage's name in its FROM and in every reference
// to it: FROM <name>, COPY --from=<name> and RUN --mount=…,from=<name>.
func stageRenameEdits(d *analyzer.Dockerfile, s *analyzer.Stage, old, name string) []analyzer.TextEdit {
	words := rawWords(d, s.From.ArgsStart, s.From.End)
	if len(words) != 3 || words[2].Text != old {
		return nil
	}
	edits := []analyzer.TextEdit{{Start: words[2].Start, End: words[2].End, New: name}}
	for _, later := range d.Stages[s.Index+1:] {
		if later.BaseStage == s {
			if w := rawWords(d, later.From.ArgsStart, later.From.End); len(w) > 0 && strings.EqualFold(w[0].Text, old) {
				edits = append(edits, analyzer.TextEdit{Start: w[0].Start, End: w[0].End, New: name})
			}
		}
		for _, in := range later.Instructions {
			if in.Keyword != "COPY" && in.Keyword != "RUN" && in.Keyword != "ADD" {
				continue
			}
			for _, w := range rawWords(d, in.Start, in.ArgsStart) {
				edits = append(edits, flagStageRefEdits(w, old, name)...)
			}
		}
	}
	return edits
}

// flagStageRefEdits renames a stage inside one --from= or --mount= flag word.
func flagStageRefEdits(w rawWord, old, name string) []analyzer.TextEdit {
	key, val, ok := strings.Cut(w.Text, "=")
	if !ok || strings.ContainsAny(val, `"'$`) {
		return nil
	}
	valStart := w.Start + len(key) + 1
	switch strings.ToLower(key) {
	case "--from":
		if strings.EqualFold(val, old) {
			return []analyzer.TextEdit{{Start: valStart, End: w.End, New: name}}
		}
	case "--mount":
		var out []analyzer.TextEdit
		off := valStart
		for _, field := range strings.Split(val, ",") {
			k, v, _ := strings.Cut(field, "=")
			if strings.EqualFold(k, "from") && strings.EqualFold(v, old) {
				start := off + len(k) + 1
				out = append(out, analyzer.TextEdit{Start: start, End: start + len(v), New: name})
			}
			off += len(field) + 1
		}
		return out
	}
	return nil
}
