package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// otherChange alters dockopt's proposal: a second Dockerfile to fix.
func otherChange() map[string]string {
	return map[string]string{"worker/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get install -y curl\n", "worker/.dockerignore": ".git\n"}
}

func commentsContaining(gh *githubtest.Server, repo *githubtest.Repo, text string) []githubtest.IssueComment {
	var out []githubtest.IssueComment
	for _, c := range gh.IssueComments(repo) {
		if strings.Contains(c.Body, text) {
			out = append(out, c)
		}
	}
	return out
}

// TestHumanCommitWithNoOpenPullRequest: a person committed to dockopt's
// branch and its pull request was closed. The next push must leave the
// branch alone and say so on the check run, without commenting on a pull
// request that does not exist (#0: a 404, retries, a failed check).
func TestHumanCommitWithNoOpenPullRequest(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.push(t, smallRepo())
		pr := h.gh.PullRequests(h.repo)[0]
		human := h.gh.Push(h.repo, "dockopt/main", map[string]string{"svc/Dockerfile": pythonDockerfile + "# tuned by hand\n"}, "my tweak", "alice")
		h.gh.ClosePullRequest(h.repo, pr.Number)
		calls := len(h.gh.Calls())

		h.push(t, otherChange())
		for _, c := range h.gh.Calls()[calls:] {
			// go-github drops a zero number from the path: /issues/comments.
			if strings.Contains(c.Path, "/issues/0/") || strings.HasSuffix(c.Path, "/issues/comments") || c.Status == 404 && c.Method != "GET" {
				t.Errorf("dockopt wrote to a pull request that does not exist: %s %s → %d", c.Method, c.Path, c.Status)
			}
		}
		if got := h.gh.Branch(h.repo, "dockopt/main"); got != human {
			t.Errorf("dockopt overwrote a person's commit on its branch")
		}
		if n := len(h.gh.PullRequests(h.repo)); n != 1 {
			t.Errorf("%d pull requests; a branch holding a person's commit must not be proposed", n)
		}
		runs := h.gh.CheckRuns(h.repo)
		last := runs[len(runs)-1]
		if last.Status != "completed" || last.Title == "dockopt could not finish" || !strings.Contains(last.Summary, "/dockopt recreate") {
			t.Errorf("the check run should report the analysis and say how to let dockopt rebuild its branch: %s %q\n%s", last.Status, last.Title, last.Summary)
		}
	})
}

// TestBlockedNoticeIsPostedOnceOnALongConversation: the notice that a
// person's commit stops dockopt is posted once per commit of the base
// branch, even when the pull request holds more than a page of comments
// and the same commit is analyzed again.
func TestBlockedNoticeIsPostedOnceOnALongConversation(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.push(t, smallRepo())
		pr := h.gh.PullRequests(h.repo)[0]
		h.gh.Push(h.repo, "dockopt/main", map[string]string{"svc/Dockerfile": pythonDockerfile + "# tuned by hand\n"}, "my tweak", "alice")
		for range 120 {
			h.gh.AddComment(h.repo, pr.Number, "alice", "Looking into it.")
		}
		sha := h.push(t, otherChange())
		const notice = "no longer updates this branch"
		if n := len(commentsContaining(h.gh, h.repo, notice)); n != 1 {
			t.Fatalf("%d notices after the push, want 1", n)
		}
		h.send(t, h.gh.CheckSuiteRerequestedEvent(h.repo, sha, "alice"))
		if n := len(commentsContaining(h.gh, h.repo, notice)); n != 1 {
			t.Errorf("%d notices after re-running the same commit, want still 1", n)
		}
	})
}

// TestClosedPullRequestIsNotReopenedForTheSameChanges: a person closed
// dockopt's pull request. Pushes that leave dockopt's proposal as it was
// open nothing; the closing is answered once with how to ask again; a
// different proposal, or /dockopt recreate, opens a new pull request.
func TestClosedPullRequestIsNotReopenedForTheSameChanges(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"}, githubtest.WithTokenLifetime(24*time.Hour))
		h.push(t, smallRepo())
		first := h.gh.PullRequests(h.repo)[0]
		h.gh.ClosePullRequest(h.repo, first.Number)

		h.push(t, map[string]string{"README.md": "# shop, again\n"})
		h.push(t, map[string]string{"README.md": "# shop, once more\n"})
		if prs := h.gh.PullRequests(h.repo); len(prs) != 1 || prs[0].State != "closed" {
			t.Fatalf("pushes that change nothing dockopt proposes reopened it: %+v", prs)
		}
		answers := commentsContaining(h.gh, h.repo, "/dockopt recreate")
		if len(answers) != 1 || answers[0].Issue != first.Number || answers[0].User != h.gh.Bot() {
			t.Fatalf("the closing should be answered once on #%d with how to ask again: %+v", first.Number, answers)
		}

		h.gh.SetPermission(h.repo, "carol", "write")
		h.comment(t, first.Number, "carol", "/dockopt rerun")
		if ans := h.answers(); len(ans) != 1 || !strings.Contains(ans[0].Body, "closed without merging") || len(h.gh.PullRequests(h.repo)) != 1 {
			t.Fatalf("/dockopt rerun should say why no pull request was opened, and open none: %+v", ans)
		}
		h.comment(t, first.Number, "carol", "/dockopt recreate")
		prs := h.gh.PullRequests(h.repo)
		if len(prs) != 2 || prs[1].State != "open" || prs[1].Head != "dockopt/main" {
			t.Fatalf("/dockopt recreate should open a new pull request: %+v", prs)
		}
		h.gh.ClosePullRequest(h.repo, prs[1].Number)
		// Two pull requests were opened this hour, the installation's
		// pace: the next one waits for the next hour.
		h.gh.Advance(time.Hour)
		h.push(t, otherChange())
		if prs := h.gh.PullRequests(h.repo); len(prs) != 3 || prs[2].State != "open" {
			t.Errorf("a different proposal should open a new pull request: %+v", prs)
		}
	})
}
