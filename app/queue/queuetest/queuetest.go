// Package queuetest helps tests run against the queue on both databases
// and wait for jobs through River's event subscription, never by sleeping.
package queuetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dockopt/dockopt/app/queue"
)

// PostgresURL is the test server. DOCKOPT_TEST_POSTGRES overrides it.
var PostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func init() {
	if u := os.Getenv("DOCKOPT_TEST_POSTGRES"); u != "" {
		PostgresURL = u
	}
}

// Databases runs f once on a fresh SQLite file ("sqlite" subtest) and once
// on a fresh PostgreSQL schema ("postgres" subtest).
func Databases(t *testing.T, f func(t *testing.T, databaseURL string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
}

// SQLite returns the URL of a database file in t's temporary directory.
func SQLite(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "dockopt.db")
}

// Postgres creates a schema for t, dropped when t ends, and returns a URL
// whose connections use it.
func Postgres(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, PostgresURL)
	if err != nil {
		t.Fatalf("these tests need PostgreSQL at %s: %v", PostgresURL, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, PostgresURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return PostgresURL + "&search_path=" + schema
}

// Database opens the queue's database at url, for the tests of the stores
// that keep their tables in it; it is closed when t ends.
func Database(t testing.TB, url string) *queue.Database {
	t.Helper()
	q, err := queue.Open(context.Background(), url, queue.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q.Database()
}

// Clock is a clock a test sets and moves by hand, for the stores that
// keep time (budgets, pacing).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t0.
func NewClock(t0 time.Time) *Clock { return &Clock{now: t0} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// FastRetry retries at once: River makes a failed job available straight
// away when its retry is due before the scheduler's next pass.
type FastRetry struct{}

func (FastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(10 * time.Millisecond) }

// Subscriber is what Events needs: the queue's Subscribe.
type Subscriber interface {
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// Events is a subscription to completed, cancelled and failed jobs.
type Events struct{ ch <-chan *river.Event }

// Subscribe subscribes for t's lifetime. Subscribe before the jobs run so
// that no event is missed.
func Subscribe(t testing.TB, q Subscriber) Events {
	ch, cancel := q.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
	t.Cleanup(cancel)
	return Events{ch}
}

// Next waits for the next event. The timeout only keeps a broken test from
// hanging; nothing depends on how fast jobs run.
func (e Events) Next(t testing.TB) *river.Event {
	t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case <-time.After(60 * time.Second):
		t.Fatal("no job event within 60s")
		return nil
	}
}

// Until waits for an event of kind for job id, skipping others.
func (e Events) Until(t testing.TB, kind river.EventKind, id int64) *river.Event {
	t.Helper()
	for {
		if ev := e.Next(t); ev.Kind == kind && ev.Job.ID == id {
			return ev
		}
	}
}

// All waits until every job in ids has had an event of kind, in any order.
func (e Events) All(t testing.TB, kind river.EventKind, ids ...int64) {
	t.Helper()
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for len(want) > 0 {
		if ev := e.Next(t); ev.Kind == kind {
			delete(want, ev.Job.ID)
		}
	}
}
