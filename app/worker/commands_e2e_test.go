package worker_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// comment posts a conversation comment as user and delivers it.
func (h *harness) comment(t *testing.T, number int, user, body string) githubtest.IssueComment {
	t.Helper()
	c := h.gh.AddComment(h.repo, number, user, body)
	h.send(t, h.gh.IssueCommentEvent(h.repo, c.ID, "created", ""))
	return *c
}

// answers are dockopt's conversation comments that quote a command.
func (h *harness) answers() []githubtest.IssueComment {
	var out []githubtest.IssueComment
	for _, c := range h.gh.IssueComments(h.repo) {
		if c.User == h.gh.Bot() && strings.HasPrefix(c.Body, "> ") {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) reactions(id int64) []string {
	var out []string
	for _, c := range h.gh.IssueComments(h.repo) {
		if c.ID == id {
			for _, r := range c.Reactions {
				out = append(out, r.User+":"+r.Content)
			}
		}
	}
	return out
}

func TestRerunByCollaboratorAndRefusalOfOthers(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, prRepo())
		n := h.openPR(t, "feature", map[string]string{"svc/Dockerfile": strings.Replace(baseDockerfile, "COPY", aptLine+"\nCOPY", 1)})
		h.gh.SetPermission(h.repo, "bob", "write")
		runs, reviews := len(h.gh.CheckRuns(h.repo)), len(h.gh.Reviews(h.repo))

		c := h.comment(t, n, "bob", "Pushed a fix upstream.\n\n/dockopt rerun")
		if got := h.reactions(c.ID); len(got) != 1 || got[0] != h.gh.Bot()+":eyes" {
			t.Errorf("the command should be acknowledged with eyes: %v", got)
		}
		if got := len(h.gh.CheckRuns(h.repo)); got != runs+1 {
			t.Errorf("/dockopt rerun should re-run the analysis: %d check runs, want %d", got, runs+1)
		}
		ans := h.answers()
		if len(ans) != 1 || !strings.Contains(ans[0].Body, "@bob") || !strings.Contains(ans[0].Body, "analyzed") {
			t.Fatalf("the rerun should be answered: %+v", ans)
		}
		if len(h.gh.Reviews(h.repo)) != reviews {
			t.Errorf("a rerun with nothing new posted another review")
		}

		// Someone without write access: refused politely, nothing changes.
		runs = len(h.gh.CheckRuns(h.repo))
		m := h.comment(t, n, "mallory", "/dockopt rerun")
		if got := h.reactions(m.ID); len(got) != 1 {
			t.Errorf("a refused command is still acknowledged: %v", got)
		}
		if got := len(h.gh.CheckRuns(h.repo)); got != runs {
			t.Errorf("a refused rerun ran anyway: %d check runs, want %d", got, runs)
		}
		ans = h.answers()
		if len(ans) != 2 || !strings.Contains(ans[1].Body, "@mallory") || !strings.Contains(ans[1].Body, "needs write access") || !strings.Contains(ans[1].Body, "Nothing was changed") {
			t.Fatalf("the refusal should say why and what to do: %+v", ans)
		}

		// Anyone may ask for an explanation.
		h.comment(t, n, "mallory", "@"+strings.TrimSuffix(h.gh.Bot(), "[bot]")+" explain DL3015")
		ans = h.answers()
		if len(ans) != 3 || !strings.Contains(ans[2].Body, "apt-no-install-recommends") {
			t.Errorf("explain should answer with the rule's documentation: %+v", ans[len(ans)-1])
		}
	})
}

