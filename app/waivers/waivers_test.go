package waivers_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"

	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/waivers"
)

func open(t *testing.T, url string) *waivers.Store {
	t.Helper()
	q, err := queue.Open(context.Background(), url, queue.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	s, err := waivers.Open(context.Background(), q.Database())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWaiversAreKeptOncePerRuleAndPath(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		if got, err := s.List(ctx, "acme/shop"); err != nil || len(got) != 0 {
			t.Fatalf("List of a repository without waivers = %v, %v", got, err)
		}
		w := waivers.Waiver{Repo: "acme/shop", Rule: "apt-no-install-recommends", Path: "svc/Dockerfile", Author: "bob", At: 1}
		for i, want := range []bool{true, false} {
			if added, err := s.Add(ctx, w); err != nil || added != want {
				t.Errorf("Add #%d = %v, %v; want %v", i+1, added, err, want)
			}
		}
		other := w
		other.Path = ""
		if added, err := s.Add(ctx, other); err != nil || !added {
			t.Errorf("the same rule everywhere is another waiver: %v, %v", added, err)
		}
		// A second store on the same database (another replica, a restart)
		// sees them.
		got, err := open(t, url).List(ctx, "acme/shop")
		if err != nil || len(got) != 2 || got[0] != w || got[1] != other {
			t.Errorf("List = %+v, %v; want the two waivers, oldest first", got, err)
		}
		if got, _ := s.List(ctx, "acme/other"); len(got) != 0 {
			t.Errorf("waivers leak to another repository: %+v", got)
		}
	})
}

// TestConcurrentWaiversAreAllKept: replicas answering several `/dockopt
// ignore` at once must not overwrite each other's additions.
func TestConcurrentWaiversAreAllKept(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		stores := []*waivers.Store{open(t, url), open(t, url)}
		const n = 8
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := waivers.Waiver{Repo: "acme/shop", Rule: fmt.Sprintf("rule-%d", i), Author: "bob"}
				if added, err := stores[i%2].Add(ctx, w); err != nil || !added {
					t.Errorf("Add %s = %v, %v", w.Rule, added, err)
				}
			}()
		}
		wg.Wait()
		got, err := stores[0].List(ctx, "acme/shop")
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, w := range got {
			rules = append(rules, w.Rule)
		}
		sort.Strings(rules)
		if len(rules) != n {
			t.Errorf("kept %v, want all %d", rules, n)
		}
	})
}
