package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// paced waits until the installation's pace job has nothing left in line
// and ends. Each test that moves the fake clock past a turn calls it.
func (h *harness) paced(t *testing.T) {
	t.Helper()
	for {
		ev := h.events.Next(t)
		if ev.Job.Kind != jobs.KindPace {
			continue
		}
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("the pace job ended with %s: %v", ev.Kind, ev.Job.Errors)
		}
		return
	}
}

// TestInstallingTheAppAnalyzesEachRepository: the installation event and
// repositories added later queue one analysis per repository's default
// branch, each ending with its own check run; pull requests come at the
// installation's pace, two an hour, and the check run of one that waits
// says so until its turn.
func TestInstallingTheAppAnalyzesEachRepository(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		gh := githubtest.NewServer(t, githubtest.WithTokenLifetime(24*time.Hour))
		inst := gh.AddInstallation("acme")
		shop := gh.AddRepo(inst, "acme", "shop", smallRepo())
		blog := gh.AddRepo(inst, "acme", "blog", smallRepo())
		h := startWith(t, gh, shop, databaseURL, nil)
		if n := h.send(t, gh.InstallationCreatedEvent(inst, "alice")); n != 2 {
			t.Fatalf("installation queued %d jobs, want one per repository (2)", n)
		}
		for _, r := range []*githubtest.Repo{shop, blog} {
			if prs := gh.PullRequests(r); len(prs) != 1 {
				t.Errorf("%s: %d pull requests after the installation, want 1", r.Name, len(prs))
			}
			if runs := gh.CheckRuns(r); len(runs) != 1 || runs[0].Status != "completed" {
				t.Errorf("%s: check runs %+v", r.Name, runs)
			}
		}
		api := gh.AddRepo(inst, "acme", "api", smallRepo())
		if n := h.send(t, gh.InstallationReposAddedEvent(inst, "alice", api)); n != 1 {
			t.Fatalf("adding a repository queued %d jobs, want 1", n)
		}
		if prs := gh.PullRequests(api); len(prs) != 0 {
			t.Fatalf("a third pull request within the hour: %+v", prs)
		}
		run := lastRun(t, h, api)
		if !strings.Contains(run.Summary, "waiting for its turn") || !strings.Contains(run.Summary, "1st of 1 in line") {
			t.Errorf("the waiting pull request's check run should say so:\n%s", run.Summary)
		}
		gh.Advance(time.Hour)
		h.paced(t)
		if prs := gh.PullRequests(api); len(prs) != 1 || !strings.HasPrefix(prs[0].Head, "dockopt/") {
			t.Fatalf("the added repository should get its pull request in its turn: %+v", prs)
		}
		run = lastRun(t, h, api)
		if len(gh.CheckRuns(api)) != 1 || !strings.Contains(run.Summary, "its turn came") || strings.Contains(run.Summary, "waiting for its turn") ||
			!strings.Contains(run.Summary, "Fixes: pull request #") {
			t.Errorf("the check run should now name the pull request:\n%s", run.Summary)
		}
	})
}
