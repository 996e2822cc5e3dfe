package workers

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestEachCallsEveryIndexOnce(t *testing.T) {
	for _, c := range []struct{ n, workers int }{{0, 4}, {1, 4}, {3, 4}, {1000, 4}, {10, 1}} {
		calls := make([]atomic.Int32, c.n)
		var badWorker atomic.Bool
		Each(context.Background(), c.n, c.workers, func(w, i int) {
			if w < 0 || w >= c.workers {
				badWorker.Store(true)
			}
			calls[i].Add(1)
		})
		for i := range calls {
			if got := calls[i].Load(); got != 1 {
				t.Errorf("n=%d workers=%d: index %d called %d times, want once", c.n, c.workers, i, got)
			}
		}
		if badWorker.Load() {
			t.Errorf("n=%d workers=%d: a worker number outside [0, %d)", c.n, c.workers, c.workers)
		}
	}
}

func TestEachStopsTakingIndicesWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	Each(ctx, 1000, 1, func(_, i int) {
		calls.Add(1)
		if i == 9 {
			cancel()
		}
	})
	if got := calls.Load(); got != 10 {
		t.Errorf("%d calls, want the 10 made before the cancel", got)
	}
}
