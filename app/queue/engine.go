package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/dockopt/dockopt/app/jobs"
)

// store is the little the engine needs from a database beyond River: a
// transaction of the driver's own type, and statements on it. Statements
// use $N placeholders and SQL that SQLite and PostgreSQL both accept.
type store[TTx any] interface {
	begin(ctx context.Context) (TTx, error)
	commit(ctx context.Context, tx TTx) error
	rollback(ctx context.Context, tx TTx)
	exec(ctx context.Context, tx TTx, query string, args ...any) (rowsAffected int64, err error)
	// queryRow scans one row into dest, or returns errNoRows.
	queryRow(ctx context.Context, tx TTx, query string, args []any, dest ...any) error
	// poolQueryRow is queryRow outside any transaction.
	poolQueryRow(ctx context.Context, query string, args []any, dest ...any) error
	// withMigrationLock runs f while no other process migrates.
	withMigrationLock(ctx context.Context, f func() error) error
	// transactionalDDL reports whether all migrations can run in one
	// transaction.
	transactionalDDL() bool
	ping(ctx context.Context) error
	close() error
}

var errNoRows = errors.New("no rows")

// errRaced reports a delivery recorded by a concurrent request.
var errRaced = errors.New("delivery recorded concurrently")

// deliveryRetention is how long a delivery is remembered for deduplication:
// GitHub lets a delivery be redelivered for 30 days (platform-facts §3.2).
// Failed and cancelled jobs are kept as long, so that a redelivery can
// still tell that its job failed.
const deliveryRetention = 30 * 24 * time.Hour

