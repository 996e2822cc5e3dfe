package rules

import (
	"fmt"
	"testing"
)

// The App analyzes repository after repository in one process: the pooled
// matchers of .dockerignore entries, some of which name a repository's
// own files, must not grow with every name it has seen.
func TestEntryMatchersStayBounded(t *testing.T) {
	for i := range 3 * maxPooledEntries {
		lent, err := borrowMatcher([]string{fmt.Sprintf("/secrets/key-%d.pem", i)})
		if err != nil {
			t.Fatal(err)
		}
		if hit, _ := lent.MatchesOrParentMatches(fmt.Sprintf("secrets/key-%d.pem", i)); !hit {
			t.Fatalf("the matcher lent for entry %d does not match its own file", i)
		}
		lent.giveBack()
	}
	kept := 0
	entryMatchers.Range(func(any, any) bool { kept++; return true })
	if kept > maxPooledEntries {
		t.Errorf("%d line sets pooled after %d distinct entries, want at most %d", kept, 3*maxPooledEntries, maxPooledEntries)
	}
}
