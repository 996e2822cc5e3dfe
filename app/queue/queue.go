// Package queue is the app's durable job queue: River on an embedded SQLite
// file by default, or on PostgreSQL when several replicas share the work.
//
// Intake calls Accept, which records a webhook delivery and its jobs in one
// transaction; Start runs each job with the handler of its kind (Handle).
// Two guarantees hold across crashes and redeliveries:
//
//   - nothing accepted is lost: a delivery is answered only after its row and
//     its jobs are committed, and a job left running by a killed process is
//     rescued by River and run again;
//   - only the newest commit matters: pushes to one branch, and updates of
//     one pull request, coalesce into one job that processes the newest
//     commit received, even when the push arrives while an older one runs.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/metrics"
)

// Handler runs the jobs of one kind; Handle makes one.
type Handler interface {
	register(ws *river.Workers, r runner) error
}

// Handle makes f run the jobs of T's kind. For a coalescing kind
// (jobs.Coalescing), job carries the newest arguments received for its
// key, which may be newer than those that created the job.
//
// The returned error decides what happens next:
//   - nil: the job is done;
//   - an error wrapped with Permanent (or river.JobCancel): the job fails
//     for good, with no retry (bad input, repository gone, access revoked);
//   - river.JobSnooze(d): run again after d without counting an attempt
//     (for instance when GitHub asks to wait for a rate limit);
//   - any other error is transient: the job is retried with exponential
//     backoff until Options.MaxAttempts, then discarded.
//
// f must return when ctx is cancelled; the queue cancels it on shutdown
// past the deadline and when Options.JobTimeout expires.
func Handle[T jobs.Args](f func(ctx context.Context, job T) error) Handler { return handler[T](f) }

type handler[T jobs.Args] func(ctx context.Context, job T) error

func (h handler[T]) register(ws *river.Workers, r runner) error {
	return river.AddWorkerSafely[T](ws, &kindWorker[T]{r: r, f: h})
}

// runner is the engine as the workers of each kind see it; unlike them,
// it is generic in the database driver, not in the job's type.
type runner interface {
	// run calls f on the job's arguments, on the newest received for a
	// coalescing kind (read with decode), and records the outcome.
	run(ctx context.Context, row *rivertype.JobRow, args jobs.Args, decode func(raw string) (jobs.Args, error), f func(context.Context, jobs.Args) error) error
}

// kindWorker is River's worker for the jobs of one kind.
type kindWorker[T jobs.Args] struct {
	river.WorkerDefaults[T]
	r runner
	f handler[T]
}

func (w *kindWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	decode := func(raw string) (jobs.Args, error) {
		var args T
		err := json.Unmarshal([]byte(raw), &args)
		return args, err
	}
	return w.r.run(ctx, job.JobRow, job.Args, decode, func(ctx context.Context, args jobs.Args) error {
		return w.f(ctx, args.(T))
	})
}

// Permanent marks err as a failure that retrying cannot fix.
func Permanent(err error) error { return river.JobCancel(err) }

// JobInfo describes the job being processed.
type JobInfo struct {
	ID          int64
	Kind        string
	Attempt     int
	MaxAttempts int
	// Created is when the job was queued.
	Created time.Time
	// Snoozes counts the times the job was snoozed before this run.
	Snoozes int
}

type jobInfoKey struct{}

// Info returns the job ctx belongs to, for logs; ok is false outside a job.
func Info(ctx context.Context) (info JobInfo, ok bool) {
	info, ok = ctx.Value(jobInfoKey{}).(JobInfo)
	return info, ok
}

