package queue_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

func open(t *testing.T, url string, opts queue.Options) *queue.Queue {
	t.Helper()
	if opts.RetryPolicy == nil {
		opts.RetryPolicy = queuetest.FastRetry{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	q, err := queue.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		q.Close()
	})
	return q
}

// every runs f for the jobs of every kind these tests queue.
func every(f func(ctx context.Context, job any) error) []queue.Handler {
	return []queue.Handler{
		queue.Handle(func(ctx context.Context, j jobs.AnalyzePush) error { return f(ctx, j) }),
		queue.Handle(func(ctx context.Context, j jobs.AnalyzePR) error { return f(ctx, j) }),
		queue.Handle(func(ctx context.Context, j jobs.AnalyzeRepo) error { return f(ctx, j) }),
		queue.Handle(func(ctx context.Context, j jobs.Command) error { return f(ctx, j) }),
		queue.Handle(func(ctx context.Context, j jobs.Rerun) error { return f(ctx, j) }),
	}
}

// recorder records the jobs it receives and returns the errors it is told
// to, in order, then nil.
type recorder struct {
	mu   sync.Mutex
	seen []any
	errs []error
}

func (r *recorder) Process(ctx context.Context, job any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, job)
	if len(r.errs) > 0 {
		err := r.errs[0]
		r.errs = r.errs[1:]
		return err
	}
	return nil
}

func (r *recorder) jobs() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.seen...)
}

func push(sha string) jobs.AnalyzePush {
	return jobs.AnalyzePush{InstallationID: 1, Owner: "octo", Repo: "app", Branch: "main", DefaultBranch: "main", SHA: sha, DeliveryID: "d-" + sha}
}

func accept(t *testing.T, q *queue.Queue, id string, js ...jobs.Args) queue.Accepted {
	t.Helper()
	acc, err := q.Accept(context.Background(), queue.Delivery{ID: id, Event: "push"}, js)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestSameDeliveryRunsOnce(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		ev := queuetest.Subscribe(t, q)
		job := jobs.Command{InstallationID: 1, Owner: "octo", Repo: "app", IssueNumber: 3, Body: "/dockopt rerun"}

		first := accept(t, q, "delivery-1", job)
		if first.Outcome != queue.Queued || len(first.JobIDs) != 1 {
			t.Fatalf("first delivery: %+v", first)
		}
		if again := accept(t, q, "delivery-1", job); again.Outcome != queue.InFlight {
			t.Errorf("redelivery before the job ran: %s, want %s", again.Outcome, queue.InFlight)
		}
		rec := &recorder{}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		ev.Until(t, river.EventKindJobCompleted, first.JobIDs[0])

		again := accept(t, q, "delivery-1", job)
		if again.Outcome != queue.Done {
			t.Errorf("redelivery after completion: %s, want %s", again.Outcome, queue.Done)
		}
		if n, err := q.Depth(context.Background()); err != nil || n != 0 {
			t.Errorf("Depth = %d, %v; want 0 (nothing queued by the redelivery)", n, err)
		}
		if got := rec.jobs(); len(got) != 1 || got[0] != any(job) {
			t.Errorf("processed %v, want the command once", got)
		}
	})
}

func TestFailedDeliveryRedeliveredRunsAgain(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		ev := queuetest.Subscribe(t, q)
		rec := &recorder{errs: []error{queue.Permanent(errors.New("repository archived"))}}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		job := jobs.AnalyzeRepo{InstallationID: 1, Owner: "octo", Repo: "app"}
		first := accept(t, q, "delivery-2", job)
		ev.Until(t, river.EventKindJobCancelled, first.JobIDs[0])

		again := accept(t, q, "delivery-2", job)
		if again.Outcome != queue.Requeued || again.JobIDs[0] == first.JobIDs[0] {
			t.Fatalf("redelivery of a failed delivery: %+v, want a new job", again)
		}
		ev.Until(t, river.EventKindJobCompleted, again.JobIDs[0])
		if got := rec.jobs(); len(got) != 2 {
			t.Errorf("processed %d times, want 2 (failed, then redelivered)", len(got))
		}
		if third := accept(t, q, "delivery-2", job); third.Outcome != queue.Done {
			t.Errorf("third delivery: %s, want %s", third.Outcome, queue.Done)
		}
	})
}

