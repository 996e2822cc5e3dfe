package analyzer

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// suppression is one `ignore=` comment and what it covers.
type suppression struct {
	ids       []string
	line      int
	startLine int
	endLine   int
	dockopt   bool
	used      bool
	// covers says whether the lines are the file's, a stage's or an
	// instruction's.
	covers int
}

type suppressions struct {
	list     []*suppression
	skipAll  bool
	analyzer *Analyzer
	// The suppressions by the lines they cover: a few scopes that cover
	// the whole file, then stages and instructions, each sorted by line
	// and disjoint, so that finding the ones that may waive a finding does
	// not read them all.
	wide, stages, instructions []*suppressionScope
}

// Which lines a suppression covers.
const (
	coversFile = iota
	coversStage
	coversInstruction
)

// collectSuppressions reads every form of inline waiver:
//
//	# dockopt ignore=ID[,ID]         the next instruction
//	# dockopt ignore-stage=ID        before FROM: the whole stage
//	# dockopt ignore-file=ID         anywhere: the whole file
//	# hadolint ignore=DL3008         the next line, through equivalents
//	# hadolint stage ignore=DL3008   the stage whose FROM is the next line
//	# hadolint global ignore=DL3008  the whole file
//	# check=skip=Name[,Name]|all     BuildKit's directive, for its checks
//
// hadolint's pragmas keep hadolint's grammar and reach, so that a file that
// passes hadolint passes here for the same reasons and no other.
func collectSuppressions(d *Dockerfile, cfg *Config, a *Analyzer) *suppressions {
	s := &suppressions{analyzer: a}
	if v, ok := d.Directive("check"); ok {
		for _, part := range strings.Split(v, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.TrimSpace(k) != "skip" {
				continue
			}
			if strings.TrimSpace(val) == "all" {
				s.skipAll = true
				continue
			}
			var ids []string
			for _, n := range strings.Split(val, ",") {
				ids = append(ids, "buildkit:"+strings.TrimSpace(n))
			}
			s.list = append(s.list, &suppression{ids: ids, startLine: 1, endLine: d.LineCount() + 1, line: 1})
		}
	}
	if !cfg.InlineIgnoresEnabled() || !mayHoldIgnoreComment(d.Source) {
		s.index()
		return s
	}
	lines := strings.Split(string(d.Source), "\n")
	for _, in := range d.Instructions {
		for _, c := range commentBlockAbove(lines, in.StartLine) {
			tool, scope, ids := parseIgnoreComment(c.text)
			if tool != "dockopt" || scope == "file" {
				continue
			}
			sp := &suppression{ids: ids, line: c.line, dockopt: true, startLine: in.StartLine, endLine: in.EndLine, covers: coversInstruction}
			if scope == "stage" && in.Stage != nil && in.Keyword == "FROM" {
				sp.endLine, sp.covers = stageEndLine(d, in.Stage), coversStage
			}
			s.list = append(s.list, sp)
		}
	}
	// Instructions by the line they start on, and the lines inside them,
	// where a `#` line belongs to a heredoc or a continuation, not to the
	// Dockerfile's own comments.
	startsAt := map[int]*Instruction{}
	inside := map[int]bool{}
	for _, in := range d.Instructions {
		startsAt[in.StartLine] = in
		for l := in.StartLine + 1; l <= in.EndLine; l++ {
			inside[l] = true
		}
	}
	for i, l := range lines {
		n := i + 1
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "#") || inside[n] {
			continue
		}
		if scope, codes, ok := parseHadolintPragma(t[1:]); ok {
			ids := make([]string, len(codes))
			for j, c := range codes {
				ids[j] = hadolintAlias(c)
			}
			sp := &suppression{ids: ids, line: n, startLine: 1, endLine: len(lines) + 1}
			next := startsAt[n+1]
			switch {
			case scope == "global":
			case scope == "stage" && next != nil && next.Keyword == "FROM" && next.Stage != nil:
				sp.startLine, sp.endLine, sp.covers = next.StartLine, stageEndLine(d, next.Stage), coversStage
			case scope == "" && next != nil:
				sp.startLine, sp.endLine, sp.covers = next.StartLine, next.EndLine, coversInstruction
			default:
				// hadolint drops a pragma that is not right above what it
				// names.
				continue
			}
			s.list = append(s.list, sp)
			continue
		}
		tool, scope, ids := parseIgnoreComment(strings.TrimSpace(t[1:]))
		if tool == "dockopt" && scope == "file" {
			s.list = append(s.list, &suppression{ids: ids, line: n, dockopt: true, startLine: 1, endLine: len(lines) + 1})
		}
	}
	s.index()
	return s
}

