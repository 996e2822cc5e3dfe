package publish_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/publish"
	"github.com/dockopt/dockopt/templates"
)

func annotations(n int) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for i := range n {
		out = append(out, &github.CheckRunAnnotation{Path: github.String("Dockerfile"), StartLine: github.Int(i + 1), EndLine: github.Int(i + 1),
			AnnotationLevel: github.String("warning"), Message: github.String(fmt.Sprintf("finding %d", i+1))})
	}
	return out
}

// TestFinishStaysInProgressUntilTheLastAnnotations: a job that dies
// between two annotation requests leaves its run in progress (for its
// retry to reuse), and the retry's Finish sends only the annotations the
// run lacks: each once, the run completed.
func TestFinishStaysInProgressUntilTheLastAnnotations(t *testing.T) {
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("octo-org")
	repo := gh.AddRepo(inst, "octo-org", "big", map[string]string{"Dockerfile": "FROM scratch\n"})
	c := &publish.Checks{Client: installationClient(t, gh, inst), Owner: repo.Owner, Repo: repo.Name}
	ctx := context.Background()
	id, err := c.Start(ctx, gh.Branch(repo, "main"))
	if err != nil {
		t.Fatal(err)
	}
	out := templates.CheckOutput{Title: "3 findings", Summary: "summary"}
	all := annotations(120)

	// The third request (the completing one) fails: the attempt dies there.
	fail := gh.Fault("checks/update", githubtest.Fault{Status: 422, Skip: 2, Times: 1})
	if err := c.Finish(ctx, id, "failure", out, all, nil); err == nil {
		t.Fatal("Finish succeeded through a failed request")
	}
	fail.Clear()
	runs := gh.CheckRuns(repo)
	if runs[0].Status != "in_progress" || len(runs[0].Annotations) != 100 {
		t.Fatalf("after the failed attempt: %s with %d annotations, want in_progress with 100", runs[0].Status, len(runs[0].Annotations))
	}

	if err := c.Finish(ctx, id, "failure", out, all, nil); err != nil {
		t.Fatal(err)
	}
	runs = gh.CheckRuns(repo)
	if runs[0].Status != "completed" || runs[0].Conclusion != "failure" {
		t.Errorf("after the retry: %s/%s, want completed/failure", runs[0].Status, runs[0].Conclusion)
	}
	if got := runs[0].Annotations; len(got) != len(all) {
		t.Fatalf("%d annotations, want %d, each once", len(got), len(all))
	}
	for i, a := range runs[0].Annotations {
		if a.Message != all[i].GetMessage() {
			t.Fatalf("annotation %d is %q, want %q", i, a.Message, all[i].GetMessage())
		}
	}
}
