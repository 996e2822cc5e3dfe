package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/budget"
	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/leases"
	"github.com/dockopt/dockopt/app/pacing"
	"github.com/dockopt/dockopt/app/publish"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/sandbox"
)

// proposalCost is what opening one pull request may spend of the budget:
// a tree, a commit, a branch, the pull request, its labels and reviewers.
const proposalCost = 6

// DefaultRecheck is the longest a waiting line goes without a look: the
// pace job comes back at least this often, to notice pull requests people
// merged or closed, and when GitHub's clock and this one disagree.
const DefaultRecheck = 5 * time.Minute

// Enqueuer queues jobs the worker starts itself (the pace job).
type Enqueuer interface {
	Accept(ctx context.Context, d queue.Delivery, js []jobs.Args) (queue.Accepted, error)
}

// paceMarker ends the line a check run's summary says about its pull
// request's turn, so that the turn can replace it.
const paceMarker = "<!-- dockopt:pacing -->"

// waitingLine is what the check run says about a pull request that waits
// for its turn.
func (w *Worker) waitingLine(d pacing.Decision) string {
	var b strings.Builder
	b.WriteString("**Fix pull request: waiting for its turn.** ")
	limits := fmt.Sprintf("dockopt opens at most %d new pull request%s an hour and keeps at most %d open in this installation, so that people can review them; the rest wait in line, most serious findings first.",
		d.PerHour, plural(d.PerHour), d.MaxOpen)
	place := fmt.Sprintf(" This repository is %s of %d in line", ordinal(d.Position), d.Waiting)
	switch d.Because {
	case pacing.OpenLimit:
		fmt.Fprintf(&b, "%s%s; %d of dockopt's pull requests are open, so its turn comes when people merge or close some of them.", limits, place, d.MaxOpen)
	case pacing.BudgetLimit:
		fmt.Fprintf(&b, "GitHub lets an installation make %d content-creating requests an hour; dockopt spends them on check runs first, and this pull request follows at about %s.",
			budget.GitHubPerHour, clockTime(d.ResumeAt))
	default:
		fmt.Fprintf(&b, "%s%s; its turn comes at about %s, unless repositories with more serious findings join the line first.", limits, place, clockTime(d.ResumeAt))
	}
	b.WriteString(" Comment `/dockopt recreate` on an issue to have it opened now.")
	return b.String() + " " + paceMarker
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func clockTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("15:04 UTC on Jan 2")
}

// paced wraps the proposals of one run: a new pull request asks the pacer
// for a place first, and is counted once opened.
type paced struct {
	w    *Worker
	inst int64
	repo string
	// asked: a person asked for the pull request.
	asked bool
}

// admit decides whether a new pull request may be opened now. Without a
// pacer every pull request may.
func (p paced) admit(ctx context.Context, branch, sha string, runID int64, priority int) (pacing.Decision, error) {
	if p.w.Pacer == nil {
		return pacing.Decision{Admitted: true}, nil
	}
	d, err := p.w.Pacer.Admit(ctx, pacing.Want{Installation: p.inst, Repo: p.repo, Branch: branch, SHA: sha, CheckRun: runID,
		Priority: priority, Asked: p.asked})
	if err != nil || d.Admitted {
		return d, err
	}
	return d, p.w.wake(ctx, p.inst)
}

// settle records what became of a granted place.
func (p paced) settle(ctx context.Context, branch string, o publish.Outcome) error {
	if p.w.Pacer == nil {
		return nil
	}
	if o.Action == publish.Opened {
		return p.w.Pacer.Opened(ctx, p.inst, p.repo, branch, o.Number)
	}
	return p.w.Pacer.Release(ctx, p.inst, p.repo, branch)
}

// wake makes sure the installation's pace job will run.
func (w *Worker) wake(ctx context.Context, inst int64) error {
	if w.Queue == nil {
		return nil
	}
	id := fmt.Sprintf("dockopt-pace-%d-%d", inst, time.Now().UnixNano())
	_, err := w.Queue.Accept(ctx, queue.Delivery{ID: id, Event: "dockopt_pace"}, []jobs.Args{jobs.Pace{InstallationID: inst, DeliveryID: id}})
	return err
}

func (w *Worker) recheck() time.Duration {
	if w.Recheck > 0 {
		return w.Recheck
	}
	return DefaultRecheck
}

func (w *Worker) now() time.Time {
	if w.Clock != nil {
		return w.Clock()
	}
	return time.Now()
}

// snoozeFor is the wait before a job comes back at t, on the worker's
// clock, never longer than a recheck.
func (w *Worker) snoozeFor(t time.Time) error {
	d := time.Duration(0)
	if !t.IsZero() {
		d = t.Sub(w.now())
	}
	if t.IsZero() || d > w.recheck() {
		d = w.recheck()
	}
	return river.JobSnooze(max(d, 0))
}

