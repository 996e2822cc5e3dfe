package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// DefaultDeadJobAfter is how long a running job may go without a sign of
// life from its process before it is taken for dead and run again.
const DefaultDeadJobAfter = 2 * time.Minute

// River rescues a running job only once its whole timeout has passed (it
// cannot tell a long job from a dead one), which by default is more than
// half an hour; every other job for the same branch waits meanwhile. So
// each running job also keeps a row alive in dockopt_alive, renewed every
// third of DeadJobAfter by its process, and every process looks for rows
// that have expired: their jobs are handed back to River as River's own
// rescuer would (retried, or discarded past MaxAttempts).
const aliveSchema = `CREATE TABLE IF NOT EXISTS dockopt_alive (
	job_id     BIGINT PRIMARY KEY,
	attempt    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
)`

// alive keeps the row of a running job until stop is called.
func (e *engine[TDriver, TTx]) alive(ctx context.Context, row *rivertype.JobRow) (stop func()) {
	ttl := e.q.opts.DeadJobAfter
	beat := func(ctx context.Context) error {
		_, err := e.exec(ctx, `INSERT INTO dockopt_alive (job_id, attempt, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (job_id) DO UPDATE SET attempt = excluded.attempt, expires_at = excluded.expires_at`,
			row.ID, row.Attempt, time.Now().Add(ttl).UnixMilli())
		return err
	}
	if err := beat(ctx); err != nil {
		e.q.opts.Logger.WarnContext(ctx, "recording a running job", "job_id", row.ID, "error", err.Error())
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// A missed beat is made up by the next; the row lasts three.
				_ = beat(ctx)
			}
		}
	}()
	return func() {
		cancel()
		<-done
		// The attempt's outcome is River's to record, and River records
		// it later, in a batch: a process killed before that leaves the
		// job running with no one to run it, which River itself rescues
		// only after the job's whole timeout. So the row stays, with one
		// last lease of life; once it expires, rescueDeadOnce drops it if
		// the outcome was recorded and runs the job again if not.
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		_ = beat(dctx)
	}
}

// rescueDead runs until ctx is done, rescuing every so often the jobs
// whose process stopped keeping them alive.
func (e *engine[TDriver, TTx]) rescueDead(ctx context.Context) {
	tick := time.NewTicker(max(e.q.opts.DeadJobAfter/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := e.rescueDeadOnce(ctx); err != nil && ctx.Err() == nil {
			e.q.opts.Logger.WarnContext(ctx, "looking for jobs of dead processes", "error", err.Error())
		} else if n > 0 {
			e.q.opts.Logger.InfoContext(ctx, "jobs of a dead process run again", "jobs", n)
		}
	}
}

// rescueDeadOnce hands the jobs whose rows expired back to River.
func (e *engine[TDriver, TTx]) rescueDeadOnce(ctx context.Context) (int, error) {
	rescued := 0
	// Most expired rows are of attempts whose outcome River recorded.
	if _, err := e.exec(ctx, `DELETE FROM dockopt_alive WHERE expires_at < $1 AND NOT EXISTS (
		SELECT 1 FROM river_job WHERE river_job.id = dockopt_alive.job_id AND river_job.state = 'running' AND river_job.attempt = dockopt_alive.attempt)`,
		time.Now().UnixMilli()); err != nil {
		return 0, err
	}
	for range 100 {
		var id, attempt int64
		found, err := e.queryRowFound(ctx, `SELECT job_id, attempt FROM dockopt_alive WHERE expires_at < $1 ORDER BY expires_at LIMIT 1`,
			[]any{time.Now().UnixMilli()}, &id, &attempt)
		if err != nil || !found {
			return rescued, err
		}
		row, err := e.client.JobGet(ctx, id)
		switch {
		case errors.Is(err, rivertype.ErrNotFound):
		case err != nil:
			return rescued, err
		case row.State == rivertype.JobStateRunning && int64(row.Attempt) == attempt:
			if err := e.rescue(ctx, row); err != nil {
				return rescued, err
			}
			rescued++
		}
		if _, err := e.exec(ctx, `DELETE FROM dockopt_alive WHERE job_id = $1 AND attempt = $2`, id, attempt); err != nil {
			return rescued, err
		}
	}
	return rescued, nil
}

// rescue does to one job what River's rescuer does to a stuck one: an
// error recorded, then a retry now or, past MaxAttempts, a discard. The
// update applies only while the job is still running that attempt.
func (e *engine[TDriver, TTx]) rescue(ctx context.Context, row *rivertype.JobRow) error {
	now := time.Now().UTC()
	msg, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: row.Attempt,
		Error: fmt.Sprintf("the process running the job stopped: no sign of life for %s", e.q.opts.DeadJobAfter)})
	if err != nil {
		return err
	}
	// Available, not retryable as River's rescuer makes it: a retryable
	// job waits for the leader's scheduler, and after a crash the new
	// process may not be leader for a while yet.
	state, finalized := rivertype.JobStateAvailable, (*time.Time)(nil)
	if row.Attempt >= row.MaxAttempts {
		state, finalized = rivertype.JobStateDiscarded, &now
	}
	_, err = e.driver.GetExecutor().JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
		ID: []int64{row.ID}, Error: [][]byte{msg}, FinalizedAt: []*time.Time{finalized}, ScheduledAt: []time.Time{now},
		State: []string{string(state)}, StuckHorizon: now.Add(time.Second),
	})
	return err
}

func (e *engine[TDriver, TTx]) queryRowFound(ctx context.Context, query string, args []any, dest ...any) (bool, error) {
	err := e.db.poolQueryRow(ctx, query, args, dest...)
	if errors.Is(err, errNoRows) {
		return false, nil
	}
	return err == nil, err
}
