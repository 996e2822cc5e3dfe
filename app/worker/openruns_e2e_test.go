package worker_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// runsOn returns the check runs on sha.
func runsOn(gh *githubtest.Server, repo *githubtest.Repo, sha string) []githubtest.CheckRun {
	var out []githubtest.CheckRun
	for _, cr := range gh.CheckRuns(repo) {
		if cr.HeadSHA == sha {
			out = append(out, cr)
		}
	}
	return out
}

// TestRetryCompletesTheRunItsFirstAttemptOpened: an attempt that fails
// after opening its check run (GitHub refused to create the branch's
// tree) leaves it in progress; the retry completes that run instead of
// opening a second one.
func TestRetryCompletesTheRunItsFirstAttemptOpened(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.gh.Fault("git/create-tree", githubtest.Fault{Status: http.StatusNotFound, Times: 1})
		before := h.gh.Branch(h.repo, "main")
		after := h.gh.Push(h.repo, "main", smallRepo(), "add svc", "alice")
		resp, err := h.gh.Send(context.Background(), h.url, h.gh.PushEvent(h.repo, "main", before, after, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for {
			ev := h.events.Next(t)
			if ev.Job.Kind != jobs.KindAnalyzePush {
				continue
			}
			if ev.Kind == river.EventKindJobFailed && (ev.Job.State == rivertype.JobStateDiscarded || ev.Job.State == rivertype.JobStateCancelled) {
				t.Fatalf("the job failed for good (%s): %v", ev.Job.State, ev.Job.Errors)
			}
			if ev.Kind == river.EventKindJobCompleted {
				if ev.Job.Attempt != 2 {
					t.Errorf("completed on attempt %d, want 2 (one failed attempt)", ev.Job.Attempt)
				}
				break
			}
		}
		runs := runsOn(h.gh, h.repo, after)
		if len(runs) != 1 || runs[0].Status != "completed" {
			for _, r := range runs {
				t.Logf("run %d: %s %s %q", r.ID, r.Status, r.Conclusion, r.Title)
			}
			t.Fatalf("%d check runs on the commit, want one, completed", len(runs))
		}
		if prs := h.gh.PullRequests(h.repo); len(prs) != 1 {
			t.Errorf("%d pull requests, want 1", len(prs))
		}
	})
}

// TestRunOfAReplacedCommitIsConcluded: a push's job fails after opening
// its check run while a newer push arrives; the job goes on with the
// newer commit and never comes back to the older one, whose run it
// concludes, saying why, instead of leaving it in progress.
func TestRunOfAReplacedCommitIsConcluded(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		// The first commit's job waits on GitHub, then fails.
		h.gh.Fault("git/create-tree", githubtest.Fault{Status: http.StatusNotFound, Delay: time.Second, Times: 1})
		before := h.gh.Branch(h.repo, "main")
		first := h.gh.Push(h.repo, "main", smallRepo(), "add svc", "alice")
		resp, err := h.gh.Send(context.Background(), h.url, h.gh.PushEvent(h.repo, "main", before, first, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		deadline := time.Now().Add(60 * time.Second)
		for len(runsOn(h.gh, h.repo, first)) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no check run on the first commit")
			}
			time.Sleep(10 * time.Millisecond)
		}
		second := h.push(t, otherChange())

		old := runsOn(h.gh, h.repo, first)
		if len(old) != 1 || old[0].Status != "completed" || old[0].Conclusion != "neutral" || old[0].Title != "dockopt stopped before finishing" {
			t.Errorf("the replaced commit's runs: %+v; want one, concluded neutral, saying dockopt stopped", old)
		}
		if cur := runsOn(h.gh, h.repo, second); len(cur) != 1 || cur[0].Status != "completed" {
			t.Errorf("the newer commit's runs: %+v", cur)
		}
		for _, cr := range h.gh.CheckRuns(h.repo) {
			if cr.Status != "completed" {
				t.Errorf("check run %d on %s left %s", cr.ID, cr.HeadSHA, cr.Status)
			}
		}
	})
}
