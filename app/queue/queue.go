// Package queue is the app's durable job queue: River on an embedded SQLite
// file by default, or on PostgreSQL when several replicas share the work.
//
// Intake calls Accept, which records a webhook delivery and its jobs in one
// transaction; the worker implements Processor and receives one job at a
// time. Two guarantees hold across crashes and redeliveries:
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
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/metrics"
)

// Processor does the work of a job. The queue owns this interface; the
// worker implements it.
//
// job is one of the values of package jobs (jobs.AnalyzePush, jobs.AnalyzePR,
// jobs.AnalyzeRepo, jobs.Command, jobs.Rerun), never a pointer. For the
// coalescing kinds it carries the newest commit received for its branch or
// pull request, which may be newer than the one that created the job.
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
// Process must return when ctx is cancelled; the queue cancels it on
// shutdown past the deadline and when Options.JobTimeout expires.
type Processor interface {
	Process(ctx context.Context, job any) error
}

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(ctx context.Context, job any) error

func (f ProcessorFunc) Process(ctx context.Context, job any) error { return f(ctx, job) }

// Permanent marks err as a failure that retrying cannot fix.
func Permanent(err error) error { return river.JobCancel(err) }

// JobInfo describes the job being processed.
type JobInfo struct {
	ID          int64
	Kind        string
	Attempt     int
	MaxAttempts int
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
// the database until a processor runs them.
type Queue struct {
	b    backend
	opts Options
	proc atomic.Pointer[Processor]
}

// backend is the River client and its database behind one driver. The two
// drivers differ in their transaction type (*sql.Tx and pgx.Tx), which River
// carries as a type parameter; engine implements backend once for both, and
// only the constructors in sqlite.go and postgres.go differ.
type backend interface {
	accept(ctx context.Context, d Delivery, js []jobs.Args) (Accepted, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	job(ctx context.Context, id int64) (*rivertype.JobRow, error)
	ping(ctx context.Context) error
	depth(ctx context.Context) (int64, error)
	waivers(ctx context.Context, repo string) ([]Waiver, error)
	addWaiver(ctx context.Context, w Waiver) (bool, error)
	close() error
}

// Waiver is a rule waived for a repository by `/dockopt ignore RULE [PATH]`.
// It is kept in the queue's database so that every later run, on any
// replica, honours it without a commit to the repository.
type Waiver struct {
	Repo   string `json:"repo"` // owner/name
	Rule   string `json:"rule"`
	Path   string `json:"path,omitempty"`
	Author string `json:"author"`
	At     int64  `json:"at"` // Unix milliseconds
}

// Waivers returns the rules waived for a repository ("owner/name").
func (q *Queue) Waivers(ctx context.Context, repo string) ([]Waiver, error) {
	return q.b.waivers(ctx, repo)
}

// AddWaiver records a waiver; added is false when it was already there.
func (q *Queue) AddWaiver(ctx context.Context, w Waiver) (added bool, err error) {
	return q.b.addWaiver(ctx, w)
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

// Start runs jobs with p until Stop. Jobs' contexts carry ctx's values but
// not its cancellation: River would take a cancelled start context as an
// abrupt stop that cancels running jobs, while a shutdown should let them
// finish; Stop decides that.
func (q *Queue) Start(ctx context.Context, p Processor) error {
	if p == nil {
		return errors.New("queue: nil processor")
	}
	if !q.proc.CompareAndSwap(nil, &p) {
		return errors.New("queue: already started")
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
	if q.proc.Load() == nil {
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

func (q *Queue) processor() Processor {
	if p := q.proc.Load(); p != nil {
		return *p
	}
	return nil
}

// recordJob reports one execution of a job to the metrics and the log.
func (q *Queue) recordJob(ctx context.Context, row *rivertype.JobRow, args any, started time.Time, err error) {
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
	inst, repo, delivery := about(args)
	attrs := []any{"job_id", row.ID, "kind", row.Kind, "attempt", row.Attempt, "outcome", outcome, "duration_ms", elapsed.Milliseconds(),
		"installation", inst, "repository", repo, "delivery", delivery}
	if err != nil {
		q.opts.Logger.WarnContext(ctx, "job failed", append(attrs, "error", err.Error())...)
		return
	}
	q.opts.Logger.InfoContext(ctx, "job done", attrs...)
}

// about returns what logs say about a job: its installation, repository
// and the delivery that (last) asked for it.
func about(args any) (installation int64, repository, delivery string) {
	switch j := args.(type) {
	case jobs.AnalyzePush:
		return j.InstallationID, j.Owner + "/" + j.Repo, j.DeliveryID
	case jobs.AnalyzeRepo:
		return j.InstallationID, j.Owner + "/" + j.Repo, j.DeliveryID
	case jobs.AnalyzePR:
		return j.InstallationID, j.Owner + "/" + j.Repo, j.DeliveryID
	case jobs.Command:
		return j.InstallationID, j.Owner + "/" + j.Repo, j.DeliveryID
	case jobs.Rerun:
		return j.InstallationID, j.Owner + "/" + j.Repo, j.DeliveryID
	}
	return 0, "", ""
}