func TestTransientErrorRetries(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{MaxAttempts: 3})
		ev := queuetest.Subscribe(t, q)
		rec := &recorder{errs: []error{errors.New("GitHub answered 502")}}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		acc := accept(t, q, "delivery-3", jobs.Rerun{InstallationID: 1, Owner: "octo", Repo: "app", HeadSHA: "abc"})
		ev.Until(t, river.EventKindJobFailed, acc.JobIDs[0])
		done := ev.Until(t, river.EventKindJobCompleted, acc.JobIDs[0])
		if done.Job.Attempt != 2 {
			t.Errorf("completed on attempt %d, want 2", done.Job.Attempt)
		}
	})
}

func TestPermanentAfterMaxAttemptsIsDiscarded(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{MaxAttempts: 2})
		ev := queuetest.Subscribe(t, q)
		boom := errors.New("still broken")
		rec := &recorder{errs: []error{boom, boom}}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		acc := accept(t, q, "delivery-4", jobs.AnalyzeRepo{Owner: "octo", Repo: "app"})
		for {
			e := ev.Until(t, river.EventKindJobFailed, acc.JobIDs[0])
			if e.Job.State == rivertype.JobStateDiscarded {
				break
			}
		}
		if got := len(rec.jobs()); got != 2 {
			t.Errorf("ran %d times, want MaxAttempts = 2", got)
		}
		// The failure is what makes a redelivery worth running.
		if again := accept(t, q, "delivery-4", jobs.AnalyzeRepo{Owner: "octo", Repo: "app"}); again.Outcome != queue.Requeued {
			t.Errorf("redelivery of a discarded job: %s", again.Outcome)
		}
	})
}

func TestPushesToOneBranchCoalesce(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		ev := queuetest.Subscribe(t, q)
		a := accept(t, q, "push-a", push("aaaa"))
		b := accept(t, q, "push-b", push("bbbb"))
		if a.JobIDs[0] != b.JobIDs[0] {
			t.Errorf("two waiting pushes to one branch made jobs %d and %d, want one", a.JobIDs[0], b.JobIDs[0])
		}
		other := push("cccc")
		other.Branch = "release"
		c := accept(t, q, "push-c", other)

		rec := &recorder{}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		ev.All(t, river.EventKindJobCompleted, a.JobIDs[0], c.JobIDs[0])
		var shas []string
		for _, j := range rec.jobs() {
			if p := j.(jobs.AnalyzePush); p.Branch == "main" {
				shas = append(shas, p.SHA+" "+p.DeliveryID)
			}
		}
		if len(shas) != 1 || shas[0] != "bbbb d-bbbb" {
			t.Errorf("main analyzed at %q, want only the newest push bbbb", shas)
		}
	})
}

// blocking is a recorder whose first call waits until released.
type blocking struct {
	recorder
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blocking) Process(ctx context.Context, job any) error {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.started)
		<-b.release
	}
	return b.recorder.Process(ctx, job)
}

func TestPushWhileOlderJobRunsIsNotLost(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		ev := queuetest.Subscribe(t, q)
		p := &blocking{started: make(chan struct{}), release: make(chan struct{})}
		if err := q.Start(context.Background(), every(p.Process)...); err != nil {
			t.Fatal(err)
		}
		a := accept(t, q, "push-a", push("aaaa"))
		<-p.started
		// River keeps one active job per branch, so the new push joins the
		// running one; the running job must notice it.
		b := accept(t, q, "push-b", push("bbbb"))
		close(p.release)
		done := ev.Until(t, river.EventKindJobCompleted, a.JobIDs[0])
		var shas []string
		for _, j := range p.jobs() {
			shas = append(shas, j.(jobs.AnalyzePush).SHA)
		}
		if len(shas) == 0 || shas[len(shas)-1] != "bbbb" {
			t.Fatalf("analyzed %v; the last analysis must be of bbbb", shas)
		}
		if b.JobIDs[0] != a.JobIDs[0] {
			// The push found the job finished and got its own: that one
			// must run too.
			ev.Until(t, river.EventKindJobCompleted, b.JobIDs[0])
		}
		_ = done
		if n, _ := q.Depth(context.Background()); n != 0 {
			t.Errorf("Depth = %d after everything ran", n)
		}
	})
}