// migrations create the queue's own tables beside River's. They are
// idempotent and run at every start, after River's.
//
// dockopt_deliveries remembers each accepted delivery and the jobs that
// stand for it. dockopt_coalesce holds, per branch or pull request, the
// arguments of the newest job received and a version bumped on every
// update; the job that runs for that key processes these arguments.
// (Tables of other stores sharing the database, such as dockopt_waivers,
// are created by their owners through Database.Migrate.)
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS dockopt_deliveries (
		delivery_id  TEXT PRIMARY KEY,
		event        TEXT NOT NULL,
		action       TEXT NOT NULL,
		received_at  BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		redeliveries BIGINT NOT NULL,
		job_ids      TEXT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS dockopt_coalesce (
		key        TEXT PRIMARY KEY,
		args       TEXT NOT NULL,
		version    BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		checked_at BIGINT NOT NULL DEFAULT 0
	)`,
	aliveSchema,
}

// activeStates are the states in which a job will still run. A coalescing
// job is unique by key over them, so a new push finds the waiting or running
// job for its branch instead of adding a second one. River requires running
// among them; the completion check in run covers pushes that arrive while
// the job runs.
var activeStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

type engine[TDriver riverdriver.Driver[TTx], TTx any] struct {
	q      *Queue
	db     store[TTx]
	driver TDriver
	client *river.Client[TTx]
	// stopRescue ends rescueDead.
	stopRescue context.CancelFunc
	// workers gains the handlers' workers at Start; River reads the kinds
	// when it starts working.
	workers *river.Workers
}

func newEngine[TDriver riverdriver.Driver[TTx], TTx any](ctx context.Context, q *Queue, driver TDriver, db store[TTx]) (_ *engine[TDriver, TTx], err error) {
	defer func() {
		if err != nil {
			db.close()
		}
	}()
	e := &engine[TDriver, TTx]{q: q, db: db, driver: driver}
	riverLog := slog.New(minLevel{q.opts.Logger.Handler(), slog.LevelWarn})

	if err := e.migrate(ctx, driver, riverLog); err != nil {
		return nil, err
	}

	e.workers = river.NewWorkers()
	river.AddWorker(e.workers, &pruneWorker[TDriver, TTx]{e: e})

	var periodic []*river.PeriodicJob
	if !q.opts.LeaderElectionDisabled { // River runs periodic jobs on the leader only
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return pruneArgs{}, nil },
			&river.PeriodicJobOpts{ID: pruneKind, RunOnStart: true}))
	}
	e.client, err = river.NewClient[TTx](driver, &river.Config{
		CancelledJobRetentionPeriod: deliveryRetention,
		DiscardedJobRetentionPeriod: deliveryRetention,
		JobTimeout:                  q.opts.JobTimeout,
		LeaderElectionDisabled:      q.opts.LeaderElectionDisabled,
		Logger:                      riverLog,
		MaxAttempts:                 q.opts.MaxAttempts,
		Queues:                      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.opts.Workers}},
		RescueStuckJobsAfter:        q.opts.RescueStuckJobsAfter,
		RetryPolicy:                 q.opts.RetryPolicy,
		// Handlers are registered at Start, and a replica serving intake
		// only never registers them; Accept must not refuse their kinds.
		SkipUnknownJobCheck: true,
		Workers:             e.workers,
		PeriodicJobs:        periodic,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return e, nil
}

// migrate brings River's tables and dockopt's up to date without racing
// other processes starting on the same database (rivermigrate takes no lock
// of its own). SQLite runs everything in one IMMEDIATE transaction, which
// holds the database's write lock. PostgreSQL cannot (a River migration adds
// an enum value and then uses it), so the store holds an advisory lock
// around separate transactions.
func (e *engine[TDriver, TTx]) migrate(ctx context.Context, driver TDriver, log *slog.Logger) error {
	migrator, err := rivermigrate.New[TTx](driver, &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	return e.db.withMigrationLock(ctx, func() error {
		oneTx := e.db.transactionalDDL()
		if !oneTx {
			if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
				return fmt.Errorf("queue: migrating River's tables: %w", err)
			}
		}
		tx, err := e.db.begin(ctx)
		if err != nil {
			return fmt.Errorf("queue: migrating: %w", err)
		}
		defer e.db.rollback(ctx, tx)
		if oneTx {
			// River deprecates MigrateTx because some PostgreSQL migrations
			// cannot share a transaction; PostgreSQL takes the path above.
			// For SQLite this transaction is the lock that keeps replicas
			// from migrating at once.
			//lint:ignore SA1019 see above
			if _, err := migrator.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
				return fmt.Errorf("queue: migrating River's tables: %w", err)
			}
		}
		for _, m := range migrations {
			if _, err := e.db.exec(ctx, tx, m); err != nil {
				return fmt.Errorf("queue: migrating dockopt's tables: %w", err)
			}
		}
		return e.db.commit(ctx, tx)
	})
}

func (e *engine[TDriver, TTx]) accept(ctx context.Context, d Delivery, js []jobs.Args) (Accepted, error) {
	tx, err := e.db.begin(ctx)
	if err != nil {
		return Accepted{}, fmt.Errorf("queue: %w", err)
	}
	defer e.db.rollback(ctx, tx)
	acc, err := e.acceptTx(ctx, tx, d, js)
	if errors.Is(err, errRaced) {
		// Another request holding the same delivery committed first; what
		// this one queued is rolled back.
		return Accepted{Outcome: InFlight}, nil
	}
	if err != nil {
		return Accepted{}, fmt.Errorf("queue: delivery %s: %w", d.ID, err)
	}
	if err := e.db.commit(ctx, tx); err != nil {
		return Accepted{}, fmt.Errorf("queue: delivery %s: %w", d.ID, err)
	}
	return acc, nil
}

func (e *engine[TDriver, TTx]) acceptTx(ctx context.Context, tx TTx, d Delivery, js []jobs.Args) (Accepted, error) {
	now := time.Now().UnixMilli()
	// Updating first locks the delivery's row (in PostgreSQL), so two
	// copies of one redelivery arriving together are decided one at a time.
	var raw string
	err := e.db.queryRow(ctx, tx,
		`UPDATE dockopt_deliveries SET last_seen_at = $1, redeliveries = redeliveries + 1
		 WHERE delivery_id = $2 RETURNING job_ids`, []any{now, d.ID}, &raw)
	if errors.Is(err, errNoRows) {
		ids := make([]int64, len(js))
		for i, j := range js {
			if ids[i], err = e.insert(ctx, tx, j, false); err != nil {
				return Accepted{}, err
			}
		}
		raw, err := json.Marshal(ids)
		if err != nil {
			return Accepted{}, err
		}
		n, err := e.db.exec(ctx, tx,
			`INSERT INTO dockopt_deliveries (delivery_id, event, action, received_at, last_seen_at, redeliveries, job_ids)
			 VALUES ($1, $2, $3, $4, $4, 0, $5) ON CONFLICT (delivery_id) DO NOTHING`,
			d.ID, d.Event, d.Action, now, string(raw))
		if err != nil {
			return Accepted{}, err
		}
		if n == 0 {
			return Accepted{}, errRaced
		}
		return Accepted{Outcome: Queued, JobIDs: ids}, nil
	}
	if err != nil {
		return Accepted{}, err
	}

	var ids []int64
	if err := json.Unmarshal([]byte(raw), &ids); err != nil {
		return Accepted{}, fmt.Errorf("reading job ids %q: %w", raw, err)
	}
	requeued, inFlight := false, false
	// The same delivery maps to the same jobs in the same order; a delivery
	// recorded by an older binary with fewer jobs gets the missing ones.
	ids = append(ids, make([]int64, max(0, len(js)-len(ids)))...)[:len(js)]
	for i, j := range js {
		state := rivertype.JobStateCancelled // no job yet: treat like a failed one
		if ids[i] != 0 {
			row, err := e.client.JobGetTx(ctx, tx, ids[i])
			switch {
			case errors.Is(err, rivertype.ErrNotFound):
				// Only completed jobs are cleaned away before the redelivery
				// window closes.
				state = rivertype.JobStateCompleted
			case err != nil:
				return Accepted{}, err
			default:
				state = row.State
			}
		}
		switch state {
		case rivertype.JobStateCompleted:
		case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			if ids[i], err = e.insert(ctx, tx, j, true); err != nil {
				return Accepted{}, err
			}
			requeued = true
		default:
			inFlight = true
		}
	}
	switch {
	case requeued:
		return Accepted{Outcome: Requeued, JobIDs: ids}, e.saveJobIDs(ctx, tx, d.ID, ids)
	case inFlight:
		return Accepted{Outcome: InFlight, JobIDs: ids}, nil
	}
	return Accepted{Outcome: Done, JobIDs: ids}, nil
}

func (e *engine[TDriver, TTx]) saveJobIDs(ctx context.Context, tx TTx, id string, ids []int64) error {
	raw, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	_, err = e.db.exec(ctx, tx, `UPDATE dockopt_deliveries SET job_ids = $1 WHERE delivery_id = $2`, string(raw), id)
	return err
}

// insert queues one job in tx and returns the ID of the job that will do
// it: a new one, or for a coalescing kind possibly the one already waiting
// or running for the same key.
func (e *engine[TDriver, TTx]) insert(ctx context.Context, tx TTx, j jobs.Args, redelivery bool) (int64, error) {
	var opts *river.InsertOpts
	if c, ok := j.(jobs.Coalescing); ok {
		key := c.CoalesceKey()
		raw, err := json.Marshal(j)
		if err != nil {
			return 0, err
		}
		// A redelivery is an old event: it must not replace a newer head,
		// only make sure a job runs for the key.
		upsert := `INSERT INTO dockopt_coalesce (key, args, version, updated_at) VALUES ($1, $2, 1, $3)
			ON CONFLICT (key) DO UPDATE SET args = excluded.args, version = dockopt_coalesce.version + 1, updated_at = excluded.updated_at`
		if redelivery {
			upsert = `INSERT INTO dockopt_coalesce (key, args, version, updated_at) VALUES ($1, $2, 1, $3)
				ON CONFLICT (key) DO NOTHING`
		}
		if _, err := e.db.exec(ctx, tx, upsert, key, string(raw), time.Now().UnixMilli()); err != nil {
			return 0, err
		}
		opts = &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
	}
	res, err := e.client.InsertTx(ctx, tx, j, opts)
	if err != nil {
		return 0, fmt.Errorf("inserting %s job: %w", j.Kind(), err)
	}
	return res.Job.ID, nil
}

func (e *engine[TDriver, TTx]) readHead(ctx context.Context, key string) (args string, version int64, err error) {
	err = e.db.poolQueryRow(ctx, `SELECT args, version FROM dockopt_coalesce WHERE key = $1`, []any{key}, &args, &version)
	return args, version, err
}

func (e *engine[TDriver, TTx]) register(h Handler) error { return h.register(e.workers, e) }

func (e *engine[TDriver, TTx]) start(ctx context.Context) error {
	if err := e.client.Start(ctx); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	e.stopRescue = cancel
	go e.rescueDead(rctx)
	return nil
}

func (e *engine[TDriver, TTx]) stop(ctx context.Context) error {
	if e.stopRescue != nil {
		e.stopRescue()
	}
	return e.client.Stop(ctx)
}

func (e *engine[TDriver, TTx]) stopAndCancel(ctx context.Context) error {
	if e.stopRescue != nil {
		e.stopRescue()
	}
	return e.client.StopAndCancel(ctx)
}

func (e *engine[TDriver, TTx]) subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return e.client.Subscribe(kinds...)
}

func (e *engine[TDriver, TTx]) job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return e.client.JobGet(ctx, id)
}

func (e *engine[TDriver, TTx]) ping(ctx context.Context) error { return e.db.ping(ctx) }

func (e *engine[TDriver, TTx]) depth(ctx context.Context) (int64, error) {
	var n int64
	err := e.db.poolQueryRow(ctx,
		`SELECT COUNT(*) FROM river_job WHERE state IN ('available', 'pending', 'retryable', 'scheduled') AND kind <> '`+pruneKind+`'`, nil, &n)
	return n, err
}

func (e *engine[TDriver, TTx]) close() error { return e.db.close() }

// pruneKind is an internal job that forgets deliveries and coalescing heads
// older than the redelivery window. River's leader runs it periodically.
const pruneKind = "dockopt_prune"

type pruneArgs struct{}

func (pruneArgs) Kind() string { return pruneKind }

type pruneWorker[TDriver riverdriver.Driver[TTx], TTx any] struct {
	river.WorkerDefaults[pruneArgs]
	e *engine[TDriver, TTx]
}

func (w *pruneWorker[TDriver, TTx]) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	return w.e.prune(ctx, time.Now().Add(-deliveryRetention))
}

// prune deletes what is older than cutoff. A job whose head was pruned
// still runs, on the arguments it carries.
func (e *engine[TDriver, TTx]) prune(ctx context.Context, cutoff time.Time) error {
	tx, err := e.db.begin(ctx)
	if err != nil {
		return err
	}
	defer e.db.rollback(ctx, tx)
	ms := cutoff.UnixMilli()
	if _, err := e.db.exec(ctx, tx, `DELETE FROM dockopt_deliveries WHERE last_seen_at < $1`, ms); err != nil {
		return err
	}
	if _, err := e.db.exec(ctx, tx, `DELETE FROM dockopt_coalesce WHERE updated_at < $1`, ms); err != nil {
		return err
	}
	return e.db.commit(ctx, tx)
}

// run runs a job with its handler. A job of a coalescing kind runs on the
// newest arguments received for its key, and is completed only if nothing
// newer came in meanwhile; otherwise it goes round again.
//
// The check and the completion happen in one transaction that first locks
// the key's row. A push for the key either commits before that lock (and
// its newer version is seen here) or waits for the job to be completed (and
// then, finding no active job, inserts a new one). No push is lost between
// the two.
func (e *engine[TDriver, TTx]) run(ctx context.Context, row *rivertype.JobRow, args jobs.Args, decode func(string) (jobs.Args, error), f func(context.Context, jobs.Args) error) error {
	ctx = withInfo(ctx, row)
	defer e.alive(ctx, row)()
	c, ok := args.(jobs.Coalescing)
	if !ok {
		started := time.Now()
		err := f(ctx, args)
		e.q.recordJob(ctx, row, args, started, err)
		return err
	}
	key := c.CoalesceKey()
	for {
		args := args
		raw, version, err := e.readHead(ctx, key)
		switch {
		case errors.Is(err, errNoRows):
			// Cannot happen for jobs inserted through Accept; run what the
			// job carries.
		case err != nil:
			return err
		default:
			if args, err = decode(raw); err != nil {
				return Permanent(fmt.Errorf("decoding newest %s for %s: %w", row.Kind, key, err))
			}
		}
		started := time.Now()
		err = f(ctx, args)
		e.q.recordJob(ctx, row, args, started, err)
		if err != nil {
			// A newer commit arrived while this one failed: it deserves
			// its own run rather than this commit's backoff, discard or
			// cancellation. (A push landing in the instant between this
			// check and River recording the failure waits for the next
			// push or a redelivery.)
			if _, now, herr := e.readHead(ctx, key); herr == nil && now != version {
				return river.JobSnooze(0)
			}
			return err
		}
		done, err := e.completeIfCurrent(ctx, row, key, version)
		if err != nil || done {
			return err
		}
	}
}

// rowOnly stands for any job's arguments where River needs a JobArgs type
// but only reads the job's row.
type rowOnly struct{}

func (rowOnly) Kind() string { return "" }

func (e *engine[TDriver, TTx]) completeIfCurrent(ctx context.Context, row *rivertype.JobRow, key string, version int64) (bool, error) {
	// The work is done; finish the bookkeeping even if the job's context
	// was cancelled in the meantime. WithoutCancel keeps River's client in
	// the context, which JobCompleteTx needs.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	tx, err := e.db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer e.db.rollback(ctx, tx)
	var current int64
	err = e.db.queryRow(ctx, tx, `UPDATE dockopt_coalesce SET checked_at = $1 WHERE key = $2 RETURNING version`,
		[]any{time.Now().UnixMilli(), key}, &current)
	if err != nil && !errors.Is(err, errNoRows) {
		return false, err
	}
	if current != version {
		return false, nil
	}
	if _, err := river.JobCompleteTx[TDriver](ctx, tx, &river.Job[rowOnly]{JobRow: row}); err != nil {
		return false, err
	}
	return true, e.db.commit(ctx, tx)
}

func withInfo(ctx context.Context, row *rivertype.JobRow) context.Context {
	// River counts snoozes in the job's metadata.
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(row.Metadata, &meta)
	return context.WithValue(ctx, jobInfoKey{}, JobInfo{ID: row.ID, Kind: row.Kind, Attempt: row.Attempt, MaxAttempts: row.MaxAttempts,
		Created: row.CreatedAt, Snoozes: meta.Snoozes})
}

// minLevel drops records below a level: River reports every maintenance
// pass at info, which would drown the app's own logs.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}

// migrateMore runs other stores' idempotent migrations as the queue runs
// its own: under the migration lock, in one transaction.
func (e *engine[TDriver, TTx]) migrateMore(ctx context.Context, statements []string) error {
	return e.db.withMigrationLock(ctx, func() error {
		tx, err := e.db.begin(ctx)
		if err != nil {
			return err
		}
		defer e.db.rollback(ctx, tx)
		for _, st := range statements {
			if _, err := e.db.exec(ctx, tx, st); err != nil {
				return err
			}
		}
		return e.db.commit(ctx, tx)
	})
}

func (e *engine[TDriver, TTx]) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tx, err := e.db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer e.db.rollback(ctx, tx)
	n, err := e.db.exec(ctx, tx, query, args...)
	if err != nil {
		return 0, err
	}
	return n, e.db.commit(ctx, tx)
}

func (e *engine[TDriver, TTx]) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return e.db.poolQueryRow(ctx, query, args, dest...)
}
