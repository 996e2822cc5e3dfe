// Package workers runs the iterations of a loop on a few goroutines that
// live for the whole loop, taking the indices in order.
package workers

import (
	"context"
	"sync"
	"sync/atomic"
)

// Each calls do(worker, i) for every i in [0, n), on at most workers
// goroutines (worker is the goroutine's number, below workers, for state
// kept per goroutine), and returns once every call has returned. The
// goroutines take the indices in order and take no new one once ctx is
// done. Long-lived workers, rather than a goroutine per index, keep the
// stacks they grew: starting each call on a new small stack and growing it
// through the parsers' recursion cost 4 % of an analysis's CPU.
func Each(ctx context.Context, n, workers int, do func(worker, i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(w, i)
			}
		}()
	}
	wg.Wait()
}