func TestDepthCountsWaitingJobs(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		accept(t, q, "d1", jobs.AnalyzeRepo{Owner: "o", Repo: "a"}, jobs.AnalyzeRepo{Owner: "o", Repo: "b"})
		accept(t, q, "d2", push("aaaa"))
		if n, err := q.Depth(context.Background()); err != nil || n != 3 {
			t.Errorf("Depth = %d, %v; want 3", n, err)
		}
	})
}

// TestCrashedJobIsRescued kills a process in the middle of a job (a child
// process that exits from inside Process) and checks that a new process on
// the same database finishes the job, exactly once.
func TestCrashedJobIsRescued(t *testing.T) {
	if os.Getenv("DOCKOPT_CRASH_URL") != "" {
		crashChild()
		return
	}
	queuetest.Databases(t, func(t *testing.T, url string) {
		// The job is queued first, by a process that runs nothing.
		q0, err := queue.Open(context.Background(), url, queue.Options{})
		if err != nil {
			t.Fatal(err)
		}
		acc := accept(t, q0, "crash-1", jobs.AnalyzeRepo{Owner: "octo", Repo: "app"})
		q0.Close()

		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashedJobIsRescued$")
		cmd.Env = append(os.Environ(), "DOCKOPT_CRASH_URL="+url)
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
			t.Fatalf("child should die mid-job with status 3: %v\n%s", err, out)
		}

		q := open(t, url, queue.Options{JobTimeout: 200 * time.Millisecond, RescueStuckJobsAfter: 200 * time.Millisecond})
		row, err := q.Job(context.Background(), acc.JobIDs[0])
		if err != nil || row.State != rivertype.JobStateRunning {
			t.Fatalf("after the crash the job is %v (%v), want running", row.State, err)
		}
		ev := queuetest.Subscribe(t, q)
		rec := &recorder{}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		done := ev.Until(t, river.EventKindJobCompleted, acc.JobIDs[0])
		if done.Job.Attempt != 2 {
			t.Errorf("completed on attempt %d, want 2 (the crashed one, then this one)", done.Job.Attempt)
		}
		if n := len(rec.jobs()); n != 1 {
			t.Errorf("the new process ran the job %d times, want 1", n)
		}
	})
}

// crashChild takes the queued job and exits while processing it, leaving it
// running in the database as a killed process would. It stays out of leader
// election so that the next process becomes leader at once and rescues it.
func crashChild() {
	dead, _ := time.ParseDuration(os.Getenv("DOCKOPT_CRASH_DEAD_AFTER"))
	q, err := queue.Open(context.Background(), os.Getenv("DOCKOPT_CRASH_URL"), queue.Options{LeaderElectionDisabled: true, DeadJobAfter: dead})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	q.Start(context.Background(), every(func(context.Context, any) error {
		os.Exit(3)
		return nil
	})...)
	select {}
}

