package worker_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// TestForkPullRequestIsReviewedButNeverPushedTo: a contributor's pull
// request from a fork gets the check run and the review with suggestions on
// the base repository; dockopt writes nothing to the fork, which its
// installation does not cover.
func TestForkPullRequestIsReviewedButNeverPushedTo(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, prRepo())
		fork := h.gh.Fork(h.repo, "carol")
		withApt := strings.Replace(baseDockerfile, "COPY", aptLine+"\nCOPY", 1)
		head := h.gh.Push(fork, "curl", map[string]string{"svc/Dockerfile": withApt}, "install curl", "carol")
		forkBranches := h.gh.Branch(fork, "curl")
		pr := h.gh.OpenForkPullRequest(h.repo, fork, "curl", "main", "Install curl", "carol")
		if n := h.send(t, h.gh.PullRequestEvent(h.repo, pr.Number, "opened", "carol")); n != 1 {
			t.Fatalf("pull_request.opened from a fork queued %d jobs", n)
		}
		runs := h.gh.CheckRuns(h.repo)
		if len(runs) != 1 || runs[0].HeadSHA != head || runs[0].Status != "completed" {
			t.Fatalf("want a completed check run on the fork's head commit: %+v", runs)
		}
		found := false
		for _, c := range h.gh.ReviewComments(h.repo) {
			if c.Path == "svc/Dockerfile" && c.CommitID == head && strings.Contains(suggestionOf(t, c.Body), "--no-install-recommends") {
				found = true
			}
		}
		if !found {
			t.Errorf("the fork's pull request should get a suggestion on the added line: %+v", h.gh.ReviewComments(h.repo))
		}
		if got := h.gh.Branch(fork, "curl"); got != forkBranches {
			t.Errorf("dockopt wrote to the fork's branch")
		}
		cloned := false
		for _, c := range h.gh.Calls() {
			if !strings.Contains(c.Path, "/carol/") {
				continue
			}
			// Fetching the fork (git-upload-pack) reads; anything else would write.
			if c.Operation == "git-upload-pack" {
				cloned = true
				continue
			}
			if c.Method != "GET" {
				t.Errorf("dockopt wrote to the fork: %s %s", c.Method, c.Path)
			}
		}
		if !cloned {
			t.Errorf("the head should be fetched from the fork")
		}
		if prs := h.gh.PullRequests(h.repo); len(prs) != 1 {
			t.Errorf("a review of a fork must not open dockopt's own pull request: %d pull requests", len(prs))
		}

		// The contributor pushes again to the fork: the new head is
		// reviewed, and the suggestion already made is not repeated.
		comments := len(h.gh.ReviewComments(h.repo))
		next := h.gh.Push(fork, "curl", map[string]string{"svc/README": "notes\n"}, "notes", "carol")
		if n := h.send(t, h.gh.SynchronizeEvent(h.repo, pr.Number, head, "carol")); n != 1 {
			t.Fatalf("synchronize from a fork queued %d jobs", n)
		}
		runs = h.gh.CheckRuns(h.repo)
		if len(runs) != 2 || runs[1].HeadSHA != next {
			t.Errorf("the fork's new head should get its check run: %+v", runs)
		}
		if got := len(h.gh.ReviewComments(h.repo)); got != comments {
			t.Errorf("a push with nothing new added %d comments", got-comments)
		}
	})
}
