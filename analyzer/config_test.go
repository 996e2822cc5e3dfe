package analyzer

import "testing"

func TestMatchPath(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"legacy/**", "legacy/Dockerfile", true},
		{"legacy/**", "legacy/a/b/Dockerfile", true},
		{"legacy/**", "other/legacy/Dockerfile", false},
		{"legacy/", "legacy/a/Dockerfile", true},
		{"./legacy/**", "legacy/Dockerfile", true},
		{"**/Dockerfile.dev", "Dockerfile.dev", true},
		{"**/Dockerfile.dev", "a/b/Dockerfile.dev", true},
		{"**/Dockerfile.dev", "a/xDockerfile.dev", false},
		{"services/**/Dockerfile", "services/Dockerfile", true},
		{"services/**/Dockerfile", "services/a/b/Dockerfile", true},
		{"services/*/Dockerfile", "services/a/b/Dockerfile", false},
		{"services/*/Dockerfile", "services/a/Dockerfile", true},
		{"jobs/Dockerfile", "jobs/Dockerfile", true},
		// A pattern names the whole path: a folder name alone does not
		// cover what is inside it.
		{"jobs", "jobs/Dockerfile", false},
		{"Dockerfile.[a-z]*", "Dockerfile.prod", true},
		{"**", "any/thing", true},
		{"[", "x", false},
	} {
		if got := matchPath(tc.pattern, tc.path); got != tc.want {
			t.Errorf("matchPath(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}