// Options tune the queue. The zero value is fit for production.
type Options struct {
	// Workers is how many jobs run at once in this process (default 4).
	Workers int
	// MaxAttempts bounds the runs of a failing job before it is discarded
	// (default 8: with River's attempt⁴-second backoff, about two hours).
	MaxAttempts int
	// JobTimeout cancels a job's context after this long (default 30 min:
	// a clone, an analysis and two BuildKit builds).
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before River
	// decides its process died and runs it again. It must be at least
	// JobTimeout (default JobTimeout + 5 min). Tests set it short.
	RescueStuckJobsAfter time.Duration
	// DeadJobAfter is how long a running job may go without a sign of
	// life from its process (renewed every third of it) before it is run
	// again, whatever its timeout (default DefaultDeadJobAfter).
	DeadJobAfter time.Duration
	// RetryPolicy replaces River's default backoff; tests use a fast one.
	RetryPolicy river.ClientRetryPolicy
	// LeaderElectionDisabled keeps this process out of River's maintenance
	// (rescue, scheduling, cleanup); another process must run it.
	LeaderElectionDisabled bool
	// Logger receives the queue's logs and River's (default slog.Default).
	Logger *slog.Logger
	// Metrics, when set, receives jobs_total, job_duration_seconds and the
	// queue_depth source.
	Metrics *metrics.Metrics
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 30 * time.Minute
	}
	if o.RescueStuckJobsAfter <= 0 {
		o.RescueStuckJobsAfter = o.JobTimeout + 5*time.Minute
	}
	if o.DeadJobAfter <= 0 {
		o.DeadJobAfter = DefaultDeadJobAfter
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Delivery identifies one webhook delivery.
type Delivery struct {
	ID     string // X-GitHub-Delivery, the same on every redelivery
	Event  string // X-GitHub-Event
	Action string
}

// Outcome says what Accept did with a delivery.
type Outcome string

const (
	// Queued: a first delivery, recorded with its jobs.
	Queued Outcome = "queued"
	// Requeued: a redelivery of a delivery one of whose jobs failed for
	// good; the failed jobs are queued again.
	Requeued Outcome = "requeued"
	// Done: a redelivery of a delivery whose jobs all completed; nothing to do.
	Done Outcome = "duplicate-done"
	// InFlight: a redelivery of a delivery whose jobs are still queued or
	// running; nothing to do.
	InFlight Outcome = "duplicate-in-flight"
)

// Accepted is the result of Accept.
type Accepted struct {
	Outcome Outcome
	// JobIDs are the jobs now standing for the delivery, one per job passed
	// to Accept. A coalesced job shares its ID with other deliveries.
	JobIDs []int64
}

// Queue is an open queue. Accept may be called before Start: jobs wait in
// the database until a handler runs them.
type Queue struct {
	b       backend
	opts    Options
	started atomic.Bool
}

// backend is the River client and its database behind one driver. The two
// drivers differ in their transaction type (*sql.Tx and pgx.Tx), which River
// carries as a type parameter; engine implements backend once for both, and
// only the constructors in sqlite.go and postgres.go differ.
type backend interface {
	accept(ctx context.Context, d Delivery, js []jobs.Args) (Accepted, error)
	register(h Handler) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	job(ctx context.Context, id int64) (*rivertype.JobRow, error)
	ping(ctx context.Context) error
	depth(ctx context.Context) (int64, error)
	migrateMore(ctx context.Context, statements []string) error
	exec(ctx context.Context, query string, args ...any) (int64, error)
	queryRow(ctx context.Context, query string, args []any, dest ...any) error
	close() error
}

// Database lends the queue's database to the app's small stores that keep
// their own tables beside the queue's (the waivers of `/dockopt ignore`):
// one connection pool, one set of SQLite settings, one migration lock.
// Statements use $N placeholders and SQL that SQLite and PostgreSQL both
// accept.
type Database struct{ b backend }

// Database is the queue's database.
func (q *Queue) Database() *Database { return &Database{q.b} }

// Migrate runs idempotent statements (CREATE TABLE IF NOT EXISTS …) in
// one transaction, while no other process migrates.
func (d *Database) Migrate(ctx context.Context, statements ...string) error {
	return d.b.migrateMore(ctx, statements)
}

// Exec runs one statement in a transaction of its own and returns the
// number of rows it changed.
func (d *Database) Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error) {
	return d.b.exec(ctx, query, args...)
}

