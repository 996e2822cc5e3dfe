package worker

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/openruns"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/templates"
)

// fakeRuns is GitHub's check runs of one repository, as trackedRuns sees
// them.
type fakeRuns struct {
	next    int64
	status  map[int64]string // id → in_progress / completed
	sha     map[int64]string
	titles  map[int64]string
	created int
	// annotations counts the annotations sent to each run.
	annotations map[int64]int
}

func newFakeRuns() *fakeRuns {
	return &fakeRuns{next: 100, status: map[int64]string{}, sha: map[int64]string{}, titles: map[int64]string{}, annotations: map[int64]int{}}
}

func (f *fakeRuns) open(sha string) int64 {
	f.next++
	f.status[f.next], f.sha[f.next] = "in_progress", sha
	return f.next
}

func (f *fakeRuns) Start(_ context.Context, sha string) (int64, error) {
	f.created++
	return f.open(sha), nil
}

func (f *fakeRuns) Finish(_ context.Context, id int64, _ string, out templates.CheckOutput, annotations []*github.CheckRunAnnotation, _ []*github.CheckRunAction) error {
	f.status[id], f.titles[id] = "completed", out.Title
	f.annotations[id] += len(annotations)
	return nil
}

func (f *fakeRuns) Fail(_ context.Context, id int64, _, title, _ string) error {
	f.status[id], f.titles[id] = "completed", title
	return nil
}

func (f *fakeRuns) Unfinished(_ context.Context, sha string) ([]int64, error) {
	var ids []int64
	for id := f.next; id > 100; id-- {
		if f.sha[id] == sha && f.status[id] != "completed" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (f *fakeRuns) Amend(context.Context, string, int64, string, string) error { return nil }

// TestRunsOfAnAttemptThatDiedWhileCreatingThem: an attempt that died
// between recording that it was creating a run and recording its ID left
// a run GitHub has in progress; the retry on the same commit finds and
// completes it, and a job on a newer commit concludes one left on an
// older commit.
func TestRunsOfAnAttemptThatDiedWhileCreatingThem(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		store, err := openruns.Open(ctx, queuetest.Database(t, url))
		if err != nil {
			t.Fatal(err)
		}
		gh := newFakeRuns()
		w := &Worker{OpenRuns: store}

		// The dead attempt.
		if err := store.Begin(ctx, "acme/shop", "branch:main", "aaa"); err != nil {
			t.Fatal(err)
		}
		orphan := gh.open("aaa")

		retry := w.tracked(gh, "acme/shop", "branch:main")
		id, err := retry.Start(ctx, "aaa")
		if err != nil || id != orphan || gh.created != 0 {
			t.Fatalf("the retry started run %d (%v, %d created), want the orphan %d reused", id, err, gh.created, orphan)
		}
		// It dies too, after recording the ID; the next job is on a newer
		// commit.
		next := w.tracked(gh, "acme/shop", "branch:main")
		id, err = next.Start(ctx, "bbb")
		if err != nil || id == orphan || gh.created != 1 {
			t.Fatalf("the newer commit's run: %d, %v", id, err)
		}
		if gh.status[orphan] != "completed" || gh.titles[orphan] != staleTitle {
			t.Errorf("the older commit's run is %s %q, want concluded as stale", gh.status[orphan], gh.titles[orphan])
		}
		if err := next.Finish(ctx, id, "success", templates.CheckOutput{Title: "ok"}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if left, err := store.List(ctx, "acme/shop", "branch:main"); err != nil || len(left) != 0 {
			t.Errorf("open runs after every run concluded: %+v, %v", left, err)
		}
		// Another scope is not touched.
		if err := store.Started(ctx, "acme/shop", "pull:3", "ccc", gh.open("ccc")); err != nil {
			t.Fatal(err)
		}
		if _, err := w.tracked(gh, "acme/shop", "branch:main").Start(ctx, "ddd"); err != nil {
			t.Fatal(err)
		}
		if left, _ := store.List(ctx, "acme/shop", "pull:3"); len(left) != 1 {
			t.Errorf("a pull request's open run was concluded by a branch job: %+v", left)
		}
	})
}

// TestRetryReportsAgainOnTheRunItsAttemptCompleted: an attempt whose
// completing request landed but whose answer never came (the process died)
// left the run in the ledger; the retry on the same commit reports on that
// run again, without sending its annotations a second time, and opens no
// other run.
func TestRetryReportsAgainOnTheRunItsAttemptCompleted(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		store, err := openruns.Open(ctx, queuetest.Database(t, url))
		if err != nil {
			t.Fatal(err)
		}
		gh := newFakeRuns()
		w := &Worker{OpenRuns: store}
		annotations := []*github.CheckRunAnnotation{{}, {}, {}}

		dead := w.tracked(gh, "acme/shop", "branch:main")
		first, err := dead.Start(ctx, "aaa")
		if err != nil {
			t.Fatal(err)
		}
		// The attempt's Finish reaches GitHub; the attempt dies before it
		// hears back (so the ledger keeps the run).
		gh.Finish(ctx, first, "failure", templates.CheckOutput{Title: "3 findings"}, annotations, nil)

		retry := w.tracked(gh, "acme/shop", "branch:main")
		id, err := retry.Start(ctx, "aaa")
		if err != nil || id != first || gh.created != 1 {
			t.Fatalf("the retry started run %d (%v, %d created), want %d reused", id, err, gh.created, first)
		}
		if err := retry.Finish(ctx, id, "failure", templates.CheckOutput{Title: "3 findings"}, annotations, nil); err != nil {
			t.Fatal(err)
		}
		if gh.annotations[first] != len(annotations) {
			t.Errorf("the run got %d annotations, want %d, each once", gh.annotations[first], len(annotations))
		}
		if left, err := store.List(ctx, "acme/shop", "branch:main"); err != nil || len(left) != 0 {
			t.Errorf("open runs after the retry concluded: %+v, %v", left, err)
		}
	})
}
