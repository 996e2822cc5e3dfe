// Package budget keeps GitHub's budget of content-creating requests per
// installation — 500 an hour and 80 a minute, over sliding windows,
// before secondary rate limits answer 403 — in the queue's database, so
// that every replica spends from one ledger. Each request is recorded
// before it is sent; one that does not fit is not sent, and the caller
// learns when it would.
//
// The budget is spent on the most valuable work first: check runs (and
// everything else people wait for) may use all of it, new optimization
// pull requests only what is left above a reserve, so that a burst of
// onboarding pull requests can never keep a push from getting its check
// run.
package budget

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/dockopt/dockopt/app/rowstore"
)

// GitHub's limits per installation (docs: secondary rate limits).
const (
	GitHubPerHour   = 500
	GitHubPerMinute = 80
)

// Defaults keep a tenth of GitHub's limits in hand: a request is recorded
// a moment before GitHub counts it, and retried requests may count twice.
const (
	DefaultPerHour   = 450
	DefaultPerMinute = 72
	// DefaultReserve is the part of the hourly budget new pull requests
	// may not use.
	DefaultReserve = 150
)

// Class says how valuable a request is.
type Class int

const (
	// Checks are check runs and what people asked for (reviews, answers):
	// they may use the whole budget.
	Checks Class = iota
	// Proposals are the writes of new or updated optimization pull
	// requests: they stop at the reserve.
	Proposals
)

type classKey struct{}

// WithClass marks the requests made with ctx as of class c.
func WithClass(ctx context.Context, c Class) context.Context {
	return context.WithValue(ctx, classKey{}, c)
}

// ClassOf is the class of ctx's requests, Checks by default.
func ClassOf(ctx context.Context) Class {
	c, _ := ctx.Value(classKey{}).(Class)
	return c
}

// Ledger is the budget of every installation.
type Ledger struct {
	table *rowstore.Table
	// PerHour and PerMinute are what one installation may spend in any
	// hour and any minute; Reserve is the part of PerHour kept for Checks.
	PerHour, PerMinute, Reserve int
	// Now is the ledger's clock (tests run it on the fake GitHub's).
	Now func() time.Time
}

// Open creates the ledger's table if needed, with the default limits.
func Open(ctx context.Context, db rowstore.DB) (*Ledger, error) {
	t, err := rowstore.Open(ctx, db, "dockopt_budget")
	if err != nil {
		return nil, err
	}
	return &Ledger{table: t, PerHour: DefaultPerHour, PerMinute: DefaultPerMinute, Reserve: DefaultReserve, Now: time.Now}, nil
}

// spends are one installation's recorded requests of the last hour.
type spends struct {
	S []spend `json:"s"`
}

type spend struct {
	At    int64 `json:"t"` // Unix seconds on the ledger's clock
	N     int   `json:"n"`
	Class Class `json:"c,omitempty"`
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Spend records n content-creating requests of ctx's class for an
// installation now, if they fit; otherwise it records nothing and says
// when they would fit (assuming nothing else is spent meanwhile).
func (l *Ledger) Spend(ctx context.Context, installation int64, n int) (ok bool, retryAt time.Time, err error) {
	class := ClassOf(ctx)
	now := l.now()
	err = rowstore.Update(ctx, l.table, strconv.FormatInt(installation, 10), func(s *spends) (bool, error) {
		s.prune(now)
		if ok, retryAt = l.fits(s, now, n, class); !ok {
			return false, nil
		}
		s.add(now, n, class)
		return true, nil
	})
	return ok, retryAt, err
}

// Fits says whether n requests of class would fit now, recording nothing,
// and when they would if not.
func (l *Ledger) Fits(ctx context.Context, installation int64, n int, class Class) (ok bool, at time.Time, err error) {
	var s spends
	if _, err := l.table.Get(ctx, strconv.FormatInt(installation, 10), &s); err != nil {
		return false, time.Time{}, err
	}
	now := l.now()
	s.prune(now)
	ok, at = l.fits(&s, now, n, class)
	return ok, at, nil
}

// Available is how many requests of class would fit now.
func (l *Ledger) Available(ctx context.Context, installation int64, class Class) (int, error) {
	var s spends
	if _, err := l.table.Get(ctx, strconv.FormatInt(installation, 10), &s); err != nil {
		return 0, err
	}
	now := l.now()
	return max(0, min(l.hourCap(class)-s.since(now.Add(-time.Hour)), l.PerMinute-s.since(now.Add(-time.Minute)))), nil
}

// Spent is how many requests the installation made in the hour before now.
func (l *Ledger) Spent(ctx context.Context, installation int64) (int, error) {
	var s spends
	if _, err := l.table.Get(ctx, strconv.FormatInt(installation, 10), &s); err != nil {
		return 0, err
	}
	now := l.now()
	return s.since(now.Add(-time.Hour)), nil
}

func (l *Ledger) hourCap(class Class) int {
	if class == Proposals {
		return max(l.PerHour-l.Reserve, 0)
	}
	return l.PerHour
}

// fits checks both windows. A window holds the requests recorded after
// its start, as GitHub's do.
func (l *Ledger) fits(s *spends, now time.Time, n int, class Class) (bool, time.Time) {
	hour := s.freeAt(now, time.Hour, l.hourCap(class)-n)
	minute := s.freeAt(now, time.Minute, l.PerMinute-n)
	at := later(hour, minute)
	if n > l.hourCap(class) || n > l.PerMinute {
		// Never fits; say so with the far end of the window.
		return false, now.Add(time.Hour)
	}
	return !at.After(now), at
}

// freeAt is the first time from now on at which the window ending then
// holds at most limit recorded requests.
func (s *spends) freeAt(now time.Time, window time.Duration, limit int) time.Time {
	inWindow := s.since(now.Add(-window))
	if inWindow <= limit {
		return now
	}
	// The oldest requests leave the window first.
	excess := inWindow - limit
	for _, x := range s.S {
		t := time.Unix(x.At, 0)
		if !t.After(now.Add(-window)) {
			continue
		}
		excess -= x.N
		if excess <= 0 {
			return t.Add(window)
		}
	}
	return now.Add(window)
}

func (s *spends) since(t time.Time) int {
	n := 0
	for _, x := range s.S {
		if time.Unix(x.At, 0).After(t) {
			n += x.N
		}
	}
	return n
}

func (s *spends) prune(now time.Time) {
	cut := now.Add(-time.Hour).Unix()
	s.S = slices.DeleteFunc(s.S, func(x spend) bool { return x.At <= cut })
}

func (s *spends) add(now time.Time, n int, class Class) {
	at := now.Unix()
	if k := len(s.S); k > 0 && s.S[k-1].At == at && s.S[k-1].Class == class {
		s.S[k-1].N += n
		return
	}
	s.S = append(s.S, spend{At: at, N: n, Class: class})
	// Replicas' clocks differ a little: keep the list in time order.
	slices.SortStableFunc(s.S, func(a, b spend) int { return int(a.At - b.At) })
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
