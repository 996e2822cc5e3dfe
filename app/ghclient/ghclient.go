// Package ghclient builds the GitHub clients the app uses: go-github v60 on
// top of ghinstallation (installation tokens cached until near expiry),
// behind a transport that respects GitHub's limits — it waits out
// secondary rate limits (Retry-After, then x-ratelimit-reset, then
// back-off), retries server errors, and serializes and spaces mutating
// requests per installation, as GitHub's best practices ask. go-github
// v60 reports rate limits but never waits, so this is where waiting lives.
package ghclient

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// Factory hands out clients per installation and keeps their token caches.
type Factory struct {
	AppID int64
	Key   *rsa.PrivateKey
	// APIURL is the REST base ("https://api.github.com/" or
	// "https://ghe.example.com/api/v3/"); UploadURL likewise.
	APIURL    string
	UploadURL string
	// Base is the transport under everything, usually the metrics one.
	Base  http.RoundTripper
	Limit Limits

	mu       sync.Mutex
	installs map[int64]*Installation
}

// Installation is one installation's client and token source.
type Installation struct {
	ID     int64
	Client *github.Client
	tokens *ghinstallation.Transport
}

// Token returns a valid installation token, for git over HTTPS.
func (i *Installation) Token(ctx context.Context) (string, error) { return i.tokens.Token(ctx) }

func (f *Factory) base() http.RoundTripper {
	if f.Base != nil {
		return f.Base
	}
	return http.DefaultTransport
}

func (f *Factory) restBase() string {
	if f.APIURL == "" {
		return "https://api.github.com"
	}
	return strings.TrimRight(f.APIURL, "/")
}

func (f *Factory) newClient(rt http.RoundTripper) (*github.Client, error) {
	c := github.NewClient(&http.Client{Transport: rt})
	if f.APIURL == "" {
		return c, nil
	}
	u, err := url.Parse(strings.TrimRight(f.APIURL, "/") + "/")
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL: %w", err)
	}
	c.BaseURL = u
	up := f.UploadURL
	if up == "" {
		up = f.APIURL
	}
	if c.UploadURL, err = url.Parse(strings.TrimRight(up, "/") + "/"); err != nil {
		return nil, fmt.Errorf("GitHub upload URL: %w", err)
	}
	return c, nil
}

// App returns a client authenticated as the app itself (JWT), for /app routes.
func (f *Factory) App() (*github.Client, error) {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(f.base(), f.AppID, f.Key)
	atr.BaseURL = f.restBase()
	return f.newClient(&Transport{Next: atr, Limits: f.Limit})
}

// Installation returns the cached client of an installation.
func (f *Factory) Installation(id int64) (*Installation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if inst, ok := f.installs[id]; ok {
		return inst, nil
	}
	atr := ghinstallation.NewAppsTransportFromPrivateKey(f.base(), f.AppID, f.Key)
	atr.BaseURL = f.restBase()
	itr := ghinstallation.NewFromAppsTransport(atr, id)
	itr.BaseURL = f.restBase()
	c, err := f.newClient(&Transport{Next: itr, Limits: f.Limit, Installation: id})
	if err != nil {
		return nil, err
	}
	if f.installs == nil {
		f.installs = map[int64]*Installation{}
	}
	inst := &Installation{ID: id, Client: c, tokens: itr}
	f.installs[id] = inst
	return inst, nil
}

// Limits tune the waiting; zero values mean GitHub's recommendations.
type Limits struct {
	// MaxRetries bounds retries of one request (default 5).
	MaxRetries int
	// MaxWait is the longest single wait; a rate limit that resets later
	// is returned to the caller as an error (default 2 minutes).
	MaxWait time.Duration
	// WriteSpacing is the pause between mutating requests of one
	// installation (default 1 s, GitHub's advice).
	WriteSpacing time.Duration
	// Sleep waits; tests replace it to run on a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for x-ratelimit-reset.
	Now func() time.Time
	// Budget, when set, records each content-creating request (a POST) of
	// an installation before it is sent, in a ledger every replica shares.
	// A request that does not fit waits up to MaxWait, then fails with
	// *SpentError.
	Budget Budget
}

// Budget is the installations' shared budget of content-creating requests
// (app/budget).
type Budget interface {
	// Spend records n requests now if they fit, or says when they would.
	Spend(ctx context.Context, installation int64, n int) (ok bool, retryAt time.Time, err error)
}

// SpentError is a content-creating request that was not sent because the
// installation's budget is spent for longer than MaxWait.
type SpentError struct {
	Installation int64
	Until        time.Time
}

func (e *SpentError) Error() string {
	return fmt.Sprintf("installation %d has spent its budget of content-creating requests until %s", e.Installation, e.Until.UTC().Format(time.RFC3339))
}

func (l Limits) withDefaults() Limits {
	if l.MaxRetries == 0 {
		l.MaxRetries = 5
	}
	if l.MaxWait == 0 {
		l.MaxWait = 2 * time.Minute
	}
	if l.WriteSpacing == 0 {
		l.WriteSpacing = time.Second
	}
	if l.WriteSpacing < 0 {
		l.WriteSpacing = 0
	}
	if l.Sleep == nil {
		l.Sleep = sleep
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
