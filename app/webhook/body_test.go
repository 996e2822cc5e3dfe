package webhook_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/webhook"
)

// forgedSignature is well formed, so the handler must read the body to
// find out it is wrong.
var forgedSignature = "sha256=" + strings.Repeat("ab", 32)

// stalledBody sends size bytes, the first half at once and the rest only
// when released, like an attacker trickling a large body.
type stalledBody struct {
	size    int
	sent    int
	release <-chan struct{}
	halfway chan<- struct{}
	once    sync.Once
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if b.sent >= b.size {
		return 0, io.EOF
	}
	if b.sent >= b.size/2 {
		b.once.Do(func() { close(b.halfway) })
		<-b.release
	}
	n := min(len(p), b.size-b.sent)
	for i := range p[:n] {
		p[i] = ' '
	}
	b.sent += n
	return n, nil
}

func TestBodiesInFlightAreBounded(t *testing.T) {
	const limit = webhook.MaxBody + 8<<20
	fq := &fakeQueue{}
	h, err := webhook.New(webhook.Config{Secret: secret, BotLogin: bot, Queue: fq, Logger: slog.New(slog.DiscardHandler), MaxInFlight: limit})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	// Four unsigned 6 MB bodies of unknown length, each stalled halfway,
	// take 24 MB of the budget between them.
	var wg sync.WaitGroup
	codes := make(chan int, 4)
	for i := range 4 {
		halfway := make(chan struct{})
		req := httptest.NewRequest(http.MethodPost, "/webhook", &stalledBody{size: 6 << 20, release: release, halfway: halfway})
		req.ContentLength = -1
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "flood-"+string(rune('a'+i)))
		req.Header.Set("X-Hub-Signature-256", forgedSignature)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			codes <- rec.Code
		}()
		<-halfway
	}
	// A fifth large body declaring its length does not fit: refused at once
	// with Retry-After, before a byte is read.
	big := bytes.Repeat([]byte(" "), 20<<20)
	rec := deliver(h, "push", "too-much", big, forgedSignature)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("a body past the in-flight budget: %d Retry-After=%q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	// A small signed delivery still fits beside the flood.
	if rec := signed(h, "push", "small", payload(t, "push.event.4")); rec.Code != http.StatusAccepted {
		t.Errorf("a signed delivery during the flood: %d %s", rec.Code, rec.Body)
	}
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusUnauthorized && c != http.StatusServiceUnavailable {
			t.Errorf("a forged flood delivery was answered %d, want 401 or 503", c)
		}
	}
	// Everything reserved was given back: the largest delivery fits again.
	if rec := deliver(h, "push", "after", big, forgedSignature); rec.Code != http.StatusUnauthorized {
		t.Errorf("after the flood a large forged body got %d, want 401 (the budget was not given back)", rec.Code)
	}
	if len(fq.jobs) != 1 {
		t.Errorf("queued %d jobs, want only the signed delivery's", len(fq.jobs))
	}
}

func TestMalformedSignatureIsRefusedUnread(t *testing.T) {
	h := newHandler(t, &fakeQueue{}, nil)
	body := &countingReader{r: bytes.NewReader(payload(t, "push.event.4"))}
	for _, sig := range []string{"", "sha1=abc", "sha256=xyz", "sha256=" + strings.Repeat("ab", 31)} {
		req := httptest.NewRequest(http.MethodPost, "/webhook", body)
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "malformed")
		req.Header.Set("X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("signature %q: %d, want 401", sig, rec.Code)
		}
	}
	if body.n != 0 {
		t.Errorf("read %d bytes of bodies whose signature header was malformed, want 0", body.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestInFlightBelowOneDeliveryIsRefused(t *testing.T) {
	_, err := webhook.New(webhook.Config{Secret: secret, BotLogin: bot, Queue: &fakeQueue{}, MaxInFlight: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "MaxInFlight") {
		t.Errorf("New with a budget below one delivery: %v, want an error naming MaxInFlight", err)
	}
}

// zeros is an endless body that costs the sender no memory.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	z.left -= int64(n)
	return n, nil
}

// The reproduction of the issue: forty concurrent unsigned 24 MB posts
// over real TCP held 1.4 GB when bodies were read whole before the check.
func TestUnsignedFloodStaysWithinTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("posts 960 MB over loopback")
	}
	h := newHandler(t, &fakeQueue{}, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				peak <- top
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&m)
				top = max(top, m.HeapInuse)
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, &zeros{left: 24 << 20})
			if i%2 == 0 {
				req.ContentLength = 24 << 20 // half declare their length, half stream chunked
			}
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", "flood")
			req.Header.Set("X-Hub-Signature-256", forgedSignature)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // the server may close a refused upload mid-body
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	grown := int64(<-peak) - int64(before.HeapInuse)
	t.Logf("answers %v; heap grew by at most %d MiB", codes, grown>>20)
	// The heap holds the budget's live bodies plus the garbage of refused
	// ones until the next collection (GOGC lets it reach twice the live
	// heap), so twice the budget and some slack; unbounded it was 1.4 GB.
	if limit := int64(2*webhook.DefaultMaxInFlight + 64<<20); grown > limit {
		t.Errorf("heap grew by %d MiB during the flood, want under %d MiB", grown>>20, limit>>20)
	}
	for code := range codes {
		if code != http.StatusUnauthorized && code != http.StatusServiceUnavailable {
			t.Errorf("a forged delivery was answered %d", code)
		}
	}
}
