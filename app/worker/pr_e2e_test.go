package worker_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/review"
)

// send delivers a webhook and waits for every job it queued; it returns
// their number (0 when the event was ignored).
func (h *harness) send(t *testing.T, w githubtest.Webhook) int {
	t.Helper()
	resp, err := h.gh.Send(context.Background(), h.url, w)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ack struct {
		Jobs []int64 `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("webhook answered %d (%v)", resp.StatusCode, err)
	}
	pending := map[int64]bool{}
	for _, id := range ack.Jobs {
		pending[id] = true
	}
	for len(pending) > 0 {
		ev := h.events.Next(t)
		if !pending[ev.Job.ID] {
			continue
		}
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("job %s ended with %s: %v", ev.Job.Kind, ev.Kind, ev.Job.Errors)
		}
		delete(pending, ev.Job.ID)
	}
	return len(ack.Jobs)
}

const baseDockerfile = "FROM debian:bookworm-slim\nCOPY app /app\nCMD [\"/app\"]\n"

// The line a pull request adds: an unpinned apt-get install without
// --no-install-recommends.
const aptLine = "RUN apt-get update && apt-get install -y curl"

func prRepo() map[string]string {
	return map[string]string{"README.md": "# shop\n", "svc/Dockerfile": baseDockerfile, "svc/app": "x", "svc/.dockerignore": ".git\n"}
}

// openPR pushes files to branch as alice, opens a pull request from it and
// delivers pull_request.opened.
func (h *harness) openPR(t *testing.T, branch string, files map[string]string) int {
	t.Helper()
	h.gh.Push(h.repo, branch, files, "change", "alice")
	pr := h.gh.OpenPullRequest(h.repo, branch, "main", "Install curl", "alice")
	if n := h.send(t, h.gh.PullRequestEvent(h.repo, pr.Number, "opened", "alice")); n != 1 {
		t.Fatalf("pull_request.opened queued %d jobs", n)
	}
	return pr.Number
}

var suggestionBlock = regexp.MustCompile("(?s)(`{3,})suggestion\n(.*?)\n?(`{3,})\n")

// suggestionOf extracts a comment's suggestion the way GitHub reads it.
func suggestionOf(t *testing.T, body string) string {
	t.Helper()
	m := suggestionBlock.FindStringSubmatch(body)
	if m == nil || m[1] != m[3] {
		t.Fatalf("no suggestion block in\n%s", body)
	}
	return m[2]
}

func TestPullRequestGetsOneReviewWithSuggestions(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, prRepo())
		withApt := strings.Replace(baseDockerfile, "COPY", aptLine+"\nCOPY", 1)
		startCalls := len(h.gh.Calls())
		n := h.openPR(t, "feature", map[string]string{
			"svc/Dockerfile": withApt,
			// The pull request tries to switch the rule off for itself; the
			// base branch's configuration applies.
			".github/dockopt.yml": "rules:\n  apt-no-install-recommends: off\n",
		})
		calls := restCalls(h.gh.Calls()[startCalls:])

		reviews := h.gh.Reviews(h.repo)
		if len(reviews) != 1 || reviews[0].PR != n || reviews[0].State != "COMMENTED" {
			t.Fatalf("want one COMMENT review on #%d, got %+v", n, reviews)
		}
		comments := h.gh.ReviewComments(h.repo)
		if len(comments) == 0 {
			t.Fatal("the review has no comments")
		}
		head := h.gh.Branch(h.repo, "feature")
		var onApt *githubtest.ReviewComment
		for i, c := range comments {
			if c.CommitID != head || c.Side != "RIGHT" || review.FingerprintOf(c.Body) == "" {
				t.Errorf("comment %d: commit %s side %s, fingerprint %q", c.ID, c.CommitID, c.Side, review.FingerprintOf(c.Body))
			}
			if c.Path == "svc/Dockerfile" && c.Line == 2 {
				onApt = &comments[i]
			}
		}
		if onApt == nil {
			t.Fatalf("no comment on the added apt-get line: %+v", comments)
		}
		first := onApt.Line
		if onApt.StartLine > 0 {
			first = onApt.StartLine
		}
		applied := review.Apply(withApt, suggestionOf(t, onApt.Body), first, onApt.Line)
		fixedLine := strings.Split(applied, "\n")[1]
		if !strings.Contains(fixedLine, "apt-get install -y --no-install-recommends curl") && !(strings.Contains(fixedLine, "--no-install-recommends") && strings.Contains(fixedLine, "curl")) {
			t.Errorf("applying the suggestion as GitHub would gives line 2 %q", fixedLine)
		}
		if strings.Count(applied, "\n") < strings.Count(withApt, "\n") || !strings.HasPrefix(applied, "FROM debian:bookworm-slim\n") || !strings.HasSuffix(applied, "CMD [\"/app\"]\n") {
			t.Errorf("the suggestion changed more than its lines:\n%s", applied)
		}
		runs := h.gh.CheckRuns(h.repo)
		if len(runs) != 1 || runs[0].HeadSHA != head || runs[0].Status != "completed" || !strings.Contains(runs[0].Summary, "Review:") {
			t.Fatalf("want one completed check run on the head commit: %+v", runs)
		}
		if len(h.gh.PullRequests(h.repo)) != 1 || h.gh.Branch(h.repo, "dockopt/main") != "" {
			t.Errorf("a review of a person's pull request pushes nothing")
		}
		t.Logf("first review: %d GitHub REST calls, %d comments, %d annotations", calls, len(comments), len(runs[0].Annotations))
		if calls > 12 {
			var ops []string
			for _, c := range h.gh.Calls()[startCalls:] {
				ops = append(ops, c.Operation)
			}
			t.Errorf("a pull request review took %d REST calls, want at most 12: %v", calls, ops)
		}

		// A second push with nothing new adds no comment.
		before := h.gh.Branch(h.repo, "feature")
		h.gh.Push(h.repo, "feature", map[string]string{"README.md": "# shop\n\nwith curl\n"}, "docs", "alice")
		startCalls = len(h.gh.Calls())
		h.send(t, h.gh.SynchronizeEvent(h.repo, n, before, "alice"))
		if got := h.gh.ReviewComments(h.repo); len(got) != len(comments) {
			t.Errorf("a push with nothing new changed the comments: %d → %d", len(comments), len(got))
		}
		if got := h.gh.Reviews(h.repo); len(got) != 1 {
			t.Errorf("a push with nothing new posted another review: %d", len(got))
		}
		if runs := h.gh.CheckRuns(h.repo); len(runs) != 2 || runs[1].HeadSHA != h.gh.Branch(h.repo, "feature") {
			t.Errorf("the new head needs its own check run: %+v", runs)
		}
		t.Logf("review of a push with nothing new: %d GitHub REST calls", restCalls(h.gh.Calls()[startCalls:]))

		// Taking the suggestion makes dockopt's comment outdated: it goes.
		before = h.gh.Branch(h.repo, "feature")
		h.gh.Push(h.repo, "feature", map[string]string{"svc/Dockerfile": applied}, "Apply suggestion", "alice")
		h.send(t, h.gh.SynchronizeEvent(h.repo, n, before, "alice"))
		for _, c := range h.gh.ReviewComments(h.repo) {
			if c.ID == onApt.ID {
				t.Errorf("the applied suggestion's comment should be removed")
			}
		}
	})
}

// TestPullRequestWithoutDockerChangesIsNeutral: a pull request that
// touches nothing Docker-related cannot add findings; its check run says
// so, neutral, without an analysis or a review.
func TestPullRequestWithoutDockerChangesIsNeutral(t *testing.T) {
	h := start(t, queuetest.SQLite(t), map[string]string{"README.md": "# shop\n", "docs/guide.md": "x\n", "svc/Dockerfile": baseDockerfile, "svc/app": "x"})
	h.openPR(t, "docs", map[string]string{"docs/guide.md": "y\n"})
	runs := h.gh.CheckRuns(h.repo)
	if len(runs) != 1 || runs[0].Conclusion != "neutral" || !strings.Contains(runs[0].Summary, "cannot add findings") || len(runs[0].Annotations) != 0 {
		t.Errorf("want one neutral check run saying nothing Docker-related changed: %+v", runs)
	}
	if len(h.gh.Reviews(h.repo)) != 0 {
		t.Errorf("and no review")
	}
}
