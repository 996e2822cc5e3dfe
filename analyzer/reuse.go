package analyzer

import (
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// A patch candidate differs from the version it was patched from in the
// few instructions a pass edited. A rule that declares what it reads
// (Rule.Reads) cannot find anything new in a candidate whose instructions
// of those kinds are as they were: its findings are taken over from the
// earlier version's analysis, moved to the candidate's byte offsets,
// instead of being checked again.

// implicitReads are read by every rule that declares Reads, whether it
// says so or not: they lay out the stages (FROM, and the meta ARGs a FROM
// expands), decide how a RUN's shell is parsed (SHELL), and wrap other
// instructions (ONBUILD).
var implicitReads = []string{"FROM", "ARG", "SHELL", "ONBUILD"}

// Recheck says which rules the analysis of a patch candidate runs again.
type Recheck int

const (
	// RecheckChanged runs again the rules that declare no Reads, and those
	// whose instructions a pass changed; the others' findings are reused.
	RecheckChanged Recheck = iota
	// RecheckAll runs every rule on every candidate: the reference the
	// reuse is tested against.
	RecheckAll
	// RecheckVerify reuses as RecheckChanged does, and also runs each rule
	// whose findings it reuses, reporting any difference (a rule that reads
	// more than it declares) to the Configured's mismatch function.
	RecheckVerify
)

// ReuseMismatch is a rule whose reused findings differ from what it finds
// when run again: its Reads leave out something it reads.
type ReuseMismatch struct {
	Rule, Path        string
	Source            []byte
	Reused, Rechecked []Finding
}

// Rechecking returns c with the given re-check policy for patch
// candidates; mismatch receives RecheckVerify's differences, and may be
// called from several goroutines at once.
func (c *Configured) Rechecking(mode Recheck, mismatch func(ReuseMismatch)) *Configured {
	cp := *c
	cp.recheck, cp.mismatch = mode, mismatch
	return &cp
}

// keepsRuleOutputs reports whether an analysis keeps what each rule that
// declares Reads reported: only an analysis that may be patched needs to.
func (c *Configured) keepsRuleOutputs(candidate bool) bool {
	return c.recheck != RecheckAll && (candidate || !c.release || c.each != nil)
}

// reuseBase is what the analysis of a candidate may take over from the
// analysis of the version it was patched from.
type reuseBase struct {
	prev        *FileResult
	prevD, next *Dockerfile
	// views and matches cache, by the kinds a rule reads, how the two
	// versions' instructions of those kinds pair up.
	views   map[string]*viewPairs
	matches map[string]*instructionMatch
}

func newReuseBase(prev *FileResult, next *Dockerfile) *reuseBase {
	if prev == nil || prev.facts == nil || prev.facts.ruleOut == nil || prev.Dockerfile == nil || next == nil {
		return nil
	}
	pd := prev.Dockerfile
	if pd.Escape != next.Escape || pd.Path != next.Path || pd.Newline() != next.Newline() ||
		!slices.EqualFunc(pd.Directives, next.Directives, func(a, b Directive) bool { return a.Name == b.Name && a.Value == b.Value }) {
		// Fixes write the file's line ending; the escape character and
		// directives change how every line reads.
		return nil
	}
	return &reuseBase{prev: prev, prevD: pd, next: next}
}

// unchanged reports whether n, in the candidate, is p of the earlier
// version as it was: the same text, with the same indentation, comments
// and line break, over as many lines.
func (b *reuseBase) unchanged(p, n *Instruction) bool {
	ps, ns := b.prevD.Source, b.next.Source
	return p.Keyword == n.Keyword && (p.Onbuild == nil) == (n.Onbuild == nil) &&
		p.EndLine-p.StartLine == n.EndLine-n.StartLine &&
		string(ps[p.Start:p.End]) == string(ns[n.Start:n.End]) &&
		string(lineHead(ps, p.Start)) == string(lineHead(ns, n.Start)) &&
		lineBreakLen(ps, p.End) == lineBreakLen(ns, n.End) &&
		slices.Equal(p.Comments, n.Comments)
}

// lineHead is what comes before offset on its line: the indentation fixes
// copy.
func lineHead(src []byte, offset int) []byte {
	start := offset
	for start > 0 && src[start-1] != '\n' {
		start--
	}
	return src[start:offset]
}

func lineBreakLen(src []byte, at int) int {
	switch {
	case at < len(src) && src[at] == '\n':
		return 1
	case at+1 < len(src) && src[at] == '\r' && src[at+1] == '\n':
		return 2
	}
	return 0
}

// reused returns r's findings taken over from the earlier version, and
// whether they could be: every instruction r reads is unchanged.
func (b *reuseBase) reused(r *Rule) ([]Finding, bool) {
	if b == nil || r.Reads == nil {
		return nil, false
	}
	out, ran := b.prev.facts.ruleOut[r]
	if !ran {
		return nil, false
	}
	v := b.view(r.Reads)
	if v == nil {
		return nil, false
	}
	moved := make([]Finding, 0, len(out))
	for _, f := range out {
		g, ok := v.move(f)
		if !ok {
			return nil, false
		}
		moved = append(moved, g)
	}
	return moved, true
}

// viewPairs pairs the instructions of the kinds a rule reads (and the
// implicit ones), in order, when each is unchanged.
type viewPairs struct {
	pairs []instructionPair
	// shifted is set when an instruction of the view moved to another line.
	shifted bool
}

type instructionPair struct {
	prev, next *Instruction
	// lineEnd is how far past prev.End an edit may reach and still be this
	// instruction's: its line break.
	lineEnd int
}

// view returns the pairs of the instructions of the kinds, or nil when
// they are not all unchanged.
func (b *reuseBase) view(kinds []string) *viewPairs {
	key := strings.Join(kinds, " ")
	if v, ok := b.views[key]; ok {
		return v
	}
	reads := func(in *Instruction) bool {
		return slices.Contains(kinds, in.Keyword) || slices.Contains(implicitReads, in.Keyword)
	}
	var prevIns, nextIns []*Instruction
	for _, in := range b.prevD.Instructions {
		if reads(in) {
			prevIns = append(prevIns, in)
		}
	}
	for _, in := range b.next.Instructions {
		if reads(in) {
			nextIns = append(nextIns, in)
		}
	}
	var v *viewPairs
	if len(prevIns) == len(nextIns) {
		v = &viewPairs{}
		for i, p := range prevIns {
			n := nextIns[i]
			if !b.unchanged(p, n) {
				v = nil
				break
			}
			v.shifted = v.shifted || p.StartLine != n.StartLine
			v.pairs = append(v.pairs, instructionPair{prev: p, next: n, lineEnd: lineBreakLen(b.prevD.Source, p.End)})
		}
	}
	if b.views == nil {
		b.views = map[string]*viewPairs{}
	}
	b.views[key] = v
	return v
}

// move places a finding of the earlier version in the candidate: its lines
// and edits must lie in instructions of the view, which move them. A
// finding whose message may quote a line number is not moved when any
// instruction of the view changed lines: the number may be another's.
func (v *viewPairs) move(f Finding) (Finding, bool) {
	if v.shifted && mayQuoteLine(f) {
		return f, false
	}
	pair := v.containing(f.Line, f.EndLine)
	if pair == nil {
		return f, false
	}
	return moved(f, pair.next.StartLine-pair.prev.StartLine, func(e TextEdit) (int, bool) {
		at := v.enclosing(e)
		if at == nil {
			return 0, false
		}
		return at.next.Start - at.prev.Start, true
	})
}

// mayQuoteLine reports a finding whose message may quote a line number.
func mayQuoteLine(f Finding) bool {
	return hasDigit(f.Message) || f.Fix != nil && hasDigit(f.Fix.Message)
}

// moved returns f moved down by lines, each of its edits by the bytes
// place gives it, or false when an edit has no place.
func moved(f Finding, lines int, place func(TextEdit) (int, bool)) (Finding, bool) {
	f.Line += lines
	f.EndLine += lines
	if f.Fix == nil {
		return f, true
	}
	fix := *f.Fix
	fix.Edits = slices.Clone(fix.Edits)
	for i, e := range fix.Edits {
		by, ok := place(e)
		if !ok {
			return f, false
		}
		fix.Edits[i].Start, fix.Edits[i].End = e.Start+by, e.End+by
	}
	f.Fix = &fix
	return f, true
}

// containing returns the pair whose earlier instruction spans the lines.
// The pairs are in file order, one instruction per line.
func (v *viewPairs) containing(start, end int) *instructionPair {
	i := sort.Search(len(v.pairs), func(i int) bool { return v.pairs[i].prev.StartLine > start }) - 1
	if i >= 0 && end <= v.pairs[i].prev.EndLine {
		return &v.pairs[i]
	}
	return nil
}

// enclosing returns the pair whose earlier instruction, with its line
// break, holds the edit's byte range. An edit that reaches past the line
// break is at the start of the next line, which is "after this
// instruction" only if the same follows it in both versions (the next
// instruction of the view, or something the rule does not read).
func (v *viewPairs) enclosing(e TextEdit) *instructionPair {
	if e.Start > e.End {
		return nil
	}
	i := sort.Search(len(v.pairs), func(i int) bool { return v.pairs[i].prev.Start > e.Start }) - 1
	if i < 0 {
		return nil
	}
	p := &v.pairs[i]
	after := p.prev.End + p.lineEnd
	if e.End > after {
		return nil
	}
	if e.End == after && p.lineEnd > 0 {
		prevFollows := i+1 < len(v.pairs) && v.pairs[i+1].prev.Start == after
		nextFollows := i+1 < len(v.pairs) && v.pairs[i+1].next.Start == p.next.End+p.lineEnd
		if prevFollows != nextFollows {
			return nil
		}
	}
	return p
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

func (f *fileFacts) keepRuleOutput(r *Rule, out []Finding) {
	if f.ruleOut == nil {
		f.ruleOut = map[*Rule][]Finding{}
	}
	f.ruleOut[r] = slices.Clone(out)
}

// verifyReuse runs p's rule whole, where the findings reused were taken
// over, and reports a difference to the mismatch function. p's output is
// left as reused.
func (c *Configured) verifyReuse(p *Pass, reused []Finding) {
	defer func() { p.out = append(p.out[:0], reused...) }()
	p.out = p.out[:0]
	if runCheck(p) != nil {
		return
	}
	if !reflect.DeepEqual(p.out, reused) && !(len(p.out) == 0 && len(reused) == 0) && c.mismatch != nil {
		c.mismatch(ReuseMismatch{Rule: p.Rule.ID, Path: p.File.Path, Source: p.File.Source,
			Reused: slices.Clone(reused), Rechecked: slices.Clone(p.out)})
	}
}

// maxMatchAhead bounds how far past the last pairing a candidate's
// instruction is looked for among the earlier version's: a pass changes a
// few instructions, and a hostile file of 20,000 alike RUNs must not cost
// their square.
const maxMatchAhead = 64

// localReuse is what a PerInstruction rule takes over in a candidate: the
// findings on the instructions a pass left as they were, moved, and the
// instructions it must check again.
type localReuse struct {
	reused  []Finding
	recheck map[*Instruction]bool
}

// local plans r's re-check of the candidate, or reports that r must be
// run whole: the stage layout changed, or a finding of the earlier version
// lies outside every instruction r reads.
func (b *reuseBase) local(r *Rule) (*localReuse, bool) {
	if b == nil || !r.PerInstruction || r.Reads == nil {
		return nil, false
	}
	out, ran := b.prev.facts.ruleOut[r]
	if !ran || b.view(nil) == nil {
		return nil, false
	}
	m := b.match(r.Reads)
	plan := &localReuse{recheck: m.unpaired}
	owned := false // plan.recheck is m.unpaired, shared by the rules, until one adds to it
	var moved map[*Instruction][]Finding
	for _, f := range out {
		p := m.prev.at(f.Line, f.EndLine)
		if p == nil {
			return nil, false
		}
		n := m.pairOf[p]
		if n == nil || plan.recheck[n] {
			continue
		}
		g, ok := moveLocal(f, p, n)
		if !ok {
			if !owned {
				plan.recheck, owned = maps.Clone(m.unpaired), true
			}
			plan.recheck[n] = true
			continue
		}
		if moved == nil {
			moved = map[*Instruction][]Finding{}
		}
		moved[n] = append(moved[n], g)
	}
	for _, n := range m.next.ins {
		if !plan.recheck[n] {
			plan.reused = append(plan.reused, moved[n]...)
		}
	}
	return plan, true
}

// merge adds the findings taken over to those of the instructions checked
// again, in line order, as a run over every instruction reports them.
func (l *localReuse) merge(checked []Finding) []Finding {
	all := append(slices.Clone(l.reused), checked...)
	slices.SortStableFunc(all, func(a, b Finding) int { return a.Line - b.Line })
	return all
}

// instructionMatch pairs the two versions' instructions of some kinds.
type instructionMatch struct {
	prev, next readList
	// pairOf maps an earlier instruction to its unchanged copy in the
	// candidate; unpaired are the candidate's instructions without one.
	pairOf   map[*Instruction]*Instruction
	unpaired map[*Instruction]bool
}

// match pairs, in order, the instructions of the kinds that a pass left
// unchanged and where they were among the implicit instructions (the same
// stage, under the same SHELL), once per candidate for all the rules that
// read the same kinds. It is called only when the implicit instructions
// are unchanged.
func (b *reuseBase) match(kinds []string) *instructionMatch {
	key := strings.Join(kinds, " ")
	if m, ok := b.matches[key]; ok {
		return m
	}
	m := &instructionMatch{prev: readInstructions(b.prevD, kinds), next: readInstructions(b.next, kinds),
		pairOf: map[*Instruction]*Instruction{}, unpaired: map[*Instruction]bool{}}
	from := 0
	for i, n := range m.next.ins {
		paired := false
		for k := from; k < len(m.prev.ins) && k < from+maxMatchAhead; k++ {
			if m.prev.after[k] == m.next.after[i] && b.unchanged(m.prev.ins[k], n) {
				m.pairOf[m.prev.ins[k]] = n
				from, paired = k+1, true
				break
			}
		}
		if !paired {
			m.unpaired[n] = true
		}
	}
	if b.matches == nil {
		b.matches = map[string]*instructionMatch{}
	}
	b.matches[key] = m
	return m
}

// readList is a file's instructions of some kinds, ONBUILD triggers
// included, in file order; after counts, for each, the implicit
// instructions (FROM, ARG, SHELL, ONBUILD) at or before it.
type readList struct {
	ins   []*Instruction
	after []int
}

func readInstructions(d *Dockerfile, kinds []string) readList {
	var l readList
	implicit := 0
	for _, in := range d.Instructions {
		if slices.Contains(implicitReads, in.Keyword) {
			implicit++
		}
		for _, x := range []*Instruction{in, in.Trigger} {
			if x != nil && slices.Contains(kinds, x.Keyword) {
				l.ins = append(l.ins, x)
				l.after = append(l.after, implicit)
			}
		}
	}
	return l
}

// at returns the first instruction of the list that spans the lines (an
// ONBUILD and its trigger share theirs).
func (l readList) at(start, end int) *Instruction {
	after := sort.Search(len(l.ins), func(i int) bool { return l.ins[i].StartLine > start })
	first := after - 1
	if first < 0 {
		return nil
	}
	for first > 0 && l.ins[first-1].StartLine == l.ins[after-1].StartLine {
		first--
	}
	for _, in := range l.ins[first:after] {
		if end <= in.EndLine {
			return in
		}
	}
	return nil
}

// moveLocal moves a finding of instruction p to n, its unchanged copy in
// the candidate; a finding whose edits leave p, or whose message may
// quote a line number when n is on another line, cannot be moved.
func moveLocal(f Finding, p, n *Instruction) (Finding, bool) {
	lines := n.StartLine - p.StartLine
	if lines != 0 && mayQuoteLine(f) {
		return f, false
	}
	return moved(f, lines, func(e TextEdit) (int, bool) {
		return n.Start - p.Start, p.Start <= e.Start && e.Start <= e.End && e.End <= p.End
	})
}