func TestCommandsInCodeBlocksOrEditedDoNothing(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, prRepo())
		n := h.openPR(t, "feature", map[string]string{"svc/Dockerfile": strings.Replace(baseDockerfile, "COPY", aptLine+"\nCOPY", 1)})
		h.gh.SetPermission(h.repo, "bob", "admin")
		runs, calls := len(h.gh.CheckRuns(h.repo)), len(h.gh.Calls())

		c := h.comment(t, n, "bob", "To re-run, comment:\n\n```\n/dockopt rerun\n```\n")
		if got := h.reactions(c.ID); len(got) != 0 {
			t.Errorf("a command in a code block was acknowledged: %v", got)
		}
		i := h.comment(t, n, "bob", "Like this:\n\n    /dockopt rerun\n")
		if got := h.reactions(i.ID); len(got) != 0 {
			t.Errorf("a command in an indented code block was acknowledged: %v", got)
		}

		old := h.gh.AddComment(h.repo, n, "bob", "Looks good")
		h.gh.EditComment(h.repo, old.ID, "Looks good\n/dockopt rerun")
		if jobs := h.send(t, h.gh.IssueCommentEvent(h.repo, old.ID, "edited", "Looks good")); jobs != 0 {
			t.Errorf("an edited comment queued %d jobs", jobs)
		}
		if got := h.reactions(old.ID); len(got) != 0 {
			t.Errorf("a command edited into an old comment was acknowledged: %v", got)
		}
		if len(h.gh.CheckRuns(h.repo)) != runs || len(h.answers()) != 0 {
			t.Errorf("commands in code blocks or edits changed something")
		}
		for _, call := range h.gh.Calls()[calls:] {
			if call.Method != "GET" && call.Route != "GIT" && call.Operation != "apps/create-installation-access-token" {
				t.Errorf("no command ran, yet dockopt wrote: %s %s", call.Method, call.Path)
			}
		}
	})
}

func TestRecreateAfterAHumanEditRebuildsTheBranch(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.push(t, smallRepo())
		human := h.gh.Push(h.repo, "dockopt/main", map[string]string{"svc/Dockerfile": pythonDockerfile + "# tuned by hand\n"}, "my tweak", "alice")
		h.push(t, map[string]string{"worker/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get install -y curl\n", "worker/.dockerignore": ".git\n"})
		if h.gh.Branch(h.repo, "dockopt/main") != human {
			t.Fatal("setup: dockopt should have left the person's commit alone")
		}
		pr := h.gh.PullRequests(h.repo)[0]
		h.gh.SetPermission(h.repo, "carol", "maintain")
		c := h.comment(t, pr.Number, "carol", "/dockopt recreate")
		head := h.gh.Branch(h.repo, "dockopt/main")
		if head == human {
			t.Fatal("/dockopt recreate did not rebuild the branch")
		}
		commits := h.gh.CommitsOn(h.repo, "dockopt/main")
		if !strings.Contains(commits[0].Message, "Generated-by: dockopt") || commits[0].Parents[0] != h.gh.Branch(h.repo, "main") {
			t.Errorf("the rebuilt branch should be one dockopt commit on main: %+v", commits[0])
		}
		if f, _ := h.gh.File(h.repo, "dockopt/main", "worker/Dockerfile"); !strings.Contains(f, "--no-install-recommends") {
			t.Errorf("the rebuilt branch should hold the newest fixes:\n%s", f)
		}
		if got := h.reactions(c.ID); len(got) != 1 {
			t.Errorf("reactions %v", got)
		}
		ans := h.answers()
		if len(ans) != 1 || !strings.Contains(ans[0].Body, "rebuilt") {
			t.Fatalf("recreate should be answered: %+v", ans)
		}
	})
}

func TestRerunButtons(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		files := smallRepo()
		files[".github/dockopt.yml"] = "output:\n  mode: check-only\n"
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		sha := h.push(t, files)
		runs := h.gh.CheckRuns(h.repo)
		if len(runs) != 1 || len(runs[0].Actions) != 1 || runs[0].Actions[0].Identifier != "open-fix-pr" || len(h.gh.PullRequests(h.repo)) != 0 {
			t.Fatalf("check-only mode: want a check run with an Open fix PR button and no pull request: %+v", runs)
		}
		// GitHub's "Re-run" on the check run, then on the whole suite.
		h.send(t, h.gh.CheckRunEvent(h.repo, runs[0].ID, "alice", ""))
		h.send(t, h.gh.CheckSuiteRerequestedEvent(h.repo, sha, "alice"))
		runs = h.gh.CheckRuns(h.repo)
		if len(runs) != 3 || runs[1].HeadSHA != sha || runs[2].HeadSHA != sha || runs[2].Status != "completed" {
			t.Fatalf("each re-run should make a new completed check run on %s: %+v", sha, runs)
		}
		// The button opens the pull request on demand.
		h.send(t, h.gh.CheckRunEvent(h.repo, runs[2].ID, "alice", "open-fix-pr"))
		if prs := h.gh.PullRequests(h.repo); len(prs) != 1 || prs[0].Head != "dockopt/main" {
			t.Fatalf("Open fix PR should open dockopt's pull request: %+v", prs)
		}

		// Re-running a pull request's check reviews that pull request again.
		h.gh.Push(h.repo, "feature", map[string]string{"svc/Dockerfile": pythonDockerfile + "RUN apt-get install -y git\n"}, "git", "alice")
		pr := h.gh.OpenPullRequest(h.repo, "feature", "main", "git", "alice")
		h.send(t, h.gh.PullRequestEvent(h.repo, pr.Number, "opened", "alice"))
		runs = h.gh.CheckRuns(h.repo)
		last := runs[len(runs)-1]
		if last.HeadSHA != h.gh.Branch(h.repo, "feature") {
			t.Fatalf("the pull request should have a check run on its head: %+v", last)
		}
		comments := len(h.gh.ReviewComments(h.repo))
		h.send(t, h.gh.CheckRunEvent(h.repo, last.ID, "alice", ""))
		runs = h.gh.CheckRuns(h.repo)
		if got := runs[len(runs)-1]; got.ID == last.ID || got.HeadSHA != last.HeadSHA || got.Status != "completed" {
			t.Errorf("re-running the pull request's check should make a new one on its head: %+v", got)
		}
		if got := len(h.gh.ReviewComments(h.repo)); got != comments {
			t.Errorf("a re-run repeated review comments: %d → %d", comments, got)
		}
	})
}

