// Package rowstore keeps small JSON values, one row per key, in a table of
// the queue's database, and changes them safely when several replicas write
// at once: a write applies only if the row still holds the version the
// writer read, and the loser reads again. The app's per-installation
// ledgers (app/budget, app/pacing) live in such tables.
package rowstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// DB is what a store needs from a database; in `dockopt-app serve` it is the
// queue's (queue.Database). Statements use $N placeholders and SQL that
// SQLite and PostgreSQL both accept.
type DB interface {
	// Migrate runs idempotent statements while no other process migrates.
	Migrate(ctx context.Context, statements ...string) error
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	// QueryRow scans the first row into dest; found is false without one.
	QueryRow(ctx context.Context, query string, args []any, dest ...any) (found bool, err error)
}

// Table is a table of JSON values by key.
type Table struct {
	db   DB
	name string
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Open creates the table if needed. name is a fixed identifier of the
// caller's, never input.
func Open(ctx context.Context, db DB, name string) (*Table, error) {
	if !tableName.MatchString(name) {
		return nil, fmt.Errorf("rowstore: bad table name %q", name)
	}
	err := db.Migrate(ctx, `CREATE TABLE IF NOT EXISTS `+name+` (
		key        TEXT PRIMARY KEY,
		value      TEXT NOT NULL,
		version    BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	)`)
	if err != nil {
		return nil, fmt.Errorf("rowstore %s: %w", name, err)
	}
	return &Table{db: db, name: name}, nil
}

// Get reads key's value into v; found is false when there is none.
func (t *Table) Get(ctx context.Context, key string, v any) (found bool, err error) {
	_, found, err = t.read(ctx, key, v)
	return found, err
}

func (t *Table) read(ctx context.Context, key string, v any) (version int64, found bool, err error) {
	var raw string
	found, err = t.db.QueryRow(ctx, `SELECT value, version FROM `+t.name+` WHERE key = $1`, []any{key}, &raw, &version)
	if err != nil || !found {
		return 0, found, err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return 0, false, fmt.Errorf("rowstore %s[%s]: %w", t.name, key, err)
	}
	return version, true, nil
}

// ErrContended is returned when other writers kept changing a row.
var ErrContended = errors.New("rowstore: the row kept changing under concurrent writers")

// maxTries bounds the rounds of an Update that loses to other writers.
const maxTries = 50

// Update reads key's value (the zero T when absent), lets change modify
// it, and writes it back when change says so. When another writer changed
// the row in between, it reads again and calls change again, so change must
// only compute (no side effects beyond its value).
func Update[T any](ctx context.Context, t *Table, key string, change func(v *T) (write bool, err error)) error {
	for range maxTries {
		var v T
		version, found, err := t.read(ctx, key, &v)
		if err != nil {
			return err
		}
		write, err := change(&v)
		if err != nil || !write {
			return err
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		var n int64
		if found {
			n, err = t.db.Exec(ctx, `UPDATE `+t.name+` SET value = $1, version = version + 1, updated_at = $2 WHERE key = $3 AND version = $4`,
				string(raw), now, key, version)
		} else {
			n, err = t.db.Exec(ctx, `INSERT INTO `+t.name+` (key, value, version, updated_at) VALUES ($1, $2, 1, $3) ON CONFLICT (key) DO NOTHING`,
				key, string(raw), now)
		}
		if err != nil {
			return fmt.Errorf("rowstore %s[%s]: %w", t.name, key, err)
		}
		if n == 1 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return ErrContended
}
