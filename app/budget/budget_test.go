package budget_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/budget"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

func open(t *testing.T, url string, c *queuetest.Clock, perHour, perMinute, reserve int) *budget.Ledger {
	t.Helper()
	l, err := budget.Open(context.Background(), queuetest.Database(t, url))
	if err != nil {
		t.Fatal(err)
	}
	l.PerHour, l.PerMinute, l.Reserve, l.Now = perHour, perMinute, reserve, c.Now
	return l
}

func spend(t *testing.T, ctx context.Context, l *budget.Ledger, inst int64, n int) (bool, time.Time) {
	t.Helper()
	ok, at, err := l.Spend(ctx, inst, n)
	if err != nil {
		t.Fatal(err)
	}
	return ok, at
}

func TestTheHourAndTheMinuteAreBothKept(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		l := open(t, url, c, 10, 4, 0)
		start := c.Now()
		for i := range 4 {
			if ok, _ := spend(t, ctx, l, 7, 1); !ok {
				t.Fatalf("request %d refused within the minute's budget", i+1)
			}
		}
		ok, at := spend(t, ctx, l, 7, 1)
		if ok || !at.Equal(start.Add(time.Minute)) {
			t.Fatalf("the fifth request in a minute: ok %v, retry at %v; want refused until %v", ok, at, start.Add(time.Minute))
		}
		if ok, _ := spend(t, ctx, l, 8, 1); !ok {
			t.Errorf("another installation has a budget of its own")
		}
		for range 6 {
			c.Advance(time.Minute)
			if ok, _ := spend(t, ctx, l, 7, 1); !ok {
				t.Fatalf("refused at %v with %d spent", c.Now(), 4)
			}
		}
		// 10 in the hour now.
		c.Advance(time.Minute)
		ok, at = spend(t, ctx, l, 7, 1)
		if ok || !at.Equal(start.Add(time.Hour)) {
			t.Fatalf("the eleventh request in the hour: ok %v, retry at %v; want refused until %v", ok, at, start.Add(time.Hour))
		}
		c.Advance(at.Sub(c.Now()))
		if ok, _ := spend(t, ctx, l, 7, 1); !ok {
			t.Errorf("refused when the oldest requests had left the hour")
		}
		if n, _ := l.Spent(ctx, 7); n != 7 {
			t.Errorf("Spent = %d, want the 7 of the last hour", n)
		}
	})
}

// TestNewPullRequestsLeaveTheReserveToCheckRuns: once the hour's spending
// reaches the reserve, proposals wait and check runs go on.
func TestNewPullRequestsLeaveTheReserveToCheckRuns(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		l := open(t, url, c, 20, 100, 8)
		prs := budget.WithClass(ctx, budget.Proposals)
		for i := range 3 {
			if ok, _ := spend(t, prs, l, 7, 4); !ok {
				t.Fatalf("pull request %d refused", i+1)
			}
		}
		if ok, _ := spend(t, prs, l, 7, 4); ok {
			t.Fatalf("a pull request went past the reserve (12 of 20 spent, reserve 8)")
		}
		if fits, _, _ := l.Fits(ctx, 7, 4, budget.Proposals); fits {
			t.Errorf("Fits disagrees with Spend")
		}
		if n, _ := l.Available(ctx, 7, budget.Proposals); n != 0 {
			t.Errorf("Available for proposals = %d, want 0 (12 spent, 20 - 8 allowed)", n)
		}
		if n, _ := l.Available(ctx, 7, budget.Checks); n != 8 {
			t.Errorf("Available for check runs = %d, want the reserve's 8", n)
		}
		for i := range 8 {
			if ok, _ := spend(t, ctx, l, 7, 1); !ok {
				t.Fatalf("check run %d refused inside the reserve", i+1)
			}
		}
		if ok, _ := spend(t, ctx, l, 7, 1); ok {
			t.Errorf("a check run went past the hour's budget")
		}
	})
}

// TestReplicasShareOneLedger: two replicas spending for one installation
// at once never spend more than the budget between them.
func TestReplicasShareOneLedger(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		ledgers := []*budget.Ledger{open(t, url, c, 30, 1000, 0), open(t, url, c, 30, 1000, 0)}
		var granted atomic.Int64
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					ok, _, err := ledgers[g%2].Spend(context.Background(), 7, 1)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						granted.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if n := granted.Load(); n != 30 {
			t.Errorf("the replicas were granted %d requests, want exactly the budget of 30", n)
		}
	})
}
