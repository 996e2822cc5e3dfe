package baselines_test

import (
	"context"
	"slices"
	"testing"

	"github.com/dockopt/dockopt/app/baselines"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

func open(t *testing.T, url string) *baselines.Store {
	t.Helper()
	s, err := baselines.Open(context.Background(), queuetest.Database(t, url))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEachPushIsJudgedAgainstTheOneBefore, and a re-run of a commit
// against the same one as its first run.
func TestEachPushIsJudgedAgainstTheOneBefore(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		if _, found, err := s.Against(ctx, "acme/shop", "main", "a1"); err != nil || found {
			t.Fatalf("a branch never analyzed has a baseline: %v, %v", found, err)
		}
		must(t, s.Record(ctx, "acme/shop", "main", baselines.Commit{SHA: "a1", Fingerprints: []string{"x"}}))
		// Re-running a1: still nothing earlier to compare with.
		if _, found, err := s.Against(ctx, "acme/shop", "main", "a1"); err != nil || found {
			t.Fatalf("the first commit re-run found a baseline: %v, %v", found, err)
		}
		c, found, err := s.Against(ctx, "acme/shop", "main", "b2")
		if err != nil || !found || c.SHA != "a1" || !slices.Equal(c.Fingerprints, []string{"x"}) {
			t.Fatalf("b2 against %+v, %v, %v; want a1", c, found, err)
		}
		must(t, s.Record(ctx, "acme/shop", "main", baselines.Commit{SHA: "b2", Fingerprints: []string{"x", "y"}}))
		// A re-run of b2 (with a changed configuration) is judged against a1 again.
		must(t, s.Record(ctx, "acme/shop", "main", baselines.Commit{SHA: "b2", Fingerprints: []string{"x", "y", "z"}}))
		if c, _, _ := s.Against(ctx, "acme/shop", "main", "b2"); c.SHA != "a1" {
			t.Errorf("a re-run of b2 is judged against %q, want a1", c.SHA)
		}
		// Another replica sees the same history; other branches are apart.
		c, _, _ = open(t, url).Against(ctx, "acme/shop", "main", "c3")
		if c.SHA != "b2" || len(c.Fingerprints) != 3 {
			t.Errorf("c3 against %+v, want b2 with its newest fingerprints", c)
		}
		if _, found, _ := s.Against(ctx, "acme/shop", "release", "c3"); found {
			t.Errorf("another branch shares the baseline")
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
