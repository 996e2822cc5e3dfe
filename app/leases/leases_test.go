package leases_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/leases"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

func open(t *testing.T, url string) *leases.Store {
	t.Helper()
	s, err := leases.Open(context.Background(), queuetest.Database(t, url))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOneHolderAtATime: while a job holds a branch's lease, another job
// (on another replica: another store on the same database) is told who
// holds it and until when, and does not run; once released, it runs.
func TestOneHolderAtATime(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		a, b := open(t, url), open(t, url)
		err := a.Hold(ctx, "acme/shop:main", "job 1", func(ctx context.Context, _ *leases.Lease) error {
			ran := false
			err := b.Hold(ctx, "acme/shop:main", "job 2", func(context.Context, *leases.Lease) error { ran = true; return nil })
			var held *leases.HeldError
			if !errors.As(err, &held) || held.Holder != "job 1" || time.Until(held.Until) <= 0 || ran {
				t.Errorf("a second holder got %v (ran: %v), want HeldError naming job 1 with a future expiry", err, ran)
			}
			// Another key is independent.
			return b.Hold(ctx, "acme/shop:release", "job 2", func(context.Context, *leases.Lease) error { return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		ran := false
		if err := b.Hold(ctx, "acme/shop:main", "job 2", func(context.Context, *leases.Lease) error { ran = true; return nil }); err != nil || !ran {
			t.Fatalf("after release: %v, ran %v", err, ran)
		}
	})
}

// TestConcurrentTakersGetOneLease: many replicas trying at once; never two
// inside at the same time.
func TestConcurrentTakersGetOneLease(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var inside, most, ran atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			s := open(t, url)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := s.Hold(ctx, "acme/shop:main", "job "+string(rune('a'+i)), func(context.Context, *leases.Lease) error {
						n := inside.Add(1)
						for {
							m := most.Load()
							if n <= m || most.CompareAndSwap(m, n) {
								break
							}
						}
						time.Sleep(5 * time.Millisecond)
						inside.Add(-1)
						ran.Add(1)
						return nil
					})
					var held *leases.HeldError
					if errors.As(err, &held) {
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						t.Error(err)
					}
					return
				}
			}()
		}
		wg.Wait()
		if most.Load() != 1 || ran.Load() != 8 {
			t.Errorf("at most %d holders at once (want 1), %d of 8 ran", most.Load(), ran.Load())
		}
	})
}

// abandon takes key's lease for holder and keeps it without renewing it
// (the TTL is far longer than the test) until the test ends: a process
// that died mid-job, as the database sees it.
func abandon(t *testing.T, s *leases.Store, key, holder string) {
	t.Helper()
	started, end, done := make(chan error, 1), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		err := s.Hold(context.Background(), key, holder, func(context.Context, *leases.Lease) error {
			started <- nil
			<-end
			return nil
		})
		if err != nil {
			started <- err
		}
	}()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(end); <-done })
}

// TestAbandonedLeaseExpires: a holder that died (its lease neither renewed
// nor released) blocks others until the TTL passes; a retry of the same
// job takes it over at once.
func TestAbandonedLeaseExpires(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		dead, other := open(t, url), open(t, url)
		dead.Now, other.Now = clock, clock
		dead.TTL, other.TTL = time.Hour, time.Hour
		nothing := func(context.Context, *leases.Lease) error { return nil }

		abandon(t, dead, "acme/shop:main", "job 7")
		var held *leases.HeldError
		if err := other.Hold(ctx, "acme/shop:main", "job 8", nothing); !errors.As(err, &held) {
			t.Fatalf("a live lease was taken: %v", err)
		}
		if want := clock().Add(time.Hour); !held.Until.Equal(want) {
			t.Errorf("expires at %s, want %s", held.Until, want)
		}
		if err := other.Hold(ctx, "acme/shop:main", "job 7", nothing); err != nil {
			t.Errorf("the same job's retry should take over its dead attempt's lease: %v", err)
		}

		abandon(t, dead, "acme/shop:release", "job 9")
		advance(time.Hour - time.Millisecond)
		if err := other.Hold(ctx, "acme/shop:release", "job 8", nothing); !errors.As(err, &held) {
			t.Fatalf("taken before the TTL passed: %v", err)
		}
		advance(time.Millisecond)
		if err := other.Hold(ctx, "acme/shop:release", "job 8", nothing); err != nil {
			t.Errorf("an expired lease should be taken: %v", err)
		}
	})
}

// TestLongJobKeepsItsLease: a job running for several TTLs renews its
// lease, so nobody else gets in.
func TestLongJobKeepsItsLease(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s, other := open(t, url), open(t, url)
		s.TTL, other.TTL = 300*time.Millisecond, 300*time.Millisecond
		err := s.Hold(ctx, "acme/shop:main", "job 1", func(ctx context.Context, _ *leases.Lease) error {
			deadline := time.Now().Add(4 * s.TTL)
			for time.Now().Before(deadline) {
				var held *leases.HeldError
				if err := other.Hold(ctx, "acme/shop:main", "job 2", func(context.Context, *leases.Lease) error { return nil }); !errors.As(err, &held) {
					t.Fatalf("another job got in while the lease was renewed: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			return ctx.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestLostLeaseCancelsTheHolder: when a holder's lease was taken because
// it expired (its renewals did not reach the database), its context is
// cancelled with ErrLost, so it stops before writing over the new holder.
func TestLostLeaseCancelsTheHolder(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s, other := open(t, url), open(t, url)
		s.TTL, other.TTL = 150*time.Millisecond, 150*time.Millisecond
		// To the other replica, a minute has passed since the holder's last
		// renewal: as if the renewals had failed for that long.
		other.Now = func() time.Time { return time.Now().Add(time.Minute) }
		err := s.Hold(ctx, "acme/shop:main", "job 1", func(first context.Context, l *leases.Lease) error {
			if err := other.Hold(ctx, "acme/shop:main", "job 2", func(context.Context, *leases.Lease) error {
				<-first.Done() // the first holder notices while the second holds it
				return nil
			}); err != nil {
				t.Errorf("the expired lease should be taken: %v", err)
			}
			if !errors.Is(context.Cause(first), leases.ErrLost) {
				t.Errorf("the first holder's context ended with %v, want ErrLost", context.Cause(first))
			}
			if err := l.Finish(context.Background(), "abc"); !errors.Is(err, leases.ErrLost) {
				t.Errorf("a lost lease's Finish = %v, want ErrLost", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestFinishIsSeenByTheNextHolder: what a holder finished, and when it
// took the lease, is what the next holder reads.
func TestFinishIsSeenByTheNextHolder(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		var taken time.Time
		err := s.Hold(ctx, "acme/shop:main", "job 1", func(ctx context.Context, l *leases.Lease) error {
			if l.Last() != (leases.Record{}) {
				t.Errorf("a first holder sees %+v", l.Last())
			}
			taken = time.Now()
			return l.Finish(ctx, "abc123")
		})
		if err != nil {
			t.Fatal(err)
		}
		err = open(t, url).Hold(ctx, "acme/shop:main", "job 2", func(ctx context.Context, l *leases.Lease) error {
			if got := l.Last(); got.What != "abc123" || got.Taken.After(taken) || taken.Sub(got.Taken) > time.Minute {
				t.Errorf("the next holder sees %+v, want abc123 taken just before %s", got, taken)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
