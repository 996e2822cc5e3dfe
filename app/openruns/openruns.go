// Package openruns remembers the check runs dockopt has started and not
// yet concluded, per repository and scope (a branch, a pull request), in
// the queue's database. A job's retry finds the run its earlier attempt
// opened and completes it instead of opening another; the next job of a
// scope concludes the runs that a dead attempt left on commits it will
// not come back to. So no check run stays "in progress" for good.
package openruns

import (
	"context"
	"fmt"
	"time"

	"github.com/dockopt/dockopt/app/rowstore"
)

// DB is what the store needs from a database: the queue's, in `dockopt
// serve`.
type DB = rowstore.DB

// A row is recorded before the run is created (run_id 0) and given the
// run's ID once GitHub answers, so a process dying in between leaves a
// trace: its run is then found by listing the commit's runs.
const schema = `CREATE TABLE IF NOT EXISTS dockopt_open_runs (
	repo       TEXT NOT NULL,
	scope      TEXT NOT NULL,
	sha        TEXT NOT NULL,
	run_id     BIGINT NOT NULL,
	started_at BIGINT NOT NULL,
	PRIMARY KEY (repo, scope, sha)
)`

// Store reads and records open check runs.
type Store struct{ db DB }

// Open creates the store's table if needed.
func Open(ctx context.Context, db DB) (*Store, error) {
	if err := db.Migrate(ctx, schema); err != nil {
		return nil, fmt.Errorf("openruns: %w", err)
	}
	return &Store{db: db}, nil
}

// Run is an open check run: ID is 0 when its creation was begun but its
// ID never recorded.
type Run struct {
	SHA string
	ID  int64
}

// maxRuns bounds what List reads: a scope has one open run in normal
// operation, a few after crashes.
const maxRuns = 20

// List returns a scope's open runs ("owner/name", "branch:main"), oldest
// first, at most maxRuns.
func (s *Store) List(ctx context.Context, repo, scope string) ([]Run, error) {
	var out []Run
	// QueryRow reads one row, so rows are read one after the other by
	// their start time.
	after := int64(-1)
	for range maxRuns {
		var r Run
		var at int64
		found, err := s.db.QueryRow(ctx, `SELECT sha, run_id, started_at FROM dockopt_open_runs WHERE repo = $1 AND scope = $2 AND started_at > $3 ORDER BY started_at LIMIT 1`,
			[]any{repo, scope, after}, &r.SHA, &r.ID, &at)
		if err != nil {
			return nil, fmt.Errorf("openruns: %w", err)
		}
		if !found {
			break
		}
		out = append(out, r)
		after = at
	}
	return out, nil
}

// Begin records that a run is about to be created on sha.
func (s *Store) Begin(ctx context.Context, repo, scope, sha string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO dockopt_open_runs (repo, scope, sha, run_id, started_at) VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT (repo, scope, sha) DO UPDATE SET run_id = 0`, repo, scope, sha, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("openruns: %w", err)
	}
	return nil
}

// Started records the ID of the run open on sha.
func (s *Store) Started(ctx context.Context, repo, scope, sha string, id int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO dockopt_open_runs (repo, scope, sha, run_id, started_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (repo, scope, sha) DO UPDATE SET run_id = excluded.run_id`, repo, scope, sha, id, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("openruns: %w", err)
	}
	return nil
}

// Concluded forgets the run on sha.
func (s *Store) Concluded(ctx context.Context, repo, scope, sha string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM dockopt_open_runs WHERE repo = $1 AND scope = $2 AND sha = $3`, repo, scope, sha)
	if err != nil {
		return fmt.Errorf("openruns: %w", err)
	}
	return nil
}
