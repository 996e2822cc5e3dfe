package ghclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/ghclient"
)

type countingBudget struct {
	room   int
	freeAt time.Time
	spent  int
}

func (b *countingBudget) Spend(_ context.Context, _ int64, n int) (bool, time.Time, error) {
	if b.spent+n > b.room {
		return false, b.freeAt, nil
	}
	b.spent += n
	return true, time.Time{}, nil
}

type okTransport struct{ sent []string }

func (o *okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	o.sent = append(o.sent, r.Method)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
}

// TestContentCreatingRequestsSpendTheBudget: POSTs of an installation are
// recorded before they are sent; one that does not fit waits for room up
// to MaxWait, and beyond it is not sent at all.
func TestContentCreatingRequestsSpendTheBudget(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	b := &countingBudget{room: 2, freeAt: now.Add(time.Hour)}
	next := &okTransport{}
	var slept time.Duration
	tr := &ghclient.Transport{Next: next, Installation: 7, Limits: ghclient.Limits{WriteSpacing: -1, Budget: b, MaxWait: 2 * time.Minute,
		Now: func() time.Time { return now.Add(slept) }, Sleep: func(_ context.Context, d time.Duration) error { slept += d; return nil }}}
	do := func(method string) error {
		req, _ := http.NewRequest(method, "https://api.github.com/repos/acme/shop/check-runs", nil)
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for _, m := range []string{"POST", "GET", "PATCH", "POST"} {
		if err := do(m); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	if b.spent != 2 {
		t.Errorf("spent %d, want the two POSTs only", b.spent)
	}
	err := do("POST")
	var spent *ghclient.SpentError
	if !errors.As(err, &spent) || !spent.Until.Equal(now.Add(time.Hour)) || spent.Installation != 7 {
		t.Fatalf("a POST beyond the budget: %v, want a SpentError until %v", err, now.Add(time.Hour))
	}
	if len(next.sent) != 4 {
		t.Errorf("%d requests sent, want the 4 that fit", len(next.sent))
	}
	// Room within MaxWait: the request waits for it.
	b.freeAt = now.Add(30 * time.Second)
	b.room = 3
	b.spent = 3
	tr.Limits.Sleep = func(_ context.Context, d time.Duration) error { slept += d; b.spent = 0; return nil }
	if err := do("POST"); err != nil || slept < 30*time.Second {
		t.Errorf("a POST with room in 30s: %v after waiting %v", err, slept)
	}
}
