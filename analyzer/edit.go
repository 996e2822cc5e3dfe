package analyzer

import (
	"fmt"
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
			if x.Start < y.End && y.Start < x.End {
				return true
			}
			if x.Start == y.Start {
				return true
			}
			if x.Start == x.End && x.Start > y.Start && x.Start < y.End {
				return true
			}
			if y.Start == y.End && y.Start > x.Start && y.Start < x.End {
				return true
			}
		}
	}
	return false
}

// NonOverlapping returns, in order, the findings whose fixes can be
// applied together: each one's edits touch none of those chosen before it.
// Findings without edits are left out; the others wait for a later pass,
// when the offsets are those of the new file.
func NonOverlapping(findings []Finding) []Finding {
	var chosen []Finding
	var edits []TextEdit
	for _, f := range findings {
		if f.Fix == nil || len(f.Fix.Edits) == 0 && len(f.Fix.Files) == 0 || Overlaps(edits, f.Fix.Edits) {
			continue
		}
		edits = append(edits, f.Fix.Edits...)
		chosen = append(chosen, f)
	}
	return chosen
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
