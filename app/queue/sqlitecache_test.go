package queue

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"
)

func TestStatementCache(t *testing.T) {
	db := sql.OpenDB(cachingConnector{dsn: "file:" + filepath.Join(t.TempDir(), "c.db") + "?" + sqlitePragmas, driver: &sqlite.Driver{}})
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (n INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO t (n) VALUES ($1)`
	for i := 1; i <= 3; i++ {
		if _, err := db.ExecContext(ctx, insert, i); err != nil {
			t.Fatal(err)
		}
	}
	// A failing run (duplicate key) must not poison the next one.
	if _, err := db.ExecContext(ctx, insert, 1); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	if _, err := db.ExecContext(ctx, insert, 4); err != nil {
		t.Fatalf("insert after a failure: %v", err)
	}

	// The same SQL while its earlier rows are still open, in one
	// transaction (one connection): each needs its own statement.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	query := `SELECT n FROM t WHERE n >= $1 ORDER BY n`
	outer, err := tx.QueryContext(ctx, query, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var n int
		outer.Scan(&n)
		var inner int
		if err := tx.QueryRowContext(ctx, query, n).Scan(&inner); err != nil || inner != n {
			t.Fatalf("nested query for %d: %d, %v", n, inner, err)
		}
		got = append(got, n)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Errorf("outer rows %v, want 1..4", got)
	}
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&count); err != nil || count != 4 {
		t.Errorf("count = %d, %v", count, err)
	}
}
