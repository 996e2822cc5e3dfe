package analyzer

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// overlapByCases is how overlapping edits are defined: intersecting
// ranges, one start, or an insertion strictly inside the other edit.
func overlapByCases(x, y TextEdit) bool {
	return x.Start < y.End && y.Start < x.End || x.Start == y.Start ||
		x.Start == x.End && x.Start > y.Start && x.Start < y.End ||
		y.Start == y.End && y.Start > x.Start && y.Start < x.End
}

func TestOverlapMatchesCases(t *testing.T) {
	for a := range 6 {
		for b := a; b < 6; b++ {
			for c := range 6 {
				for d := c; d < 6; d++ {
					x, y := TextEdit{Start: a, End: b}, TextEdit{Start: c, End: d}
					if overlap(x, y) != overlapByCases(x, y) {
						t.Errorf("overlap(%v, %v) = %v", x, y, overlap(x, y))
					}
				}
			}
		}
	}
}

// TestNonOverlappingMatchesPairwise: the indexed choice is the greedy
// choice that compares each fix with every edit chosen before it.
func TestNonOverlappingMatchesPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 500 {
		var findings []Finding
		for i := range 1 + rng.IntN(30) {
			f := Finding{Line: i}
			if rng.IntN(8) > 0 {
				f.Fix = &Fix{}
				for range rng.IntN(4) {
					start := rng.IntN(60)
					f.Fix.Edits = append(f.Fix.Edits, TextEdit{Start: start, End: start + rng.IntN(3)*rng.IntN(6)})
				}
				if rng.IntN(5) == 0 {
					f.Fix.Files = []GeneratedFile{{Path: "x"}}
				}
			}
			findings = append(findings, f)
		}
		var want []Finding
		var chosen []TextEdit
		for _, f := range findings {
			if f.Fix == nil || len(f.Fix.Edits) == 0 && len(f.Fix.Files) == 0 || Overlaps(chosen, f.Fix.Edits) {
				continue
			}
			chosen = append(chosen, f.Fix.Edits...)
			want = append(want, f)
		}
		got := NonOverlapping(findings)
		if !slices.EqualFunc(got, want, func(a, b Finding) bool { return a.Line == b.Line }) {
			t.Fatalf("round %d: chose %v, want %v", round, lines(got), lines(want))
		}
	}
}

func lines(fs []Finding) []int {
	var out []int
	for _, f := range fs {
		out = append(out, f.Line)
	}
	return out
}
