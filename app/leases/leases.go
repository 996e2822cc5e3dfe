// Package leases serializes work on one thing across every replica of the
// app: a lease is a row in the queue's database, keyed by what it guards
// (a repository's branch), held by one job at a time, renewed while the job
// runs and released when it ends. A lease whose holder died without
// releasing it expires after its TTL, so a crash blocks the key for at
// most that long.
//
// Jobs that would race on GitHub (two jobs pushing dockopt's branch for the
// same base branch) take the key's lease first; a job that finds it held
// waits its turn (the worker snoozes it) instead of failing.
package leases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dockopt/dockopt/app/rowstore"
)

// DefaultTTL is how long a lease lasts without renewal: the longest a key
// stays blocked after its holder's process died.
const DefaultTTL = 2 * time.Minute

// DB is what the store needs from a database: the queue's, in `dockopt
// serve`.
type DB = rowstore.DB

// One row per key. holder names the job holding it (a retry of the same
// job may take over a lease its dead attempt left behind); token tells one
// taking from another, so that only the current one renews or releases.
// done and done_at are what the last holder that finished recorded, and
// when it took the lease (see Lease.Last).
const schema = `CREATE TABLE IF NOT EXISTS dockopt_leases (
	key        TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	token      TEXT NOT NULL,
	taken_at   BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	done       TEXT NOT NULL DEFAULT '',
	done_at    BIGINT NOT NULL DEFAULT 0
)`

// Store hands out leases.
type Store struct {
	db DB
	// TTL is how long a lease lasts without renewal (DefaultTTL). A held
	// lease is renewed every TTL/3.
	TTL time.Duration
	// Now is the clock (time.Now). Replicas' clocks must agree to well
	// within the TTL.
	Now func() time.Time
}

// Open creates the store's table if needed.
func Open(ctx context.Context, db DB) (*Store, error) {
	if err := db.Migrate(ctx, schema); err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	return &Store{db: db}, nil
}

func (s *Store) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// HeldError says that another holder has the lease.
type HeldError struct {
	Key    string
	Holder string
	// Until is when the lease expires unless its holder renews it.
	Until time.Time
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is held by %s until %s", e.Key, e.Holder, e.Until.Format(time.RFC3339))
}

// ErrLost is the cause of a holder's context cancellation when its lease
// could not be renewed: it expired and someone else took it.
var ErrLost = errors.New("leases: the lease was lost")

// Lease is a held lease; Hold gives it to the function it runs.
type Lease struct {
	s      *Store
	key    string
	token  string
	taken  time.Time
	last   Record
	cancel context.CancelCauseFunc
}

// Record is what a holder recorded when it finished with the key.
type Record struct {
	What string
	// Taken is when the holder that recorded it took the lease: it saw
	// the state of things as of then or later.
	Taken time.Time
}

// Last is what the previous holder that finished recorded (zero if none).
func (l *Lease) Last() Record { return l.last }

// Finish records what this holder finished with the key, for the next
// holders' Last.
func (l *Lease) Finish(ctx context.Context, what string) error {
	n, err := l.s.db.Exec(ctx, `UPDATE dockopt_leases SET done = $1, done_at = $2 WHERE key = $3 AND token = $4`,
		what, l.taken.UnixMilli(), l.key, l.token)
	if err != nil {
		return fmt.Errorf("leases: recording %s: %w", l.key, err)
	}
	if n == 0 {
		return fmt.Errorf("leases: recording %s: %w", l.key, ErrLost)
	}
	return nil
}

// Hold takes key's lease for holder and runs f while it holds it; the
// lease is renewed in the background and released when f returns. When
// another holder has it, Hold returns a *HeldError and does not run f.
// The same holder (a retry of a job whose earlier attempt died holding
// the lease) takes it over at once.
//
// If a renewal finds the lease gone (the database was unreachable for a
// whole TTL and someone else took it), f's context is cancelled with
// ErrLost as its cause.
func (s *Store) Hold(ctx context.Context, key, holder string, f func(ctx context.Context, l *Lease) error) error {
	if holder == "" {
		return errors.New("leases: a holder needs a name")
	}
	l, err := s.take(ctx, key, holder)
	if err != nil {
		return err
	}
	ctx, l.cancel = context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		l.keep(ctx)
	}()
	defer func() {
		l.cancel(context.Canceled)
		<-renewed
		// Released even when the job's context is done: otherwise the key
		// stays blocked for a TTL.
		l.release(context.WithoutCancel(ctx))
	}()
	return f(ctx, l)
}

func (s *Store) take(ctx context.Context, key, holder string) (*Lease, error) {
	b := make([]byte, 12)
	rand.Read(b)
	l := &Lease{s: s, key: key, token: hex.EncodeToString(b), taken: s.now()}
	now := l.taken.UnixMilli()
	// One statement decides, whatever other replicas do at the same time:
	// the row is created, or taken over when it expired or its holder is
	// this one, or left alone (no row changed).
	n, err := s.db.Exec(ctx, `INSERT INTO dockopt_leases (key, holder, token, taken_at, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, token = excluded.token, taken_at = excluded.taken_at, expires_at = excluded.expires_at
		WHERE dockopt_leases.expires_at <= $4 OR dockopt_leases.holder = excluded.holder`,
		key, holder, l.token, now, now+s.ttl().Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("leases: taking %s: %w", key, err)
	}
	var other string
	var until, doneAt int64
	found, err := s.db.QueryRow(ctx, `SELECT holder, expires_at, done, done_at FROM dockopt_leases WHERE key = $1`, []any{key}, &other, &until, &l.last.What, &doneAt)
	if err != nil {
		if n == 1 {
			// Taken but unusable: given back at once rather than left
			// blocking the key for a TTL.
			l.release(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("leases: reading %s: %w", key, err)
	}
	if n == 0 {
		if !found {
			// Released between the two statements: the next try takes it.
			until = now
		}
		return nil, &HeldError{Key: key, Holder: other, Until: time.UnixMilli(until)}
	}
	if doneAt > 0 {
		l.last.Taken = time.UnixMilli(doneAt)
	}
	return l, nil
}

// release gives the lease back; the row stays, for what Finish recorded.
func (l *Lease) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _ = l.s.db.Exec(ctx, `UPDATE dockopt_leases SET expires_at = 0, holder = '', token = '' WHERE key = $1 AND token = $2`, l.key, l.token)
}

// keep renews the lease every third of its TTL until ctx is done.
func (l *Lease) keep(ctx context.Context) {
	tick := time.NewTicker(l.s.ttl() / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := l.s.db.Exec(ctx, `UPDATE dockopt_leases SET expires_at = $1 WHERE key = $2 AND token = $3`,
			l.s.now().Add(l.s.ttl()).UnixMilli(), l.key, l.token)
		if err == nil && n == 0 {
			l.cancel(ErrLost)
			return
		}
		// A failed renewal is tried again at the next tick; the lease
		// lasts a whole TTL, so one missed renewal loses nothing.
	}
}
