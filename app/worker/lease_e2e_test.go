package worker_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// deliverTogether sends webhooks at the same time and returns the jobs
// they queued.
func (h *harness) deliverTogether(t *testing.T, hooks ...githubtest.Webhook) []int64 {
	t.Helper()
	var mu sync.Mutex
	var ids []int64
	var wg sync.WaitGroup
	for _, w := range hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := h.gh.Send(context.Background(), h.url, w)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var ack struct {
				Jobs []int64 `json:"jobs"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil || resp.StatusCode/100 != 2 {
				t.Errorf("%s webhook answered %d (%v)", w.Event, resp.StatusCode, err)
			}
			mu.Lock()
			ids = append(ids, ack.Jobs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

// TestInstallationAndPushTogetherMakeOnePullRequest: the installation
// event and a push to the default branch arrive at the same time, and
// both jobs would push dockopt/main and open its pull request. They run
// one after the other (the branch's lease), the second finds the commit
// already analyzed, and nothing fails: one pull request, no failed
// attempt, one completed check run on the head and none left in progress.
// (deploy/rehearsal's TestComposeInstallation saw a 422 "Reference
// already exists" and a retry here.)
func TestInstallationAndPushTogetherMakeOnePullRequest(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		gh := githubtest.NewServer(t, githubtest.WithTokenLifetime(24*time.Hour))
		inst := gh.AddInstallation("acme")
		repo := gh.AddRepo(inst, "acme", "shop", smallRepo())
		h := startWith(t, gh, repo, databaseURL, nil)
		before := gh.Branch(repo, "main")
		after := gh.Push(repo, "main", map[string]string{"README.md": "# shop\n"}, "Add a README", "alice")
		// Each job dwells before it proposes, so that without the lease
		// both would be past their look at the branch before either pushes.
		gh.Fault("pulls/list", githubtest.Fault{Delay: 300 * time.Millisecond})
		// And before it takes the lease (the webhook handlers call no
		// GitHub API, so the deliveries are not slowed), so that both are
		// queued by then, as when the two arrive together. Otherwise the
		// first could take the lease before the second delivery had queued
		// its job; the second then rightly analyzes again (news queued
		// after a job started may be news that job did not see), and on
		// PostgreSQL under CI's load that happened once: two check runs on
		// the head. This is a margin, not a guarantee: a queue insert that
		// takes longer than it would still fail the test.
		gh.Fault("repos/get", githubtest.Fault{Delay: 2 * time.Second})

		ids := h.deliverTogether(t, gh.InstallationCreatedEvent(inst, "alice"), gh.PushEvent(repo, "main", before, after, "alice"))
		if len(ids) != 2 {
			t.Fatalf("the two deliveries queued jobs %v, want one each", ids)
		}
		pending := map[int64]bool{ids[0]: true, ids[1]: true}
		for len(pending) > 0 {
			ev := h.events.Next(t)
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("job %d (%s) ended with %s: %v", ev.Job.ID, ev.Job.Kind, ev.Kind, ev.Job.Errors)
			}
			if len(ev.Job.Errors) > 0 || ev.Job.Attempt != 1 {
				t.Errorf("job %d (%s) completed on attempt %d after errors %v; want no failed attempt", ev.Job.ID, ev.Job.Kind, ev.Job.Attempt, ev.Job.Errors)
			}
			delete(pending, ev.Job.ID)
		}

		if prs := gh.PullRequests(repo); len(prs) != 1 || prs[0].Head != "dockopt/main" {
			t.Errorf("pull requests %+v, want one from dockopt/main", prs)
		}
		completed := map[string]int{}
		for _, cr := range gh.CheckRuns(repo) {
			if cr.Status != "completed" {
				t.Errorf("check run %d on %s left %s", cr.ID, cr.HeadSHA, cr.Status)
				continue
			}
			completed[cr.HeadSHA]++
		}
		for sha, n := range completed {
			if n != 1 {
				t.Errorf("%d completed check runs on %s, want 1", n, sha)
			}
		}
		if completed[after] == 0 {
			t.Errorf("no completed check run on the head %s: %v", after, completed)
		}
		for _, c := range gh.Calls() {
			if c.Status == 422 {
				t.Errorf("GitHub refused %s %s with 422", c.Method, c.Operation)
			}
		}
	})
}
