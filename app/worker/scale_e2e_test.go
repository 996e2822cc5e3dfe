package worker_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/worker"
)

// until waits for cond, looking again after each job that ends or is
// snoozed (the pace job is snoozed while a line waits).
func (h *harness) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ch, cancel := h.srv.Queue().Subscribe(river.EventKindJobSnoozed, river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	for !cond() {
		select {
		case <-ch:
		case <-time.After(60 * time.Second):
			t.Fatalf("no job event within 60s while waiting for %s", what)
		}
	}
}

// paceRuns waits for n runs of the pace job to end (snoozed or done): after
// the clock moved, the second one surely saw it.
func (h *harness) paceRuns(t *testing.T, n int) {
	t.Helper()
	ch, cancel := h.srv.Queue().Subscribe(river.EventKindJobSnoozed, river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	for n > 0 {
		select {
		case ev := <-ch:
			if ev.Job.Kind == jobs.KindPace {
				n--
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the pace job did not run within 60s")
		}
	}
}

// orgRepo is a repository whose findings grow with serious: that many
// apt-get lines without --no-install-recommends, each a warning with a
// fix.
func orgRepo(serious int) map[string]string {
	var b strings.Builder
	b.WriteString("FROM debian:bookworm-slim\n")
	for i := range serious {
		fmt.Fprintf(&b, "RUN apt-get update && apt-get install -y pkg%d && rm -rf /var/lib/apt/lists/*\n", i)
	}
	b.WriteString("COPY app /app\nCMD [\"/app\"]\n")
	return map[string]string{"svc/Dockerfile": b.String(), "svc/app": "x", "svc/.dockerignore": ".git\n"}
}

// oneCheckRunEach checks that every repository has one completed check
// run and counts those whose summary says note.
func oneCheckRunEach(t *testing.T, gh *githubtest.Server, repos []*githubtest.Repo, note string) int {
	t.Helper()
	n := 0
	for _, r := range repos {
		runs := gh.CheckRuns(r)
		if len(runs) != 1 || runs[0].Status != "completed" {
			t.Fatalf("%s: check runs %+v", r.Name, runs)
		}
		if strings.Contains(runs[0].Summary, note) {
			n++
		}
	}
	return n
}

// openPRs counts the open pull requests of repos and lists every one
// opened so far in the order GitHub numbered them.
func openPRs(gh *githubtest.Server, repos []*githubtest.Repo) (open int, opened []string) {
	type pr struct {
		repo string
		id   int64
	}
	var all []pr
	for _, r := range repos {
		for _, p := range gh.PullRequests(r) {
			all = append(all, pr{r.Name, p.ID})
			if p.State == "open" {
				open++
			}
		}
	}
	slices.SortFunc(all, func(a, b pr) int { return int(a.id - b.id) })
	for _, p := range all {
		opened = append(opened, p.repo)
	}
	return open, opened
}

// TestAnInstallationOf50RepositoriesIsPaced: installed on 50 repositories,
// dockopt gives each its check run at once, opens two pull requests in the
// first hour and two an hour after that, most serious findings first, and
// never has more than ten open; when people close some, the line moves.
func TestAnInstallationOf50RepositoriesIsPaced(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		gh := githubtest.NewServer(t, githubtest.WithTokenLifetime(240*time.Hour))
		inst := gh.AddInstallation("acme")
		var repos []*githubtest.Repo
		serious := map[string]int{}
		for i := range 50 {
			name := fmt.Sprintf("svc%02d", i)
			serious[name] = 1 + (i*7)%5
			repos = append(repos, gh.AddRepo(inst, "acme", name, orgRepo(serious[name])))
		}
		h := startWith(t, gh, repos[0], databaseURL, nil)
		before := len(gh.Calls())
		started := gh.Clock.Now()
		if n := h.send(t, gh.InstallationCreatedEvent(inst, "alice")); n != 50 {
			t.Fatalf("the installation queued %d jobs, want 50", n)
		}
		calls := gh.Calls()[before:]
		waiting := oneCheckRunEach(t, gh, repos, "waiting for its turn")
		open, opened := openPRs(gh, repos)
		if open != 2 || waiting != 48 {
			t.Fatalf("after onboarding: %d pull requests open and %d check runs saying theirs waits; want 2 and 48", open, waiting)
		}
		t.Logf("onboarding 50 repositories: %d pull requests in the first hour, %d GitHub REST calls (+%d git requests), %d content-creating requests in the busiest hour",
			len(opened), restCalls(calls), len(calls)-restCalls(calls), gh.MaxContentWritesInAnyHour(inst.ID))

		// Each hour two more, until ten are open.
		for hour := 1; hour <= 5; hour++ {
			gh.Advance(time.Hour)
			want := min(2+2*hour, 10)
			h.until(t, fmt.Sprintf("%d pull requests after %d hours", want, hour), func() bool { _, o := openPRs(gh, repos); return len(o) >= want })
			if open, _ := openPRs(gh, repos); open > 10 {
				t.Fatalf("%d pull requests open, more than the installation's 10", open)
			}
		}
		_, opened = openPRs(gh, repos)
		if len(opened) != 10 {
			t.Fatalf("%d pull requests opened, want 10 at the open limit", len(opened))
		}
		// After the first two (taken as the first analyses finished), the
		// line is served most serious first.
		for i := 3; i < len(opened); i++ {
			if serious[opened[i]] > serious[opened[i-1]] {
				t.Errorf("%s (%d findings to fix) opened after %s (%d): the line is not most serious first: %v",
					opened[i], serious[opened[i]], opened[i-1], serious[opened[i-1]], opened)
			}
		}
		// People close three; the line moves at the hour's pace.
		closed := 0
		for _, r := range repos {
			for _, p := range gh.PullRequests(r) {
				if p.State == "open" && closed < 3 {
					gh.ClosePullRequest(r, p.Number)
					closed++
				}
			}
		}
		gh.Advance(time.Hour)
		h.until(t, "the line to move after three were closed", func() bool { _, o := openPRs(gh, repos); return len(o) >= 12 })
		if open, _ := openPRs(gh, repos); open != 9 {
			t.Errorf("%d open after three were closed and an hour passed, want 7 + the hour's 2", open)
		}
		if n := gh.MaxContentWritesInAnyHour(inst.ID); n > githubtest.ContentCreationPerHour {
			t.Errorf("%d content-creating requests in one hour, over GitHub's %d", n, githubtest.ContentCreationPerHour)
		}
		t.Logf("%d pull requests opened over %v of the fake clock", len(opened)+2, gh.Clock.Now().Sub(started).Round(time.Minute))
	})
}

