package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// openPostgres connects through a pgx pool. Connection parameters, including
// search_path to keep dockopt's tables in their own schema, go in the URL.
func openPostgres(ctx context.Context, databaseURL string, q *Queue) (backend, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message may echo the URL, password included.
		return nil, errors.New("queue: the PostgreSQL URL does not parse")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: connecting to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("queue: connecting to PostgreSQL at %s: %w", cfg.ConnConfig.Host, err)
	}
	return newEngine(ctx, q, riverpgxv5.New(pool), pgxStore{pool})
}

// pgxStore is store over a pgx pool.
type pgxStore struct{ pool *pgxpool.Pool }

func (s pgxStore) begin(ctx context.Context) (pgx.Tx, error)   { return s.pool.Begin(ctx) }
func (s pgxStore) commit(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) }
func (s pgxStore) rollback(ctx context.Context, tx pgx.Tx) {
	_ = tx.Rollback(context.WithoutCancel(ctx))
}

func (s pgxStore) exec(ctx context.Context, tx pgx.Tx, query string, args ...any) (int64, error) {
	tag, err := tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (s pgxStore) queryRow(ctx context.Context, tx pgx.Tx, query string, args []any, dest ...any) error {
	return pgNoRows(tx.QueryRow(ctx, query, args...).Scan(dest...))
}

func (s pgxStore) poolQueryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return pgNoRows(s.pool.QueryRow(ctx, query, args...).Scan(dest...))
}

// migrationLock is an arbitrary advisory-lock key owned by dockopt.
const migrationLock = 0x646f636b6f7074 // "dockopt"

// withMigrationLock holds a session advisory lock on a connection of its
// own while f migrates through the pool.
func (s pgxStore) withMigrationLock(ctx context.Context, f func() error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("queue: migrating: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("queue: migrating: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	return f()
}

func (s pgxStore) transactionalDDL() bool { return false }

func (s pgxStore) ping(ctx context.Context) error { return s.pool.Ping(ctx) }
func (s pgxStore) close() error                   { s.pool.Close(); return nil }

func pgNoRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	}
	return err
}
