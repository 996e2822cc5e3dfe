package worker

import "testing"

// TestReportURL: the truncated PR body links the full report by its
// address on dockopt's branch, since a description resolves no relative
// link; a branch's slashes stay path separators, other characters are
// escaped.
func TestReportURL(t *testing.T) {
	for _, tc := range []struct{ owner, repo, branch, want string }{
		{"acme", "shop", "dockopt/main", "https://github.com/acme/shop/blob/dockopt/main/.dockopt/REPORT.md"},
		{"acme", "shop", "dockopt/feature/#1 fix", "https://github.com/acme/shop/blob/dockopt/feature/%231%20fix/.dockopt/REPORT.md"},
	} {
		if got := reportURL(tc.owner, tc.repo, tc.branch); got != tc.want {
			t.Errorf("reportURL(%q, %q, %q) = %q, want %q", tc.owner, tc.repo, tc.branch, got, tc.want)
		}
	}
}
