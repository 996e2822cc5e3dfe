package main

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// unifiedDiff renders a change as `diff -u` would, with a/ and b/ prefixes
// so that `git apply` accepts it. A created file diffs against /dev/null.
func unifiedDiff(p string, before, after []byte) string {
	from := "a/" + p
	if before == nil {
		from = "/dev/null"
	}
	d := difflib.UnifiedDiff{
		A:        lines(before),
		B:        lines(after),
		FromFile: from,
		ToFile:   "b/" + p,
		Context:  3,
	}
	if before == nil {
		d.A = nil
	}
	s, err := difflib.GetUnifiedDiffString(d)
	if err != nil {
		return ""
	}
	return s
}

// lines splits keeping line ends; unlike difflib.SplitLines it adds no
// empty line after a final newline, which would miscount the hunk.
func lines(b []byte) []string {
	out := strings.SplitAfter(string(b), "\n")
	if len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}