// TestFloodOfCommandsStaysWithinContentLimits: 50 identical commands on one
// pull request, delivered at once, with GitHub's content-creation limit of
// 80 a minute enforced by the fake and dockopt's production pacing.
func TestFloodOfCommandsStaysWithinContentLimits(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, prRepo())
		h.worker.GitHub.Limit.WriteSpacing = time.Second // production pacing, on the fake clock
		n := h.openPR(t, "feature", map[string]string{"svc/Dockerfile": strings.Replace(baseDockerfile, "COPY", aptLine+"\nCOPY", 1)})
		h.gh.SetPermission(h.repo, "bob", "write")
		runs, calls, t0 := len(h.gh.CheckRuns(h.repo)), len(h.gh.Calls()), h.gh.Clock.Now()

		const flood = 50
		var ids []int64
		for i := 0; i < flood; i++ {
			ids = append(ids, h.gh.AddComment(h.repo, n, "bob", "/dockopt rerun").ID)
		}
		var mu sync.Mutex
		pending := map[int64]bool{}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Add(1)
			go func(id int64) {
				defer wg.Done()
				resp, err := h.gh.Send(context.Background(), h.url, h.gh.IssueCommentEvent(h.repo, id, "created", ""))
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				var ack struct{ Jobs []int64 }
				_ = json.NewDecoder(resp.Body).Decode(&ack)
				mu.Lock()
				for _, j := range ack.Jobs {
					pending[j] = true
				}
				mu.Unlock()
			}(id)
		}
		wg.Wait()
		if len(pending) != flood {
			t.Fatalf("%d jobs queued for %d commands", len(pending), flood)
		}
		for len(pending) > 0 {
			ev := h.events.Next(t)
			if !pending[ev.Job.ID] {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("job ended with %s: %v", ev.Kind, ev.Job.Errors)
			}
			delete(pending, ev.Job.ID)
		}

		creations, limited := 0, 0
		for _, c := range h.gh.Calls()[calls:] {
			switch c.Operation {
			case "reactions/create-for-issue-comment", "issues/create-comment", "checks/create", "pulls/create-review", "pulls/create-review-comment", "git/create-tree", "git/create-commit", "git/create-ref", "pulls/create":
				creations++
			}
			if c.Status == 403 || c.Status == 429 {
				limited++
			}
		}
		if limited > 0 {
			t.Errorf("%d requests hit GitHub's secondary rate limit", limited)
		}
		for _, id := range ids {
			if got := h.reactions(id); len(got) != 1 {
				t.Errorf("comment %d: reactions %v, want one acknowledgement each", id, got)
			}
		}
		ans := h.answers()
		if len(ans) == 0 || len(ans) > 3 {
			t.Errorf("identical commands should be answered together: %d answers", len(ans))
		}
		newRuns := len(h.gh.CheckRuns(h.repo)) - runs
		if newRuns == 0 || newRuns > 3 {
			t.Errorf("identical commands should coalesce: %d re-runs for %d commands", newRuns, flood)
		}
		t.Logf("%d commands: %d content-creating requests over %s of GitHub time, %d re-runs, %d answers, %d REST calls",
			flood, creations, h.gh.Clock.Now().Sub(t0), newRuns, len(ans), restCalls(h.gh.Calls()[calls:]))
	})
}