// TestDeadJobIsRescuedBeforeItsTimeout: a process dies mid-job; its job
// runs again once its process has stopped keeping it alive
// (DeadJobAfter), long before its timeout (River's own rescue waits for
// that, half an hour by default).
func TestDeadJobIsRescuedBeforeItsTimeout(t *testing.T) {
	if os.Getenv("DOCKOPT_CRASH_URL") != "" {
		crashChild()
		return
	}
	queuetest.Databases(t, func(t *testing.T, url string) {
		q0, err := queue.Open(context.Background(), url, queue.Options{})
		if err != nil {
			t.Fatal(err)
		}
		acc := accept(t, q0, "dead-1", jobs.AnalyzeRepo{Owner: "octo", Repo: "app"})
		q0.Close()

		const deadAfter = 300 * time.Millisecond
		cmd := exec.Command(os.Args[0], "-test.run=^TestDeadJobIsRescuedBeforeItsTimeout$")
		cmd.Env = append(os.Environ(), "DOCKOPT_CRASH_URL="+url, "DOCKOPT_CRASH_DEAD_AFTER="+deadAfter.String())
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
			t.Fatalf("child should die mid-job with status 3: %v\n%s", err, out)
		}

		// The default timeout: River alone would not run the job again
		// for 35 minutes.
		q := open(t, url, queue.Options{DeadJobAfter: deadAfter})
		ev := queuetest.Subscribe(t, q)
		rec := &recorder{}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		done := ev.Until(t, river.EventKindJobCompleted, acc.JobIDs[0])
		if done.Job.Attempt != 2 || len(done.Job.Errors) != 1 || !strings.Contains(done.Job.Errors[0].Error, "no sign of life") {
			t.Errorf("completed on attempt %d after %+v; want attempt 2 after the dead process's", done.Job.Attempt, done.Job.Errors)
		}
		if n := len(rec.jobs()); n != 1 {
			t.Errorf("the new process ran the job %d times, want 1", n)
		}
	})
}

func TestConcurrentCopiesOfOneDelivery(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		const copies = 8
		outcomes := make(chan queue.Outcome, copies)
		var wg sync.WaitGroup
		for range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				acc, err := q.Accept(context.Background(), queue.Delivery{ID: "same", Event: "issue_comment"},
					[]jobs.Args{jobs.Command{Owner: "octo", Repo: "app", IssueNumber: 1, Body: "/dockopt rerun"}})
				if err != nil {
					t.Error(err)
				}
				outcomes <- acc.Outcome
			}()
		}
		wg.Wait()
		close(outcomes)
		count := map[queue.Outcome]int{}
		for o := range outcomes {
			count[o]++
		}
		if count[queue.Queued] != 1 || count[queue.InFlight] != copies-1 {
			t.Errorf("outcomes %v, want one queued and the rest in flight", count)
		}
		if n, err := q.Depth(context.Background()); err != nil || n != 1 {
			t.Errorf("Depth = %d, %v; want exactly one job", n, err)
		}
	})
}

func TestPullRequestUpdatesCoalesce(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		ev := queuetest.Subscribe(t, q)
		pr := func(sha, action string) jobs.AnalyzePR {
			return jobs.AnalyzePR{InstallationID: 1, Owner: "octo", Repo: "app", Number: 7, HeadSHA: sha, HeadRef: "feature", BaseRef: "main", Action: action}
		}
		a := accept(t, q, "pr-1", pr("aaaa", "opened"))
		accept(t, q, "pr-2", pr("bbbb", "synchronize"))
		other := pr("cccc", "opened")
		other.Number = 8
		c := accept(t, q, "pr-3", other)
		rec := &recorder{}
		if err := q.Start(context.Background(), every(rec.Process)...); err != nil {
			t.Fatal(err)
		}
		ev.All(t, river.EventKindJobCompleted, a.JobIDs[0], c.JobIDs[0])
		var got []string
		for _, j := range rec.jobs() {
			p := j.(jobs.AnalyzePR)
			got = append(got, fmt.Sprintf("#%d %s %s", p.Number, p.HeadSHA, p.Action))
		}
		slices.Sort(got)
		if want := []string{"#7 bbbb synchronize", "#8 cccc opened"}; !slices.Equal(got, want) {
			t.Errorf("analyzed %q, want %q", got, want)
		}
	})
}

// TestReplicasStartTogether opens several queues on one fresh database at
// once, as replicas of a deployment do: the migrations must not race.
func TestReplicasStartTogether(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q, err := queue.Open(context.Background(), url, queue.Options{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Error(err)
					return
				}
				q.Close()
			}()
		}
		wg.Wait()
	})
}

