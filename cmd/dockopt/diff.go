package main

import (
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
		A:        difflib.SplitLines(string(before)),
		B:        difflib.SplitLines(string(after)),
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
