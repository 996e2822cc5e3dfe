package analyzer

import (
	"maps"
	"reflect"
	"slices"
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
	prev *FileResult
	next *Dockerfile
	// views caches, by the kinds a rule reads, how the two versions'
	// instructions of those kinds pair up (nil when they differ).
	views   map[string]*viewPairs
	matches map[string]*instructionMatch
}

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

func newReuseBase(prev *FileResult, next *Dockerfile) *reuseBase {
	if prev == nil || prev.facts == nil || prev.facts.ruleOut == nil || prev.Dockerfile == nil || next == nil {
		return nil
	}
	pd := prev.Dockerfile
	if pd.Escape != next.Escape || pd.Path != next.Path || !slices.EqualFunc(pd.Directives, next.Directives, func(a, b Directive) bool {
		return a.Name == b.Name && a.Value == b.Value
	}) {
		return nil
	}
	return &reuseBase{prev: prev, next: next, views: map[string]*viewPairs{}}
}

// reused returns r's findings taken over from the earlier version, and
// whether they could be.
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

func (b *reuseBase) view(kinds []string) *viewPairs {
	key := strings.Join(kinds, " ")
	if v, ok := b.views[key]; ok {
		return v
	}
	reads := func(in *Instruction) bool {
		return slices.Contains(kinds, in.Keyword) || slices.Contains(implicitReads, in.Keyword)
	}
	var prevIns, nextIns []*Instruction
	for _, in := range b.prev.Dockerfile.Instructions {
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
		prevSrc, nextSrc := b.prev.Dockerfile.Source, b.next.Source
		for i, p := range prevIns {
			n := nextIns[i]
			if p.Keyword != n.Keyword || p.EndLine-p.StartLine != n.EndLine-n.StartLine || lineBreakLen(prevSrc, p.End) != lineBreakLen(nextSrc, n.End) ||
				string(prevSrc[p.Start:p.End]) != string(nextSrc[n.Start:n.End]) || !slices.Equal(p.Comments, n.Comments) {
				v = nil
				break
			}
			v.shifted = v.shifted || p.StartLine != n.StartLine
			v.pairs = append(v.pairs, instructionPair{prev: p, next: n, lineEnd: lineBreakLen(prevSrc, p.End)})
		}
	}
	b.views[key] = v
	return v
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

// move places a finding of the earlier version in the candidate: its lines
// and edits must lie in one instruction of the view, which moves them. A
// finding whose message may quote a line number is not moved when any
// instruction of the view changed lines: the number may be another's.
func (v *viewPairs) move(f Finding) (Finding, bool) {
	if v.shifted && (hasDigit(f.Message) || f.Fix != nil && hasDigit(f.Fix.Message)) {
		return f, false
	}
	pair := v.containing(f.Line, f.EndLine)
	if pair == nil {
		return f, false
	}
	lines := pair.next.StartLine - pair.prev.StartLine
	f.Line += lines
	f.EndLine += lines
	if f.Fix != nil {
		fix := *f.Fix
		fix.Edits = slices.Clone(fix.Edits)
		for i, e := range fix.Edits {
			at := v.enclosing(e)
			if at == nil {
				return f, false
			}
			moveBy := at.next.Start - at.prev.Start
			fix.Edits[i].Start, fix.Edits[i].End = e.Start+moveBy, e.End+moveBy
		}
		f.Fix = &fix
	}
	return f, true
}

// containing returns the pair whose earlier instruction spans the lines.
func (v *viewPairs) containing(start, end int) *instructionPair {
	for i := range v.pairs {
		if p := &v.pairs[i]; p.prev.StartLine <= start && end <= p.prev.EndLine {
			return p
		}
	}
	return nil
}

// enclosing returns the pair whose earlier instruction, with its line
// break, holds the edit's byte range. An edit that reaches past the line
// break is at the start of the next line, which is "after this
// instruction" only if the same follows it in both versions (the next
// instruction of the view, or something the rule does not read).
func (v *viewPairs) enclosing(e TextEdit) *instructionPair {
	for i := range v.pairs {
		p := &v.pairs[i]
		after := p.prev.End + p.lineEnd
		if p.prev.Start > e.Start || e.Start > e.End || e.End > after {
			continue
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
	return nil
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
		p := instructionAt(m.prev, f.Line, f.EndLine)
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
	for _, n := range m.next {
		if !plan.recheck[n] {
			plan.reused = append(plan.reused, moved[n]...)
		}
	}
	return plan, true
}

// instructionMatch pairs the two versions' instructions of some kinds.
type instructionMatch struct {
	prev, next []*Instruction
	// pairOf maps an earlier instruction to its unchanged copy in the
	// candidate; unpaired are the candidate's instructions without one.
	pairOf   map[*Instruction]*Instruction
	unpaired map[*Instruction]bool
}

// match pairs, in order, the instructions of the kinds that a pass left
// as they were (same text, comments, stage and line count), once per
// candidate for all the rules that read the same kinds.
func (b *reuseBase) match(kinds []string) *instructionMatch {
	key := strings.Join(kinds, " ")
	if m, ok := b.matches[key]; ok {
		return m
	}
	m := &instructionMatch{prev: readInstructions(b.prev.Dockerfile, kinds), next: readInstructions(b.next, kinds),
		pairOf: map[*Instruction]*Instruction{}, unpaired: map[*Instruction]bool{}}
	prevSrc, nextSrc := b.prev.Dockerfile.Source, b.next.Source
	same := func(p, n *Instruction) bool {
		return p.Keyword == n.Keyword && (p.Onbuild == nil) == (n.Onbuild == nil) && stageIndex(p) == stageIndex(n) &&
			p.EndLine-p.StartLine == n.EndLine-n.StartLine && string(prevSrc[p.Start:p.End]) == string(nextSrc[n.Start:n.End]) &&
			slices.Equal(p.Comments, n.Comments)
	}
	from := 0
	for _, n := range m.next {
		paired := false
		for k := from; k < len(m.prev) && k < from+maxMatchAhead; k++ {
			if same(m.prev[k], n) {
				m.pairOf[m.prev[k]] = n
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

// readInstructions lists d's instructions of the kinds, ONBUILD triggers
// included, in file order.
func readInstructions(d *Dockerfile, kinds []string) []*Instruction {
	var ins []*Instruction
	for in := range d.Each("") {
		if slices.Contains(kinds, in.Keyword) {
			ins = append(ins, in)
		}
	}
	return ins
}

func instructionAt(ins []*Instruction, start, end int) *Instruction {
	for _, in := range ins {
		if in.StartLine <= start && end <= in.EndLine {
			return in
		}
	}
	return nil
}

// moveLocal moves a finding of instruction p to n, its unchanged copy in
// the candidate; a finding whose edits leave p, or whose message may
// quote a line number when n is on another line, cannot be moved.
func moveLocal(f Finding, p, n *Instruction) (Finding, bool) {
	lines, bytes := n.StartLine-p.StartLine, n.Start-p.Start
	if lines != 0 && (hasDigit(f.Message) || f.Fix != nil && hasDigit(f.Fix.Message)) {
		return f, false
	}
	f.Line += lines
	f.EndLine += lines
	if f.Fix != nil {
		fix := *f.Fix
		fix.Edits = slices.Clone(fix.Edits)
		for i, e := range fix.Edits {
			if e.Start < p.Start || e.Start > e.End || e.End > p.End {
				return f, false
			}
			fix.Edits[i].Start, fix.Edits[i].End = e.Start+bytes, e.End+bytes
		}
		f.Fix = &fix
	}
	return f, true
}

// merge adds the findings taken over to those of the instructions checked
// again, in line order, as a run over every instruction reports them.
func (l *localReuse) merge(checked []Finding) []Finding {
	all := append(slices.Clone(l.reused), checked...)
	slices.SortStableFunc(all, func(a, b Finding) int { return a.Line - b.Line })
	return all
}

func stageIndex(in *Instruction) int {
	if in.Stage == nil {
		return -1
	}
	return in.Stage.Index
}
