package pacing_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/pacing"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

func open(t *testing.T, url string, c *queuetest.Clock, maxOpen, perHour int) *pacing.Pacer {
	t.Helper()
	p, err := pacing.Open(context.Background(), queuetest.Database(t, url))
	if err != nil {
		t.Fatal(err)
	}
	p.MaxOpen, p.PerHour, p.Now = maxOpen, perHour, c.Now
	return p
}

func admit(t *testing.T, p *pacing.Pacer, repo string, priority int) pacing.Decision {
	t.Helper()
	d, err := p.Admit(context.Background(), pacing.Want{Installation: 7, Repo: repo, Branch: "main", Priority: priority})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestNewPullRequestsAreHourlyAndInOrder: two an hour; those that wait
// are told their place and turn, and are served most serious first.
func TestNewPullRequestsAreHourlyAndInOrder(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		p := open(t, url, c, 10, 2)
		start := c.Now()
		for i, repo := range []string{"acme/a", "acme/b"} {
			if d := admit(t, p, repo, 1); !d.Admitted {
				t.Fatalf("pull request %d of the hour waits: %+v", i+1, d)
			}
			must(t, p.Opened(ctx, 7, repo, "main", i+1))
			c.Advance(time.Minute)
		}
		low := admit(t, p, "acme/low", 5)
		high := admit(t, p, "acme/high", 50)
		mid := admit(t, p, "acme/mid", 20)
		if low.Admitted || high.Admitted || mid.Admitted {
			t.Fatalf("the third pull request of the hour was admitted")
		}
		if high.Because != pacing.HourLimit || high.Position != 1 || !high.ResumeAt.Equal(start.Add(time.Hour)) {
			t.Errorf("the most serious one: %+v; want first in line, at %v", high, start.Add(time.Hour))
		}
		if mid.Position != 2 || !mid.ResumeAt.Equal(start.Add(time.Hour+time.Minute)) || mid.Waiting != 3 {
			t.Errorf("the middle one: %+v; want second of 3, when the second place frees", mid)
		}
		if turn, err := p.Due(ctx, 7); err != nil || len(turn.Granted) != 0 || !turn.Next.Equal(start.Add(time.Hour)) {
			t.Fatalf("Due within the hour = %+v, %v", turn, err)
		}
		c.Advance(time.Hour)
		turn, err := p.Due(ctx, 7)
		if err != nil || len(turn.Granted) != 2 || turn.Granted[0].Repo != "acme/high" || turn.Granted[1].Repo != "acme/mid" || turn.Waiting != 1 {
			t.Fatalf("Due an hour later = %+v, %v; want high then mid", turn, err)
		}
		// A retry of the granted one's job finds its place held.
		if d := admit(t, p, "acme/high", 50); !d.Admitted {
			t.Errorf("a granted place was not held for its retry: %+v", d)
		}
		// A pull request GitHub failed to open goes back to the line, ahead
		// of the less serious one.
		must(t, p.Requeue(ctx, 7, turn.Granted[1]))
		if line, _ := p.Line(ctx, 7); len(line) != 2 || line[0].Repo != "acme/mid" {
			t.Errorf("the line after a requeue: %+v", line)
		}
		if turn, _ := p.Due(ctx, 7); len(turn.Granted) != 1 || turn.Granted[0].Repo != "acme/mid" {
			t.Errorf("the requeued place should be granted again: %+v", turn)
		}
		// A change that cannot be proposed gives its place back.
		must(t, p.Release(ctx, 7, "acme/mid", "main"))
		if turn, _ := p.Due(ctx, 7); len(turn.Granted) != 1 || turn.Granted[0].Repo != "acme/low" {
			t.Errorf("the released place should go to the next in line: %+v", turn)
		}
	})
}