// parseHadolintPragma reads the text after a `#` as hadolint does: the word
// hadolint, optionally global or stage, then ignore, "=" and a list of
// codes, with spaces or tabs around "=" and ",", and an optional trailing
// "# comment". A code is made of D, L, S, C and digits only; anything else
// makes the whole comment an ordinary comment, so no code of it is waived.
func parseHadolintPragma(text string) (scope string, codes []string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimLeft(text, " \t"), "hadolint")
	if !found || !startsWithBlank(rest) {
		return "", nil, false
	}
	rest = strings.TrimLeft(rest, " \t")
	for _, sc := range []string{"global", "stage"} {
		if r, found := strings.CutPrefix(rest, sc); found && startsWithBlank(r) {
			scope, rest = sc, strings.TrimLeft(r, " \t")
			break
		}
	}
	rest, found = strings.CutPrefix(rest, "ignore")
	if !found {
		return "", nil, false
	}
	rest, found = strings.CutPrefix(strings.TrimLeft(rest, " \t"), "=")
	if !found {
		return "", nil, false
	}
	rest = strings.TrimLeft(rest, " \t")
	for {
		n := 0
		for n < len(rest) && strings.IndexByte("DLSC0123456789", rest[n]) >= 0 {
			n++
		}
		if n == 0 {
			return "", nil, false
		}
		codes = append(codes, rest[:n])
		rest = strings.TrimLeft(rest[n:], " \t")
		switch {
		case rest == "" || rest[0] == '#':
			return scope, codes, true
		case rest[0] == ',':
			rest = strings.TrimLeft(rest[1:], " \t")
		default:
			return "", nil, false
		}
	}
}

func startsWithBlank(s string) bool {
	return s != "" && (s[0] == ' ' || s[0] == '\t')
}

type commentLine struct {
	text string
	line int
}

