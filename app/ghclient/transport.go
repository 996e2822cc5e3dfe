package ghclient

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport retries and paces requests to GitHub. One Transport serves one
// installation, so its write lock serializes that installation's writes.
type Transport struct {
	Next   http.RoundTripper
	Limits Limits
	// Installation is the installation whose token Next adds, 0 for the
	// App's own requests, which spend no installation's budget.
	Installation int64

	writeMu   sync.Mutex
	lastWrite time.Time
}

func mutating(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	l := t.Limits.withDefaults()
	ctx := req.Context()
	if mutating(req.Method) {
		t.writeMu.Lock()
		defer t.writeMu.Unlock()
		if wait := l.WriteSpacing - l.Now().Sub(t.lastWrite); wait > 0 && !t.lastWrite.IsZero() {
			if err := l.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		defer func() { t.lastWrite = l.Now() }()
	}
	body, err := bufferBody(req)
	if err != nil {
		return nil, err
	}
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		// Every attempt is recorded: GitHub may have counted one that
		// failed, and counting too many only keeps a wider margin.
		if err := t.spend(req, l); err != nil {
			return nil, err
		}
		r := req.Clone(ctx)
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		resp, err := t.Next.RoundTrip(r)
		if err != nil {
			if attempt >= l.MaxRetries || mutating(req.Method) || ctx.Err() != nil {
				return nil, err
			}
			if serr := l.Sleep(ctx, backoff); serr != nil {
				return nil, serr
			}
			backoff *= 2
			continue
		}
		wait, retry := t.retryAfter(resp, l, attempt, &backoff)
		if !retry || attempt >= l.MaxRetries {
			return resp, nil
		}
		if wait > l.MaxWait {
			return resp, nil
		}
		drain(resp)
		if err := l.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// spend records a content-creating request in the shared budget, waiting
// for room up to MaxWait.
func (t *Transport) spend(req *http.Request, l Limits) error {
	if l.Budget == nil || t.Installation == 0 || req.Method != http.MethodPost {
		return nil
	}
	for {
		ok, at, err := l.Budget.Spend(req.Context(), t.Installation, 1)
		if err != nil || ok {
			return err
		}
		wait := at.Sub(l.Now())
		if wait > l.MaxWait {
			return &SpentError{Installation: t.Installation, Until: at}
		}
		if err := l.Sleep(req.Context(), max(wait, time.Second)); err != nil {
			return err
		}
	}
}

// retryAfter decides whether a response should be retried and after how
// long, in the order GitHub documents: Retry-After; then, with no requests
// remaining, x-ratelimit-reset; then exponential back-off (from a minute
// for a secondary limit that names no time).
func (t *Transport) retryAfter(resp *http.Response, l Limits, attempt int, backoff *time.Duration) (time.Duration, bool) {
	switch {
	case resp.StatusCode >= 500:
		w := *backoff
		*backoff *= 2
		return w, true
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
	default:
		return 0, false
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			if d := time.Unix(n, 0).Sub(l.Now()); d > 0 {
				return d + time.Second, true
			}
			return time.Second, true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || isSecondaryLimit(resp) {
		w := time.Minute << attempt
		return w, true
	}
	return 0, false
}

// isSecondaryLimit peeks at a 403 body for GitHub's secondary-limit message
// and leaves the body readable for the caller.
func isSecondaryLimit(resp *http.Response) bool {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return false
	}
	s := strings.ToLower(string(b))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse")
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// bufferBody reads the request body once so that it can be re-sent; API
// request bodies are JSON of bounded size.
func bufferBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, 64<<20))
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return b, nil
}
