package queue

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/dockopt/dockopt/app/jobs"
)

func TestPruneForgetsOldDeliveries(t *testing.T) {
	ctx := context.Background()
	q, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	e := q.b.(*engine[*riversqlite.Driver, *sql.Tx])
	job := jobs.AnalyzePush{Owner: "o", Repo: "r", Branch: "main", SHA: "a"}
	if acc, _ := q.Accept(ctx, Delivery{ID: "old"}, []jobs.Args{job}); acc.Outcome != Queued {
		t.Fatalf("first: %s", acc.Outcome)
	}
	if err := e.prune(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if acc, _ := q.Accept(ctx, Delivery{ID: "old"}, []jobs.Args{job}); acc.Outcome != InFlight {
		t.Errorf("a recent delivery was forgotten: %s", acc.Outcome)
	}
	if err := e.prune(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.db.poolQueryRow(ctx, `SELECT (SELECT COUNT(*) FROM dockopt_deliveries) + (SELECT COUNT(*) FROM dockopt_coalesce)`, nil, &n); err != nil || n != 0 {
		t.Errorf("%d rows left after pruning everything (%v)", n, err)
	}
}
