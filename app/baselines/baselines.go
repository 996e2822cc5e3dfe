// Package baselines remembers, per repository and branch, the findings of
// the last commit dockopt analyzed there, as fingerprints (app/verdict),
// so that the check run of the next push fails only for what that push
// added. The table lives beside the queue's, in the same database, so
// every replica judges against the same history.
package baselines

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dockopt/dockopt/app/rowstore"
)

// DB is what the store needs from a database: the queue's, in `dockopt
// serve`.
type DB = rowstore.DB

// Store reads and records baselines.
type Store struct{ db DB }

// One row per branch: the last analyzed commit and its fingerprints, and
// the commit analyzed before it with its own, against which the last one
// was judged. Analyzing the last commit again (a re-run) judges it against
// that earlier one once more, so the verdict does not change.
const schema = `CREATE TABLE IF NOT EXISTS dockopt_baselines (
	repo         TEXT NOT NULL,
	branch       TEXT NOT NULL,
	sha          TEXT NOT NULL,
	fingerprints TEXT NOT NULL,
	prev_sha     TEXT NOT NULL,
	prev         TEXT NOT NULL,
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (repo, branch)
)`

// Open creates the store's table if needed.
func Open(ctx context.Context, db DB) (*Store, error) {
	if err := db.Migrate(ctx, schema); err != nil {
		return nil, fmt.Errorf("baselines: %w", err)
	}
	return &Store{db: db}, nil
}

// Commit is an analyzed commit and the fingerprints of its findings.
type Commit struct {
	SHA          string
	Fingerprints []string
}

// Against returns what a commit of a branch is judged against: the last
// analyzed commit, or for that commit itself the one before it. found is
// false when the branch has no analyzed commit to compare with.
func (s *Store) Against(ctx context.Context, repo, branch, sha string) (c Commit, found bool, err error) {
	var last, lastFP, prev, prevFP string
	found, err = s.db.QueryRow(ctx, `SELECT sha, fingerprints, prev_sha, prev FROM dockopt_baselines WHERE repo = $1 AND branch = $2`,
		[]any{repo, branch}, &last, &lastFP, &prev, &prevFP)
	if err != nil || !found {
		return Commit{}, false, err
	}
	raw := lastFP
	c.SHA = last
	if last == sha {
		c.SHA, raw = prev, prevFP
	}
	if c.SHA == "" {
		return Commit{}, false, nil
	}
	if err := json.Unmarshal([]byte(raw), &c.Fingerprints); err != nil {
		return Commit{}, false, fmt.Errorf("baselines of %s %s: %w", repo, branch, err)
	}
	return c, true, nil
}

// Record makes c the branch's last analyzed commit; the one it replaces
// becomes the earlier one. Recording the last commit again only replaces
// its fingerprints (the configuration may have changed).
func (s *Store) Record(ctx context.Context, repo, branch string, c Commit) error {
	fp, err := json.Marshal(c.Fingerprints)
	if err != nil {
		return err
	}
	if c.Fingerprints == nil {
		fp = []byte("[]")
	}
	now := time.Now().UnixMilli()
	// One statement, so that two replicas recording the same branch cannot
	// interleave a read and a write: the new row keeps the old last commit
	// as its earlier one unless it is the same commit again.
	_, err = s.db.Exec(ctx, `INSERT INTO dockopt_baselines (repo, branch, sha, fingerprints, prev_sha, prev, updated_at)
		VALUES ($1, $2, $3, $4, '', '[]', $5)
		ON CONFLICT (repo, branch) DO UPDATE SET
			prev_sha = CASE WHEN dockopt_baselines.sha = excluded.sha THEN dockopt_baselines.prev_sha ELSE dockopt_baselines.sha END,
			prev = CASE WHEN dockopt_baselines.sha = excluded.sha THEN dockopt_baselines.prev ELSE dockopt_baselines.fingerprints END,
			sha = excluded.sha, fingerprints = excluded.fingerprints, updated_at = excluded.updated_at`,
		repo, branch, c.SHA, string(fp), now)
	if err != nil {
		return fmt.Errorf("baselines: recording %s %s: %w", repo, branch, err)
	}
	return nil
}
