package rules

import (
	"fmt"
	"slices"
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
		var refs *stageRefs
		for _, s := range d.Stages {
			args := s.From.Args
			if len(args) != 3 || args[2] == strings.ToLower(args[2]) {
				continue
			}
			if refs == nil {
				refs = newStageRefs(d)
			}
			name := args[2]
			lower := strings.ToLower(name)
			read := fmt.Sprintf("stage name %q has capitals; BuildKit treats stage names as lower case", name)
			msg := fmt.Sprintf("%s, so write %q", read, lower)
			// Lower case would only spell out the name's real problem,
			// which its own finding reports: fixing the case is not the
			// change to make.
			if _, reserved := reservedStageNames[lower]; reserved {
				p.Report(s.From, fmt.Sprintf("%s and reads it as %q, a reserved name: give the stage another name (no fix: the name is the author's to choose)", read, lower), nil)
				continue
			}
			if other := sameNameStage(d, s, lower); other != nil {
				p.Report(s.From, fmt.Sprintf("%s and reads it as %q, the name of the stage on line %d: give one of them another name (no fix: the name is the author's to choose)", read, lower, other.From.StartLine), nil)
				continue
			}
			edits := refs.renameEdits(s, name, lower)
			var fix *analyzer.Fix
			if len(edits) > 0 {
				fix = &analyzer.Fix{Message: fmt.Sprintf("rename the stage to %q everywhere it is used", lower), Edits: edits}
			}
			p.Report(s.From, msg, fix)
		}
	},
}

// sameNameStage returns another stage of d whose name is name in any case,
// or nil.
func sameNameStage(d *analyzer.Dockerfile, s *analyzer.Stage, name string) *analyzer.Stage {
	for _, other := range d.Stages {
		if other != s && strings.EqualFold(other.Name, name) {
			return other
		}
	}
	return nil
}

// stageRefs are the places later instructions name stages, read once per
// file: the stages each stage is the base of, and the --from and --mount
// flag words by the lower-cased name they hold.
type stageRefs struct {
	d        *analyzer.Dockerfile
	children map[*analyzer.Stage][]*analyzer.Stage
	flags    map[string][]stageRefWord
}

type stageRefWord struct {
	stage int
	word  rawWord
}

func newStageRefs(d *analyzer.Dockerfile) *stageRefs {
	r := &stageRefs{d: d, children: map[*analyzer.Stage][]*analyzer.Stage{}, flags: map[string][]stageRefWord{}}
	for _, s := range d.Stages {
		if s.BaseStage != nil {
			r.children[s.BaseStage] = append(r.children[s.BaseStage], s)
		}
		for _, in := range s.Instructions {
			if in.Keyword != "COPY" && in.Keyword != "RUN" && in.Keyword != "ADD" {
				continue
			}
			for _, w := range rawWords(d, in.Start, in.ArgsStart) {
				key, val, ok := strings.Cut(w.Text, "=")
				if !ok {
					continue
				}
				names := []string{val}
				if strings.EqualFold(key, "--mount") {
					names = nil
					for _, field := range strings.Split(val, ",") {
						if k, v, _ := strings.Cut(field, "="); strings.EqualFold(k, "from") {
							names = append(names, v)
						}
					}
				}
				for _, n := range names {
					n = strings.ToLower(n)
					if l := r.flags[n]; len(l) == 0 || l[len(l)-1].word != w {
						r.flags[n] = append(l, stageRefWord{stage: s.Index, word: w})
					}
				}
			}
		}
	}
	return r
}

// renameEdits rewrites a stage's name in its FROM and in every reference
// to it: FROM <name>, COPY --from=<name> and RUN --mount=…,from=<name>.
func (r *stageRefs) renameEdits(s *analyzer.Stage, old, name string) []analyzer.TextEdit {
	d := r.d
	words := rawWords(d, s.From.ArgsStart, s.From.End)
	if len(words) != 3 || words[2].Text != old {
		return nil
	}
	edits := []analyzer.TextEdit{{Start: words[2].Start, End: words[2].End, New: name}}
	for _, later := range r.children[s] {
		if w := rawWords(d, later.From.ArgsStart, later.From.End); len(w) > 0 && strings.EqualFold(w[0].Text, old) {
			edits = append(edits, analyzer.TextEdit{Start: w[0].Start, End: w[0].End, New: name})
		}
	}
	for _, ref := range r.flags[strings.ToLower(old)] {
		if ref.stage > s.Index {
			edits = append(edits, flagStageRefEdits(ref.word, old, name)...)
		}
	}
	// In file order, as one walk of the later stages made them.
	slices.SortStableFunc(edits, func(a, b analyzer.TextEdit) int { return a.Start - b.Start })
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
