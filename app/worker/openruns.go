package worker

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/openruns"
	"github.com/dockopt/dockopt/templates"
)

// OpenRunStore remembers the check runs jobs started and did not conclude
// (app/openruns).
type OpenRunStore interface {
	List(ctx context.Context, repo, scope string) ([]openruns.Run, error)
	Begin(ctx context.Context, repo, scope, sha string) error
	Started(ctx context.Context, repo, scope, sha string, id int64) error
	Concluded(ctx context.Context, repo, scope, sha string) error
}

// trackedRuns are the check runs of one scope of a repository (a branch,
// a pull request) recorded while they are open, so that none stays in
// progress when a job dies:
//   - Start reuses the run an earlier attempt opened on the same commit;
//   - Start concludes the runs left open on other commits of the scope,
//     which no job will come back to (a newer push replaced their job);
//   - Finish and Fail forget the run once it is concluded;
//   - a run the ledger holds that GitHub has completed was completed by an
//     attempt that died before forgetting it: the retry reports on it
//     again, without its annotations, which it carries already (the
//     completing request is the last, app/publish), rather than open a
//     second run on the commit.
//
// Only one job at a time may work on a scope: the branch's lease (app/
// leases) or the pull request's.
type trackedRuns struct {
	checkRuns
	store       OpenRunStore
	repo, scope string
	shas        map[int64]string
	completed   map[int64]bool // reused runs GitHub has completed
}

// tracked wraps a repository's check runs for one scope; without a store
// they are returned as they are.
func (w *Worker) tracked(runs checkRuns, repo, scope string) checkRuns {
	if w.OpenRuns == nil {
		return runs
	}
	return &trackedRuns{checkRuns: runs, store: w.OpenRuns, repo: repo, scope: scope, shas: map[int64]string{}, completed: map[int64]bool{}}
}

// Stale check runs are concluded neutral with this title.
const staleTitle = "dockopt stopped before finishing"

func (t *trackedRuns) Start(ctx context.Context, sha string) (int64, error) {
	open, err := t.store.List(ctx, t.repo, t.scope)
	if err != nil {
		return 0, err
	}
	mine := -1
	for i, r := range open {
		if r.SHA == sha {
			mine = i
			continue
		}
		if err := t.conclude(ctx, r); err != nil {
			return 0, err
		}
	}
	if mine >= 0 {
		id, err := t.reusable(ctx, open[mine])
		if err != nil {
			return 0, err
		}
		if id != 0 {
			t.shas[id] = sha
			return id, nil
		}
	}
	if err := t.store.Begin(ctx, t.repo, t.scope, sha); err != nil {
		return 0, err
	}
	id, err := t.checkRuns.Start(ctx, sha)
	if err != nil {
		return 0, err
	}
	t.shas[id] = sha
	return id, t.store.Started(ctx, t.repo, t.scope, sha, id)
}

// reusable is the run an earlier attempt opened on r.SHA, else 0. A run
// whose ID was never recorded (the attempt died while GitHub created it)
// is found among the commit's runs in progress.
func (t *trackedRuns) reusable(ctx context.Context, r openruns.Run) (int64, error) {
	ids, err := t.checkRuns.Unfinished(ctx, r.SHA)
	if err != nil {
		return 0, err
	}
	switch {
	case r.ID != 0 && slices.Contains(ids, r.ID):
		return r.ID, nil
	case r.ID != 0:
		// Completed, and still in the ledger: the completion landed and
		// its answer never reached the attempt.
		t.completed[r.ID] = true
		return r.ID, nil
	case r.ID == 0 && len(ids) > 0:
		return ids[0], t.store.Started(ctx, t.repo, t.scope, r.SHA, ids[0])
	}
	return 0, nil
}

// conclude ends a run left open on a commit no job will come back to.
func (t *trackedRuns) conclude(ctx context.Context, r openruns.Run) error {
	ids, err := t.checkRuns.Unfinished(ctx, r.SHA)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if r.ID != 0 && id != r.ID {
			continue
		}
		summary := fmt.Sprintf("The job analyzing `%s` ended before it could report (its process stopped, or it ran out of time), and a newer commit was analyzed instead: see the dockopt check run on that commit. "+
			"Comment `/dockopt rerun` or re-run this check to analyze this commit again.", short(r.SHA))
		if err := t.checkRuns.Fail(ctx, id, "neutral", staleTitle, summary); err != nil {
			return err
		}
	}
	return t.store.Concluded(ctx, t.repo, t.scope, r.SHA)
}

func (t *trackedRuns) Finish(ctx context.Context, id int64, conclusion string, out templates.CheckOutput, annotations []*github.CheckRunAnnotation, actions []*github.CheckRunAction) error {
	if t.completed[id] {
		annotations = nil // GitHub would add them a second time
	}
	if err := t.checkRuns.Finish(ctx, id, conclusion, out, annotations, actions); err != nil {
		return err
	}
	return t.forget(ctx, id)
}

func (t *trackedRuns) Fail(ctx context.Context, id int64, conclusion, title, summary string) error {
	if err := t.checkRuns.Fail(ctx, id, conclusion, title, summary); err != nil {
		return err
	}
	return t.forget(ctx, id)
}

func (t *trackedRuns) forget(ctx context.Context, id int64) error {
	sha, ok := t.shas[id]
	if !ok {
		return nil
	}
	delete(t.shas, id)
	delete(t.completed, id)
	return t.store.Concluded(ctx, t.repo, t.scope, sha)
}