// pace opens the pull requests whose turn has come and comes back while
// others wait.
func (w *Worker) pace(ctx context.Context, j jobs.Pace) error {
	if w.Pacer == nil {
		return nil
	}
	in, err := w.GitHub.Installation(j.InstallationID)
	if err != nil {
		return queue.Permanent(err)
	}
	turn, err := w.Pacer.Due(ctx, j.InstallationID)
	if err != nil {
		return err
	}
	if len(turn.Refresh) > 0 {
		for _, o := range turn.Refresh {
			owner, name, _ := strings.Cut(o.Repo, "/")
			pr, _, err := in.Client.PullRequests.Get(ctx, owner, name, o.Number)
			if err != nil && !publish.IsNotFound(err) {
				return fmt.Errorf("reading %s#%d: %w", o.Repo, o.Number, err)
			}
			if err != nil || pr.GetState() != "open" {
				if err := w.Pacer.Closed(ctx, j.InstallationID, o.Repo, o.Number); err != nil {
					return err
				}
			}
		}
		if turn, err = w.Pacer.Due(ctx, j.InstallationID); err != nil {
			return err
		}
	}
	for _, g := range turn.Granted {
		if err := w.takeTurn(ctx, in.Client, j.InstallationID, g); err != nil {
			// The place goes back to the line, where it keeps its seniority.
			if rerr := w.Pacer.Requeue(ctx, j.InstallationID, g); rerr != nil {
				return rerr
			}
			return err
		}
	}
	if len(turn.Granted) > 0 {
		// More may be due; look again at once.
		return river.JobSnooze(0)
	}
	if turn.Waiting == 0 {
		return nil
	}
	return w.snoozeFor(turn.Next)
}

// takeTurn opens the pull request of a repository whose turn has come,
// from the commit its check run was on, and says so on that check run.
func (w *Worker) takeTurn(ctx context.Context, gh *github.Client, inst int64, g pacing.Waiter) error {
	owner, name, _ := strings.Cut(g.Repo, "/")
	_, repo, err := w.repository(ctx, inst, owner, name)
	if publish.IsNotFound(err) {
		w.log().Info("a repository left the installation while waiting for its pull request", "repository", g.Repo)
		return w.Pacer.Forget(ctx, inst, g.Repo, g.Branch)
	}
	if err != nil {
		return err
	}
	return w.holdBranch(ctx, owner, name, g.Branch, func(ctx context.Context, _ *leases.Lease) error {
		return w.proposeInTurn(ctx, gh, inst, repo, g)
	})
}

// proposeInTurn is takeTurn once the job holds the branch's lease.
func (w *Worker) proposeInTurn(ctx context.Context, gh *github.Client, inst int64, repo *github.Repository, g pacing.Waiter) error {
	owner, name, _ := strings.Cut(g.Repo, "/")
	in, err := w.GitHub.Installation(inst)
	if err != nil {
		return err
	}
	j := branchJob{inst: inst, owner: owner, repo: name, branch: g.Branch, sha: g.SHA}
	src, err := w.checkout(ctx, in, repo, j)
	if src != nil {
		defer src.co.Close()
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return w.dropTurn(ctx, inst, g, "its repository's configuration no longer works")
	}
	if err != nil {
		return err
	}
	if !src.cfg.IsEnabled() || src.cfg.Output.Mode == "check-only" {
		return w.dropTurn(ctx, inst, g, "the repository no longer wants pull requests")
	}
	cfg, err := w.withWaivers(ctx, repo.GetFullName(), src.cfg)
	if err != nil {
		return err
	}
	out, err := w.engine(ctx, src.co.Dir, src.co.FS(), &sandbox.Request{Title: repo.GetFullName(), Config: cfg,
		ReportURL: reportURL(owner, name, publish.BranchName(g.Branch))})
	if errors.As(err, &perm) {
		return w.dropTurn(ctx, inst, g, "its analysis is over the budget")
	}
	if err != nil {
		return err
	}
	wr := writersFor(gh, owner, name)
	pulls, err := wr.proposals.Pulls(ctx, g.Branch)
	if err != nil {
		return err
	}
	files := w.proposedFiles(src.co.Root, out.Changes)
	if len(files) == 0 || pulls.Open != nil {
		if pulls.Open != nil {
			if err := w.Pacer.Track(ctx, inst, g.Repo, g.Branch, pulls.Open.GetNumber()); err != nil {
				return err
			}
		}
		return w.dropTurn(ctx, inst, g, "there is nothing new to propose")
	}
	outcome, line, err := w.propose(ctx, wr, j, src.co, cfg, out, files, pulls)
	if err != nil {
		return err
	}
	if err := (paced{w: w, inst: inst, repo: g.Repo}).settle(ctx, g.Branch, outcome); err != nil {
		return err
	}
	w.log().Info("pull request opened in its turn", "repository", g.Repo, "action", outcome.Action, "number", outcome.Number)
	if line == "" {
		return nil
	}
	note := fmt.Sprintf("**Fix pull request: its turn came at %s.** %s %s", clockTime(w.now()), line, paceMarker)
	return wr.checks.Amend(ctx, g.SHA, g.CheckRun, paceMarker, note)
}

// dropTurn gives back a place whose pull request is not wanted any more.
func (w *Worker) dropTurn(ctx context.Context, inst int64, g pacing.Waiter, why string) error {
	w.log().Info("a waiting pull request is not opened", "repository", g.Repo, "why", why)
	if err := w.Pacer.Release(ctx, inst, g.Repo, g.Branch); err != nil {
		return err
	}
	return w.Pacer.Forget(ctx, inst, g.Repo, g.Branch)
}

// spentToSnooze turns a job that ran out of the installation's budget
// into one that comes back when there is room again.
func spentToSnooze[T jobs.Args](w *Worker, f func(context.Context, T) error) func(context.Context, T) error {
	return func(ctx context.Context, j T) error {
		err := f(ctx, j)
		var spent *ghclient.SpentError
		if errors.As(err, &spent) {
			w.log().Info("content-creation budget spent; the job comes back later", "installation", spent.Installation, "until", spent.Until)
			return w.snoozeFor(spent.Until)
		}
		return err
	}
}