// QueryRow scans the first row of a query into dest; found is false when
// there is no row.
func (d *Database) QueryRow(ctx context.Context, query string, args []any, dest ...any) (found bool, err error) {
	err = d.b.queryRow(ctx, query, args, dest...)
	if errors.Is(err, errNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Open connects to databaseURL, runs River's migrations and the queue's own,
// and returns a queue ready to accept jobs.
//
// databaseURL is "postgres://…" or "postgresql://…" for PostgreSQL;
// anything else names a SQLite file: "sqlite://PATH", "sqlite:PATH",
// "file:PATH" or a plain PATH (created when missing).
func Open(ctx context.Context, databaseURL string, opts Options) (*Queue, error) {
	opts.defaults()
	q := &Queue{opts: opts}
	var err error
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		q.b, err = openPostgres(ctx, databaseURL, q)
	} else {
		q.b, err = openSQLite(ctx, databaseURL, q)
	}
	if err != nil {
		return nil, err
	}
	if opts.Metrics != nil {
		opts.Metrics.SetQueueDepthSource(q.Depth)
	}
	return q, nil
}

// Accept records a delivery and its jobs durably, in one transaction, and
// deduplicates redeliveries by delivery ID (see Outcome). An empty js
// records nothing.
func (q *Queue) Accept(ctx context.Context, d Delivery, js []jobs.Args) (Accepted, error) {
	if d.ID == "" {
		return Accepted{}, errors.New("queue: delivery without an ID")
	}
	if len(js) == 0 {
		return Accepted{Outcome: Queued}, nil
	}
	return q.b.accept(ctx, d, js)
}

// Start runs jobs with the handlers, one per kind, until Stop. A job of a
// kind without a handler fails. Jobs' contexts carry ctx's values but not
// its cancellation: River would take a cancelled start context as an
// abrupt stop that cancels running jobs, while a shutdown should let them
// finish; Stop decides that.
func (q *Queue) Start(ctx context.Context, handlers ...Handler) error {
	if len(handlers) == 0 {
		return errors.New("queue: no handlers")
	}
	if !q.started.CompareAndSwap(false, true) {
		return errors.New("queue: already started")
	}
	for _, h := range handlers {
		if err := q.b.register(h); err != nil {
			return fmt.Errorf("queue: %w", err)
		}
	}
	return q.b.start(context.WithoutCancel(ctx))
}

// CancelGrace is how long Stop gives jobs it cancelled at the shutdown
// deadline to return and record the failed attempt, so that the next
// process retries them at once instead of waiting for the rescue of a job
// whose process died.
const CancelGrace = 10 * time.Second

// Stop stops fetching jobs and waits for running ones until ctx is done;
// then it cancels them and waits for them to return. A cancelled job counts
// as a failed attempt and is retried by the next process; a job whose
// process dies instead is rescued after RescueStuckJobsAfter. Either way
// nothing is lost.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.started.Load() {
		return nil
	}
	err := q.b.stop(ctx)
	if err != nil && ctx.Err() != nil {
		q.opts.Logger.Warn("jobs still running at the shutdown deadline; cancelling them")
		// A fresh context: the first one is spent, and cancelled jobs need
		// a moment to record their failure.
		cctx, cancel := context.WithTimeout(context.Background(), CancelGrace)
		defer cancel()
		err = q.b.stopAndCancel(cctx)
	}
	return err
}

// Close releases the database. Call it after Stop.
func (q *Queue) Close() error { return q.b.close() }

// Subscribe returns River's job events (river.EventKindJobCompleted, …) for
// the given kinds, and a function that ends the subscription. Tests wait on
// it instead of sleeping.
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return q.b.subscribe(kinds...)
}

// Job returns a job's current row.
func (q *Queue) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return q.b.job(ctx, id)
}

// Ping checks that the database answers.
func (q *Queue) Ping(ctx context.Context) error { return q.b.ping(ctx) }

// Depth counts the jobs waiting to run: available, scheduled, retryable or
// pending (running jobs excluded).
func (q *Queue) Depth(ctx context.Context) (int64, error) { return q.b.depth(ctx) }

// recordJob reports one execution of a job to the metrics and the log.
func (q *Queue) recordJob(ctx context.Context, row *rivertype.JobRow, args jobs.Args, started time.Time, err error) {
	outcome := "ok"
	var cancelErr *river.JobCancelError
	var snoozeErr *river.JobSnoozeError
	switch {
	case err == nil:
	case errors.As(err, &cancelErr):
		outcome = "cancelled"
	case errors.As(err, &snoozeErr):
		outcome = "snoozed"
	case row.Attempt >= row.MaxAttempts:
		outcome = "discarded"
	default:
		outcome = "retry"
	}
	elapsed := time.Since(started)
	if m := q.opts.Metrics; m != nil {
		m.Jobs.WithLabelValues(row.Kind, outcome).Inc()
		m.JobDuration.WithLabelValues(row.Kind).Observe(elapsed.Seconds())
	}
	about := args.Subject()
	attrs := []any{"job_id", row.ID, "kind", row.Kind, "attempt", row.Attempt, "outcome", outcome, "duration_ms", elapsed.Milliseconds(),
		"installation", about.Installation, "repository", about.Repository, "delivery", about.Delivery}
	switch {
	case outcome == "snoozed":
		// A job waiting for its turn (the pace job, a spent budget) has
		// not failed.
		q.opts.Logger.InfoContext(ctx, "job snoozed", append(attrs, "for", snoozeErr.Duration.String())...)
		return
	case err != nil:
		q.opts.Logger.WarnContext(ctx, "job failed", append(attrs, "error", err.Error())...)
		return
	}
	q.opts.Logger.InfoContext(ctx, "job done", attrs...)
}