// TestAnInstallationOf200RepositoriesStaysWithinTheHourlyBudget: with the
// pull-request pace opened wide, 200 repositories want 200 check runs and
// 200 pull requests at once, about a thousand content-creating requests.
// The shared budget keeps every hour under GitHub's 500, serves the check
// runs first, and the pull requests that wait say when they follow.
func TestAnInstallationOf200RepositoriesStaysWithinTheHourlyBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("200 repositories take a minute")
	}
	gh := githubtest.NewServer(t, githubtest.WithTokenLifetime(240*time.Hour))
	inst := gh.AddInstallation("acme")
	var repos []*githubtest.Repo
	for i := range 200 {
		repos = append(repos, gh.AddRepo(inst, "acme", fmt.Sprintf("svc%03d", i), orgRepo(1+i%3)))
	}
	h := startWith(t, gh, repos[0], queuetest.SQLite(t), nil, func(c *worker.Config) {
		c.Pacing = worker.PacingLimits{MaxOpen: 1000, PerHour: 1000}
		// A request that waits for the budget moves the fake clock
		// rather than snoozing its job.
		c.GitHub.Limit.MaxWait = 2 * time.Hour
	})
	started, real := gh.Clock.Now(), time.Now()
	if n := h.send(t, gh.InstallationCreatedEvent(inst, "alice")); n != 200 {
		t.Fatalf("the installation queued %d jobs, want 200", n)
	}
	checksDone := gh.Clock.Now()
	t.Logf("onboarding took %v", time.Since(real))
	budgetNotes := oneCheckRunEach(t, gh, repos, "dockopt spends them on check runs first")
	_, opened := openPRs(gh, repos)
	if budgetNotes == 0 || len(opened) == 200 {
		t.Errorf("with 200 pull requests wanted at once, some should wait for the budget and say so: %d opened, %d notes", len(opened), budgetNotes)
	}
	// The rest follow as the budget's hour moves on.
	for step := 0; ; step++ {
		if _, o := openPRs(gh, repos); len(o) == 200 {
			break
		}
		if step == 200 {
			t.Fatalf("%d pull requests after 200 steps of five minutes", len(opened))
		}
		gh.Advance(5 * time.Minute)
		h.paceRuns(t, 2)
	}
	most := gh.MaxContentWritesInAnyHour(inst.ID)
	if most > githubtest.ContentCreationPerHour {
		t.Errorf("%d content-creating requests in one hour, over GitHub's %d", most, githubtest.ContentCreationPerHour)
	}
	refused := 0
	for _, c := range gh.Calls() {
		if c.Status == http.StatusForbidden || c.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused > 0 {
		t.Errorf("GitHub refused %d requests for rate limits; the budget should keep them from being sent", refused)
	}
	t.Logf("200 repositories: check runs done after %v, %d pull requests waited for the budget at first, all 200 open after %v of the fake clock; busiest hour %d content-creating requests",
		checksDone.Sub(started).Round(time.Minute), budgetNotes, gh.Clock.Now().Sub(started).Round(time.Minute), most)
}