// mayHoldIgnoreComment reports whether src has the word a waiver comment
// starts with: "hadolint" as hadolint spells it, or "dockopt" in any case
// (parseIgnoreComment compares with strings.EqualFold, under which the
// Kelvin sign U+212A is a K too). A file without either has no waiver
// comments, and its lines need not be read for them: most files.
func mayHoldIgnoreComment(src []byte) bool {
	if bytes.Contains(src, []byte("hadolint")) || bytes.Contains(src, []byte("\u212a")) {
		return true
	}
	const word = "dockopt"
	for i := 0; i+len(word) <= len(src); i++ {
		if src[i]|0x20 != 'd' {
			continue
		}
		match := true
		for j := 1; j < len(word); j++ {
			if src[i+j]|0x20 != word[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// commentBlockAbove returns the comment lines directly above a line.
func commentBlockAbove(lines []string, line int) []commentLine {
	var out []commentLine
	for i := line - 2; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(t, "#") {
			break
		}
		out = append(out, commentLine{text: strings.TrimSpace(t[1:]), line: i + 1})
	}
	return out
}

func stageEndLine(d *Dockerfile, s *Stage) int {
	if s.Index+1 < len(d.Stages) {
		return d.Stages[s.Index+1].From.StartLine - 1
	}
	return d.LineCount() + 1
}

// parseIgnoreComment recognises dockopt's own waivers; scope is "",
// "stage" or "file".
func parseIgnoreComment(text string) (tool, scope string, ids []string) {
	fields := strings.Fields(text)
	if len(fields) < 2 || !strings.EqualFold(fields[0], "dockopt") {
		return "", "", nil
	}
	rest := fields[1:]
	if strings.EqualFold(rest[0], "global") && len(rest) > 1 {
		scope = "file"
		rest = rest[1:]
	}
	key, val, ok := strings.Cut(rest[0], "=")
	if !ok {
		return "", "", nil
	}
	switch strings.ToLower(key) {
	case "ignore":
	case "ignore-stage":
		scope = "stage"
	case "ignore-file":
		scope = "file"
	default:
		return "", "", nil
	}
	// Allow "ignore=A, B" with spaces after commas.
	val = strings.Join(append([]string{val}, rest[1:]...), "")
	for _, id := range strings.Split(val, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return "dockopt", scope, ids
}

func (s *suppressions) waives(f Finding) bool { return s.check(f, true) }

// wouldWaive is waives without counting the waiver as used: for a fix that
// asks whether another rule's finding would be waived, not for a finding.
func (s *suppressions) wouldWaive(f Finding) bool { return s.check(f, false) }

func (s *suppressions) check(f Finding, use bool) bool {
	if !s.skipAll && len(s.wide) == 0 && len(s.stages) == 0 && len(s.instructions) == 0 {
		// Most files waive nothing; the keys below cost an allocation or
		// two per finding.
		return false
	}
	rule := s.analyzer.byID[f.Rule]
	if s.skipAll && rule != nil && hasBuildKitEquivalent(rule) {
		return true
	}
	keys := []string{foldID(f.Rule), "all"}
	if rule != nil {
		for _, e := range rule.Equivalents {
			k := foldID(e)
			keys = append(keys, k)
			if id, ok := strings.CutPrefix(k, "hadolint:"); ok {
				keys = append(keys, id)
			}
		}
	}
	waived := false
	for _, sc := range s.wide {
		waived = sc.waives(f, rule, keys, use) || waived
	}
	for _, scopes := range [][]*suppressionScope{s.stages, s.instructions} {
		if sc := scopeAt(scopes, f.Line); sc != nil {
			waived = sc.waives(f, rule, keys, use) || waived
		}
	}
	return waived
}

// index puts the suppressions in scopes by the lines they cover.
func (s *suppressions) index() {
	kinds := map[int]*[]*suppressionScope{coversFile: &s.wide, coversStage: &s.stages, coversInstruction: &s.instructions}
	sorted := slices.Clone(s.list)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].startLine < sorted[j].startLine })
	for _, sp := range sorted {
		scopes := kinds[sp.covers]
		var sc *suppressionScope
		for i := len(*scopes) - 1; i >= 0; i-- {
			x := (*scopes)[i]
			if x.startLine == sp.startLine && x.endLine == sp.endLine {
				sc = x
			}
			if sp.covers != coversFile {
				// Stages and instructions are disjoint: only the last can
				// have the same lines.
				break
			}
		}
		if sc == nil {
			sc = &suppressionScope{startLine: sp.startLine, endLine: sp.endLine, byKey: map[string]*suppressionGroup{}}
			*scopes = append(*scopes, sc)
		}
		sc.add(sp)
	}
}

// suppressionScope holds the suppressions of one line range, by ID.
type suppressionScope struct {
	startLine, endLine int
	// byKey groups the IDs that are equal but for case.
	byKey map[string]*suppressionGroup
}

func (sc *suppressionScope) add(sp *suppression) {
	for _, id := range sp.ids {
		k := foldID(id)
		g := sc.byKey[k]
		if g == nil {
			g = &suppressionGroup{id: id, byID: map[string]*suppressionGroup{}}
			sc.byKey[k] = g
		}
		g.all = append(g.all, sp)
		exact := g.byID[id]
		if exact == nil {
			exact = &suppressionGroup{id: id}
			g.byID[id] = exact
		}
		exact.all = append(exact.all, sp)
	}
}

// suppressionGroup is the suppressions naming one ID, in any case: the
// engine compares rule IDs exactly and equivalents and "all" ignoring case.
type suppressionGroup struct {
	id  string
	all []*suppression
	// byID splits the group by exact spelling.
	byID map[string]*suppressionGroup
	// marked is set once every suppression of all is marked used.
	marked bool
}

func (g *suppressionGroup) markUsed() {
	if !g.marked {
		for _, sp := range g.all {
			sp.used = true
		}
		g.marked = true
	}
}

func foldID(id string) string { return strings.ToLower(strings.ToUpper(id)) }

// scopeAt returns the scope of a sorted, disjoint list that holds line.
func scopeAt(scopes []*suppressionScope, line int) *suppressionScope {
	i := sort.Search(len(scopes), func(i int) bool { return scopes[i].startLine > line })
	if i > 0 && scopes[i-1].endLine >= line {
		return scopes[i-1]
	}
	return nil
}

// waives marks the suppressions of the scope that waive f used and
// reports whether there was one.
func (sc *suppressionScope) waives(f Finding, rule *Rule, keys []string, use bool) bool {
	if f.Line < sc.startLine || f.Line > sc.endLine {
		return false
	}
	waived := false
	for i, k := range keys {
		if slices.Contains(keys[:i], k) {
			continue
		}
		g := sc.byKey[k]
		if g == nil {
			continue
		}
		// Equivalents and "all" match whatever the case, so every
		// suppression of the group does.
		if (rule != nil && hasEquivalent(rule, g.id)) || strings.EqualFold(g.id, "all") {
			if use {
				g.markUsed()
			}
			waived = true
		} else if exact := g.byID[f.Rule]; exact != nil {
			if use {
				exact.markUsed()
			}
			waived = true
		}
	}
	return waived
}

func hasBuildKitEquivalent(r *Rule) bool {
	for _, e := range r.Equivalents {
		if strings.HasPrefix(e, "buildkit:") {
			return true
		}
	}
	return false
}

// unused reports dockopt's own waivers that matched nothing, as staticcheck
// does, so that stale ignores do not pile up. hadolint's are left alone:
// they may waive checks dockopt does not mirror.
func (s *suppressions) unused(r *Rule, d *Dockerfile) []Finding {
	var out []Finding
	for _, sp := range s.list {
		if !sp.dockopt || sp.used {
			continue
		}
		var unknown []string
		for _, id := range sp.ids {
			if len(s.analyzer.Lookup(id)) == 0 && id != "all" {
				unknown = append(unknown, id)
			}
		}
		msg := fmt.Sprintf("this ignore comment waives nothing: %s found no problem here; remove it", strings.Join(sp.ids, ", "))
		start := d.Offset(sp.line)
		fix := &Fix{Message: "remove the unused ignore comment", Safety: Safe,
			Edits: []TextEdit{{Start: start, End: min(d.Offset(sp.line+1), len(d.Source)), New: ""}}}
		if len(unknown) > 0 {
			// A name dockopt does not know is the author's intent in words
			// it cannot read (a misspelling, another tool's rule): deleting
			// it would drop the waiver and bring back what it waived.
			msg = fmt.Sprintf("this ignore comment names unknown rule %s (see `dockopt rules`); write the ID of the rule it means, or remove it", strings.Join(unknown, ", "))
			fix = nil
		}
		out = append(out, Finding{
			Rule: r.ID, Category: r.Category, Severity: r.Severity, Path: d.Path,
			Line: sp.line, EndLine: sp.line, Message: msg, Equivalents: r.Equivalents, Stage: -1,
			Fix: fix,
		})
	}
	return out
}