// TestOpenPullRequestsCapTheLine: at the limit the line waits for people
// to merge or close pull requests, which the pace job looks up.
func TestOpenPullRequestsCapTheLine(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		p := open(t, url, c, 2, 100)
		must(t, p.Track(ctx, 7, "acme/a", "main", 4))
		if d := admit(t, p, "acme/b", 1); !d.Admitted {
			t.Fatalf("second open pull request refused: %+v", d)
		}
		must(t, p.Opened(ctx, 7, "acme/b", "main", 9))
		d := admit(t, p, "acme/c", 1)
		if d.Admitted || d.Because != pacing.OpenLimit || !d.ResumeAt.IsZero() {
			t.Fatalf("at the open limit: %+v", d)
		}
		turn, err := p.Due(ctx, 7)
		if err != nil || len(turn.Granted) != 0 || len(turn.Refresh) != 2 {
			t.Fatalf("Due at the limit = %+v, %v; want a refresh of both open pull requests", turn, err)
		}
		if turn, _ := p.Due(ctx, 7); len(turn.Refresh) != 0 || turn.Next.IsZero() {
			t.Errorf("a second look right away should wait for the next refresh: %+v", turn)
		}
		must(t, p.Closed(ctx, 7, "acme/a", 4))
		if turn, _ := p.Due(ctx, 7); len(turn.Granted) != 1 || turn.Granted[0].Repo != "acme/c" {
			t.Errorf("a closed pull request frees a place: %+v", turn)
		}
		// A person's request does not wait.
		d, err = p.Admit(ctx, pacing.Want{Installation: 7, Repo: "acme/d", Branch: "main", Asked: true})
		if err != nil || !d.Admitted {
			t.Errorf("a person's request waited: %+v, %v", d, err)
		}
	})
}

// TestAGrantReachingTheLimitComesAlone: the places granted are handed
// over even when they fill the open limit; the look-up of open pull
// requests comes on the next call, never instead of them.
func TestAGrantReachingTheLimitComesAlone(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		p := open(t, url, c, 2, 1)
		if d := admit(t, p, "acme/a", 1); !d.Admitted {
			t.Fatal("first refused")
		}
		must(t, p.Opened(ctx, 7, "acme/a", "main", 1))
		admit(t, p, "acme/b", 1)
		admit(t, p, "acme/c", 1)
		c.Advance(time.Hour)
		turn, err := p.Due(ctx, 7)
		if err != nil || len(turn.Granted) != 1 || len(turn.Refresh) != 0 {
			t.Fatalf("Due = %+v, %v; want one granted and no refresh with it", turn, err)
		}
		must(t, p.Opened(ctx, 7, turn.Granted[0].Repo, "main", 1))
		if turn, _ := p.Due(ctx, 7); len(turn.Granted) != 0 || len(turn.Refresh) != 2 {
			t.Errorf("the next Due at the open limit = %+v; want a refresh of both", turn)
		}
	})
}

// TestBudgetKeepsPullRequestsWaiting: with no room in the budget, the
// line waits until the budget says.
func TestBudgetKeepsPullRequestsWaiting(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		p := open(t, url, c, 10, 10)
		freeAt := c.Now().Add(20 * time.Minute)
		p.Room = func(context.Context, int64) (int, time.Time, error) { return 1, time.Time{}, nil }
		if d := admit(t, p, "acme/a", 1); !d.Admitted {
			t.Fatalf("refused with room for one: %+v", d)
		}
		p.Room = func(context.Context, int64) (int, time.Time, error) { return 0, freeAt, nil }
		d := admit(t, p, "acme/b", 1)
		if d.Admitted || d.Because != pacing.BudgetLimit || !d.ResumeAt.Equal(freeAt) {
			t.Errorf("without budget: %+v; want waiting for the budget until %v", d, freeAt)
		}
		if turn, _ := p.Due(context.Background(), 7); len(turn.Granted) != 0 || !turn.Next.Equal(freeAt) {
			t.Errorf("Due without budget = %+v", turn)
		}
	})
}

// TestReplicasGrantEachPlaceOnce: replicas admitting at once never grant
// more than the hour's places.
func TestReplicasGrantEachPlaceOnce(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		c := queuetest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		pacers := []*pacing.Pacer{open(t, url, c, 100, 5), open(t, url, c, 100, 5)}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := pacers[i%2].Admit(context.Background(), pacing.Want{Installation: 7, Repo: fmt.Sprintf("acme/r%d", i), Branch: "main"})
				if err != nil {
					t.Error(err)
				}
				if d.Admitted {
					admitted.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := admitted.Load(); n != 5 {
			t.Errorf("%d admitted, want the hour's 5", n)
		}
	})
}
