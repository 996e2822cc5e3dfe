package githubtest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// Fault is a failure to inject into matching requests, after they have been
// authenticated and validated (so an invalid request is still reported).
type Fault struct {
	Status     int           // answer with this status; 0 only delays
	Message    string        // GitHub-shaped {"message": …}; a default is derived from Status
	RetryAfter int           // seconds, sent as Retry-After when > 0
	Times      int           // how many requests to affect; 0 means until cleared
	Delay      time.Duration // wait before answering (the request's context can cut it short)
	// Skip lets this many matching requests through before the fault
	// applies: the second checks/update of a run, not its first.
	Skip int
	// Applied holds the answer instead of the request: the request takes
	// effect, then its answer waits Delay (Status is ignored). A client
	// killed meanwhile never learns that its write landed.
	Applied bool

	docs string // documentation_url; GitHub's differs for rate limits
}

// secondaryDocsURL is the documentation_url of GitHub's secondary-limit
// answer; clients (go-github among them) recognise the limit by it.
const secondaryDocsURL = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"

// SecondaryRateLimit is the 403 GitHub sends when a secondary rate limit
// is hit, with Retry-After.
func SecondaryRateLimit(retryAfter, times int) Fault {
	return Fault{
		Status:     http.StatusForbidden,
		Message:    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
		RetryAfter: retryAfter,
		Times:      times,
		docs:       secondaryDocsURL,
	}
}

// FaultHandle is an injected fault; Clear removes it.
type FaultHandle struct {
	s     *Server
	match string
	f     Fault
	left  int
	skip  int
	hits  int
}

// Fault injects f into requests matching route: an operationId
// ("checks/update"), "METHOD /path/template" ("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"),
// "git-upload-pack" for smart HTTP, or "*" for everything.
func (s *Server) Fault(route string, f Fault) *FaultHandle {
	h := &FaultHandle{s: s, match: route, f: f, left: f.Times, skip: f.Skip}
	s.mu.Lock()
	s.faults = append(s.faults, h)
	s.mu.Unlock()
	return h
}

// Clear removes the fault.
func (h *FaultHandle) Clear() {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	for i, f := range h.s.faults {
		if f == h {
			h.s.faults = append(h.s.faults[:i], h.s.faults[i+1:]...)
			return
		}
	}
}

// Hits is how many requests the fault has affected (skipped ones not
// counted): with a Delay, a hit is a request held in flight, which a test
// can wait for before it kills the client; with Applied, one that has
// taken effect and whose answer is held.
func (h *FaultHandle) Hits() int {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.hits
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (h *FaultHandle) matches(method, template, operation string) bool {
	switch {
	case h.match == "*", h.match == operation:
		return true
	}
	m, t, ok := strings.Cut(h.match, " ")
	return ok && strings.EqualFold(m, method) && t == template
}

// takeFault returns the fault for this request, consuming one use.
func (s *Server) takeFault(method, template, operation string) (Fault, bool) {
	f, _, ok := s.takeFaultHandle(method, template, operation)
	return f, ok
}

// takeFaultHandle is takeFault with the fault's handle. A fault that holds
// the answer (Applied) counts its hit once the request took effect.
func (s *Server) takeFaultHandle(method, template, operation string) (Fault, *FaultHandle, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range s.faults {
		if !h.matches(method, template, operation) {
			continue
		}
		if h.skip > 0 {
			h.skip--
			continue
		}
		if !h.f.Applied {
			h.hits++
		}
		if h.f.Times > 0 {
			h.left--
			if h.left <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return h.f, h, true
	}
	return Fault{}, nil, false
}

// injectFault applies the fault of a REST request, if any: answered
// reports whether the request was answered; held is a fault to apply
// after the request took effect (Fault.Applied).
func (s *Server) injectFault(c *ctx) (answered bool, held *FaultHandle) {
	f, h, ok := s.takeFaultHandle(c.r.Method, c.op.Template, c.op.ID)
	switch {
	case !ok:
		return false, nil
	case f.Applied:
		return false, h
	}
	return applyFault(c.w, c.r, f), nil
}

// holdAnswer runs fn, the request's handler, counts the hit, and holds
// the answer back for the fault's Delay; the answer is dropped if the
// client goes away meanwhile.
func (s *Server) holdAnswer(c *ctx, h *FaultHandle, fn func()) {
	real := c.w.ResponseWriter
	held := httptest.NewRecorder()
	c.w.ResponseWriter = held
	fn()
	c.w.ResponseWriter = real
	s.mu.Lock()
	h.hits++
	s.mu.Unlock()
	select {
	case <-time.After(h.f.Delay):
	case <-c.r.Context().Done():
		return
	}
	for k, v := range held.Header() {
		real.Header()[k] = v
	}
	real.WriteHeader(held.Code)
	_, _ = real.Write(held.Body.Bytes())
}

// applyFault delays and/or answers; it reports whether it answered.
func applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	docs := f.docs
	if docs == "" {
		docs = docsURL
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(`{"message":` + strconv.Quote(msg) + `,"documentation_url":"` + docs + `"}` + "\n"))
	return true
}
