package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"modernc.org/sqlite"
)

// sqlitePragmas are applied to every connection.
//
// WAL lets readers (metrics, health checks) proceed during a write. The
// busy timeout makes a second process on the same file (a restart while the
// old one drains) wait instead of failing with SQLITE_BUSY. synchronous=FULL
// syncs the log on every commit: a delivery answered 202 survives a power
// cut, not only a crash of the process. BEGIN IMMEDIATE takes the write lock
// when a transaction starts, so a read-then-write transaction never fails
// halfway on lock upgrade. The pragmas run in order, so the busy timeout
// comes first and covers the ones after it, except the switch to WAL (see
// connectSQLite).
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"

// sqlitePath extracts the file path from the forms Open accepts.
func sqlitePath(databaseURL string) (string, error) {
	path := databaseURL
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(path, prefix) {
			path = strings.TrimPrefix(path, prefix)
			break
		}
	}
	if path == "" {
		return "", fmt.Errorf("queue: database URL %q names no SQLite file", databaseURL)
	}
	if strings.Contains(path, "?") {
		return "", fmt.Errorf("queue: database URL %q: SQLite options are set by dockopt, remove the query", databaseURL)
	}
	return path, nil
}

func openSQLite(ctx context.Context, databaseURL string, q *Queue) (backend, error) {
	path, err := sqlitePath(databaseURL)
	if err != nil {
		return nil, err
	}
	// The DSN is an SQLite URI: a path with % or # must be escaped.
	uriPath := strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
	db := sql.OpenDB(cachingConnector{dsn: "file:" + uriPath + "?" + sqlitePragmas, driver: &sqlite.Driver{}})
	// SQLite has one writer at a time; River's documentation recommends a
	// single connection so its goroutines queue in Go instead of failing
	// with SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	if err := connectSQLite(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: opening %s: %w", path, err)
	}
	return newEngine(ctx, q, riversqlite.New(db), sqlStore{db})
}

// connectSQLite makes the first connection. Switching a fresh file to WAL
// takes an exclusive lock, and SQLite answers SQLITE_BUSY to a second
// connection doing the same at that moment without calling its busy
// handler, so replicas (or a restart overlapping the old process) opening
// one new file together would fail. The connection is retried instead,
// for as long as the busy timeout would have waited.
func connectSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		err := db.PingContext(ctx)
		var serr *sqlite.Error
		if err == nil || !errors.As(err, &serr) || serr.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// sqliteBusyTimeout is the busy_timeout pragma above.
const sqliteBusyTimeout = 10 * time.Second

// sqliteBusy is SQLITE_BUSY, whose extended codes share its low byte.
const sqliteBusy = 5

// sqlStore is store over database/sql.
type sqlStore struct{ db *sql.DB }

func (s sqlStore) begin(ctx context.Context) (*sql.Tx, error) { return s.db.BeginTx(ctx, nil) }
func (s sqlStore) commit(_ context.Context, tx *sql.Tx) error { return tx.Commit() }
func (s sqlStore) rollback(_ context.Context, tx *sql.Tx)     { _ = tx.Rollback() }

func (s sqlStore) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqlStore) queryRow(ctx context.Context, tx *sql.Tx, query string, args []any, dest ...any) error {
	return noRows(tx.QueryRowContext(ctx, query, args...).Scan(dest...))
}

func (s sqlStore) poolQueryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return noRows(s.db.QueryRowContext(ctx, query, args...).Scan(dest...))
}

// withMigrationLock needs no lock of its own: the migrations run in one
// transaction begun IMMEDIATE, which holds SQLite's write lock.
func (s sqlStore) withMigrationLock(_ context.Context, f func() error) error { return f() }
func (s sqlStore) transactionalDDL() bool                                    { return true }

func (s sqlStore) ping(ctx context.Context) error { return s.db.PingContext(ctx) }
func (s sqlStore) close() error                   { return s.db.Close() }

func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	return err
}
