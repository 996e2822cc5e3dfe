package analyzer

import (
	"fmt"
	"slices"
	"sort"
)

// ApplyEdits applies non-overlapping edits to src. Edits that overlap an
// earlier one (in start order) are an error, like x/tools' diff.Apply; the
// patcher avoids this by choosing edits first with NonOverlapping.
func ApplyEdits(src []byte, edits []TextEdit) ([]byte, error) {
	sorted := append([]TextEdit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Start != sorted[j].Start {
			return sorted[i].Start < sorted[j].Start
		}
		return sorted[i].End < sorted[j].End
	})
	out := make([]byte, 0, len(src))
	last := 0
	for _, e := range sorted {
		if e.Start < last || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("edit [%d,%d) overlaps or is out of range (last end %d, size %d)", e.Start, e.End, last, len(src))
		}
		out = append(out, src[last:e.Start]...)
		out = append(out, e.New...)
		last = e.End
	}
	return append(out, src[last:]...), nil
}

// Overlaps reports whether two sets of edits touch the same bytes. Two
// insertions at the same offset overlap too: their order would be a guess.
func Overlaps(a, b []TextEdit) bool {
	for _, x := range a {
		for _, y := range b {
			if overlap(x, y) {
				return true
			}
		}
	}
	return false
}

// overlap is Overlaps for two edits: their ranges intersect (an insertion
// strictly inside the other's range does), or they start at one offset.
func overlap(x, y TextEdit) bool {
	return x.Start < y.End && y.Start < x.End || x.Start == y.Start
}

// NonOverlapping returns, in order, the findings whose fixes can be
// applied together: each one's edits touch none of those chosen before it.
// Findings without edits are left out; the others wait for a later pass,
// when the offsets are those of the new file.
//
// A file of N lines can have N fixes, so the edits chosen so far are kept
// in an index rather than compared with each new one: whether some chosen
// edit starts before a new edit's end and ends after its start is a
// prefix maximum over the starts.
func NonOverlapping(findings []Finding) []Finding {
	var starts []int
	for _, f := range findings {
		if f.Fix != nil {
			for _, e := range f.Fix.Edits {
				starts = append(starts, e.Start)
			}
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	chosen := newEditIndex(starts)
	var out []Finding
	for _, f := range findings {
		if f.Fix == nil || len(f.Fix.Edits) == 0 && len(f.Fix.Files) == 0 || chosen.overlaps(f.Fix.Edits) {
			continue
		}
		for _, e := range f.Fix.Edits {
			chosen.add(e)
		}
		out = append(out, f)
	}
	return out
}

// editIndex holds chosen edits: the offsets they start at, and a Fenwick
// tree of the furthest end of the edits starting at or before each of the
// known start offsets.
type editIndex struct {
	starts  []int
	started map[int]bool
	maxEnd  []int
}

func newEditIndex(starts []int) *editIndex {
	x := &editIndex{starts: starts, started: map[int]bool{}, maxEnd: make([]int, len(starts)+1)}
	for i := range x.maxEnd {
		x.maxEnd[i] = -1
	}
	return x
}

func (x *editIndex) add(e TextEdit) {
	x.started[e.Start] = true
	i, _ := slices.BinarySearch(x.starts, e.Start)
	for i++; i < len(x.maxEnd); i += i & -i {
		x.maxEnd[i] = max(x.maxEnd[i], e.End)
	}
}

// overlaps reports whether an edit overlaps a chosen one (see overlap).
func (x *editIndex) overlaps(edits []TextEdit) bool {
	for _, e := range edits {
		if x.started[e.Start] {
			return true
		}
		// The chosen edits that start before e ends: does one end after e starts?
		n, _ := slices.BinarySearch(x.starts, e.End)
		furthest := -1
		for i := n; i > 0; i -= i & -i {
			furthest = max(furthest, x.maxEnd[i])
		}
		if furthest > e.Start {
			return true
		}
	}
	return false
}

// ApplyFixes applies the edits of the findings' fixes to src (see
// ApplyEdits) and returns the files they generate.
func ApplyFixes(src []byte, findings []Finding) ([]byte, []GeneratedFile, error) {
	var edits []TextEdit
	var files []GeneratedFile
	for _, f := range findings {
		if f.Fix != nil {
			edits = append(edits, f.Fix.Edits...)
			files = append(files, f.Fix.Files...)
		}
	}
	out, err := ApplyEdits(src, edits)
	return out, files, err
}
