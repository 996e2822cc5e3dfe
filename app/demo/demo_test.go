package demo

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestRunOnARepositoryWithDebt: pushing a repository full of old findings
// gives a neutral check run that says why (its findings are the branch's
// existing debt), with no annotations, and the pull request that fixes it.
func TestRunOnARepositoryWithDebt(t *testing.T) {
	res, err := Run(context.Background(), "../../examples/monorepo", t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := res.CheckRun
	if c.Conclusion != "neutral" || c.Annotations != 0 {
		t.Errorf("check run %s with %d annotations, want neutral and none", c.Conclusion, c.Annotations)
	}
	for _, want := range []string{"checks.fail_on: new", "existing debt", "not failed"} {
		if !strings.Contains(c.Why, want) {
			t.Errorf("the reason lacks %q: %q", want, c.Why)
		}
	}
	if res.PullRequest == nil {
		t.Errorf("the debt should still get its pull request")
	}
}
