// Package waivers keeps the rules people waive with `/dockopt ignore RULE
// [PATH]`, per repository, in dockopt's database, so that every later run,
// on any replica, honours them without a commit to the repository. The
// table lives beside the queue's, in the same database, but belongs here.
package waivers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dockopt/dockopt/app/rowstore"
)

// Waiver is one rule waived for a repository.
type Waiver struct {
	Repo   string `json:"repo"` // owner/name
	Rule   string `json:"rule"`
	Path   string `json:"path,omitempty"`
	Author string `json:"author"`
	At     int64  `json:"at"` // Unix milliseconds
}

// DB is what the store needs from a database: the queue's, in `dockopt
// serve`.
type DB = rowstore.DB

// Store reads and records waivers.
type Store struct{ db DB }

// The table holds one row per repository, its waivers as a JSON list;
// releases before this package created it in the queue's migrations, in
// this form, so existing waivers stay.
const schema = `CREATE TABLE IF NOT EXISTS dockopt_waivers (
	repo       TEXT PRIMARY KEY,
	entries    TEXT NOT NULL,
	updated_at BIGINT NOT NULL
)`

// Open creates the store's table if needed.
func Open(ctx context.Context, db DB) (*Store, error) {
	if err := db.Migrate(ctx, schema); err != nil {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	return &Store{db: db}, nil
}

// List returns a repository's waivers ("owner/name"), oldest first.
func (s *Store) List(ctx context.Context, repo string) ([]Waiver, error) {
	list, _, _, err := s.read(ctx, repo)
	return list, err
}

func (s *Store) read(ctx context.Context, repo string) (list []Waiver, raw string, found bool, err error) {
	found, err = s.db.QueryRow(ctx, `SELECT entries FROM dockopt_waivers WHERE repo = $1`, []any{repo}, &raw)
	if err != nil || !found {
		return nil, "", found, err
	}
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, "", false, fmt.Errorf("waivers of %s: %w", repo, err)
	}
	return list, raw, true, nil
}

// Add records a waiver once: the same rule and path twice is one, and
// added is false the second time.
//
// Two replicas may add to one repository at once. Each write only applies
// if the list is still the one it read (or still absent); the loser reads
// again, so neither waiver is lost.
func (s *Store) Add(ctx context.Context, w Waiver) (added bool, err error) {
	for range 10 {
		list, raw, found, err := s.read(ctx, w.Repo)
		if err != nil {
			return false, err
		}
		for _, x := range list {
			if x.Rule == w.Rule && x.Path == w.Path {
				return false, nil
			}
		}
		b, err := json.Marshal(append(list, w))
		if err != nil {
			return false, err
		}
		now := time.Now().UnixMilli()
		var n int64
		if found {
			n, err = s.db.Exec(ctx, `UPDATE dockopt_waivers SET entries = $1, updated_at = $2 WHERE repo = $3 AND entries = $4`,
				string(b), now, w.Repo, raw)
		} else {
			n, err = s.db.Exec(ctx, `INSERT INTO dockopt_waivers (repo, entries, updated_at) VALUES ($1, $2, $3) ON CONFLICT (repo) DO NOTHING`,
				w.Repo, string(b), now)
		}
		if err != nil || n == 1 {
			return err == nil, err
		}
	}
	return false, errors.New("waivers: the list kept changing under concurrent additions")
}