func TestNewerPushSurvivesAFailure(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{})
		ev := queuetest.Subscribe(t, q)
		started, release := make(chan struct{}), make(chan struct{})
		var mu sync.Mutex
		var seen []string
		if err := q.Start(context.Background(), every(func(_ context.Context, job any) error {
			sha := job.(jobs.AnalyzePush).SHA
			mu.Lock()
			seen = append(seen, sha)
			mu.Unlock()
			if sha == "aaaa" {
				close(started)
				<-release
				return queue.Permanent(errors.New("bad commit"))
			}
			return nil
		})...); err != nil {
			t.Fatal(err)
		}
		a := accept(t, q, "push-a", push("aaaa"))
		<-started
		accept(t, q, "push-b", push("bbbb"))
		close(release)
		ev.Until(t, river.EventKindJobCompleted, a.JobIDs[0])
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(seen, []string{"aaaa", "bbbb"}) {
			t.Errorf("analyzed %v, want aaaa (failed) then bbbb", seen)
		}
	})
}

// TestEachKindRunsWithItsHandler: a handler receives its own type, and a
// kind nobody handles fails instead of being lost silently.
func TestEachKindRunsWithItsHandler(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q := open(t, url, queue.Options{MaxAttempts: 1})
		ev := queuetest.Subscribe(t, q)
		var mu sync.Mutex
		var commands []int64
		var prs []int
		err := q.Start(context.Background(),
			queue.Handle(func(_ context.Context, j jobs.Command) error {
				mu.Lock()
				defer mu.Unlock()
				commands = append(commands, j.CommentID)
				return nil
			}),
			queue.Handle(func(_ context.Context, j jobs.AnalyzePR) error {
				mu.Lock()
				defer mu.Unlock()
				prs = append(prs, j.Number)
				return nil
			}))
		if err != nil {
			t.Fatal(err)
		}
		acc := accept(t, q, "mixed", jobs.Command{InstallationID: 1, Owner: "octo", Repo: "app", CommentID: 7},
			jobs.AnalyzePR{InstallationID: 1, Owner: "octo", Repo: "app", Number: 4, HeadSHA: "aaaa"},
			jobs.Rerun{InstallationID: 1, Owner: "octo", Repo: "app", HeadSHA: "aaaa"})
		ended := map[int64]river.EventKind{}
		for len(ended) < len(acc.JobIDs) {
			e := ev.Next(t)
			ended[e.Job.ID] = e.Kind
		}
		want := []river.EventKind{river.EventKindJobCompleted, river.EventKindJobCompleted, river.EventKindJobFailed}
		for i, id := range acc.JobIDs {
			if ended[id] != want[i] {
				t.Errorf("job %d (%s) ended %s, want %s", id, []string{"command", "pull request", "rerun"}[i], ended[id], want[i])
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(commands, []int64{7}) || !slices.Equal(prs, []int{4}) {
			t.Errorf("commands %v, pull requests %v; want [7] and [4]", commands, prs)
		}
	})
}

func TestStartTwiceOrWithoutHandlersFails(t *testing.T) {
	q := open(t, queuetest.SQLite(t), queue.Options{})
	if err := q.Start(context.Background()); err == nil {
		t.Error("Start with no handlers should fail")
	}
	h := queue.Handle(func(context.Context, jobs.Command) error { return nil })
	if err := q.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background(), h); err == nil {
		t.Error("a second Start should fail")
	}
}

func TestSQLitePathForms(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{
		"sqlite://" + filepath.Join(dir, "a.db"),
		"sqlite:" + filepath.Join(dir, "b.db"),
		"file:" + filepath.Join(dir, "c.db"),
		filepath.Join(dir, "odd #1 100%.db"),
	} {
		q, err := queue.Open(context.Background(), u, queue.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		accept(t, q, "d", jobs.AnalyzeRepo{Owner: "o", Repo: "r"})
		q.Close()
	}
	for _, name := range []string{"a.db", "b.db", "c.db", "odd #1 100%.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("database file %s: %v", name, err)
		}
	}
	for _, bad := range []string{"sqlite://", "sqlite://x.db?mode=ro"} {
		if _, err := queue.Open(context.Background(), bad, queue.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}
