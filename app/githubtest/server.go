// Package githubtest is a strict fake of the GitHub surfaces dockopt uses,
// in the spirit of net/http/httptest: NewServer starts a real HTTP server
// that serves the REST routes of a GitHub App (checked against GitHub's own
// OpenAPI description), git smart HTTP over real bare repositories, and
// delivers signed webhooks. State is inspectable and faults can be injected.
//
// Strictness is the point: a route GitHub does not have, or a request GitHub
// would refuse as invalid (schema, documented limits), is answered the way
// GitHub answers it and also reported through t.Errorf, so that a bug in the
// code under test cannot hide behind a lenient double. Tests that send bad
// requests on purpose call ExpectViolations first and then inspect
// Violations.
package githubtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// Limits GitHub enforces beyond (or outside) its OpenAPI description. Each
// has its source in ../shared/github/platform-facts.md.
const (
	// MaxBodyChars: PR body and issue/review comment body, 422 "body is too
	// long (maximum is 65536 characters)" (renovatebot/renovate#2032).
	MaxBodyChars = 65536
	// MaxAnnotationsPerRequest: checks/create and checks/update maxItems.
	MaxAnnotationsPerRequest = 50
	// MaxOutputChars: output.summary and output.text maxLength.
	MaxOutputChars = 65535
	// ContentCreationPerMinute and ContentCreationPerHour: secondary rate
	// limits for content-creating requests per installation (docs:
	// secondary-rate-limit-rest-graphql), both over a sliding window.
	ContentCreationPerMinute = 80
	ContentCreationPerHour   = 500
	// DefaultTokenLifetime: installation tokens expire after one hour.
	DefaultTokenLifetime = time.Hour
	// maxRequestBody bounds what the fake reads; GitHub's own request cap
	// is larger, but no valid request of this app comes near it.
	maxRequestBody = 32 << 20
)

const docsURL = "https://docs.github.com/rest"

// Server is a running fake GitHub. Its exported fields are the App's
// registration: give them to the code under test.
type Server struct {
	AppID         int64
	AppSlug       string // the bot is "<AppSlug>[bot]"
	PrivateKey    *rsa.PrivateKey
	WebhookSecret string
	Clock         *Clock

	t       TB
	http    *httptest.Server
	spec    *apiSpec
	gitRoot string
	cfg     config

	// vmu guards violations and tolerate, which handlers record while
	// holding mu.
	vmu        sync.Mutex
	violations []string
	tolerate   bool

	// cmu guards calls, which are logged as an answer starts, while the
	// handler may still hold mu; take it after mu, never before.
	cmu   sync.Mutex
	calls []Call

	mu            sync.Mutex
	installations map[int64]*Installation
	repos         map[string]*Repo // lower-case "owner/name"
	tokens        map[string]*token
	users         map[string]int64
	nextID        int64
	faults        []*FaultHandle
	manifestCodes map[string]time.Time
	contentWrites map[int64][]time.Time // per installation, every accepted content-creating request
	blockedUntil  map[int64]time.Time
	deliveries    []Delivery
	manifests     []ManifestSubmission
}

type config struct {
	prefix        string
	tokenLifetime time.Duration
	contentLimit  int
	hourlyLimit   int
	listener      net.Listener
}

// Option configures NewServer.
type Option func(*config)

// WithEnterprisePrefix serves the REST API under /api/v3, as GitHub
// Enterprise Server does; requests at the root are then unknown routes.
// Git smart HTTP stays at /{owner}/{repo}.git (also answered under the
// prefix).
func WithEnterprisePrefix() Option { return func(c *config) { c.prefix = "/api/v3" } }

// WithTokenLifetime shortens (or lengthens) installation token lifetime.
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithContentCreationLimit changes the per-installation, per-minute budget
// of content-creating requests (default ContentCreationPerMinute).
func WithContentCreationLimit(n int) Option { return func(c *config) { c.contentLimit = n } }

// WithHourlyContentCreationLimit changes the per-installation, per-hour
// budget of content-creating requests (default ContentCreationPerHour).
func WithHourlyContentCreationLimit(n int) Option { return func(c *config) { c.hourlyLimit = n } }

// WithListener serves on ln instead of a fresh loopback port, so that
// processes outside this one (containers, say) can reach the fake; URL()
// then names ln's address.
func WithListener(ln net.Listener) Option { return func(c *config) { c.listener = ln } }

// TB is what the fake needs from its host: a test (*testing.T satisfies
// it), or a program that runs the fake outside tests, such as `dockopt
// demo`, which must not link package testing into the release binary.
// Errorf reports a request GitHub would refuse; Fatalf, a misuse of the
// fake by its caller.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// NewServer starts a fake GitHub that is closed when the test ends.
func NewServer(t TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{tokenLifetime: DefaultTokenLifetime, contentLimit: ContentCreationPerMinute, hourlyLimit: ContentCreationPerHour}
	for _, o := range opts {
		o(&cfg)
	}
	sp, err := loadSpec()
	if err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	key, err := appKey()
	if err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	s := &Server{
		AppID:         424242,
		AppSlug:       "dockopt-test",
		PrivateKey:    key,
		WebhookSecret: randomHex(20),
		Clock:         &Clock{},
		t:             t,
		spec:          sp,
		gitRoot:       t.TempDir(),
		cfg:           cfg,
		installations: map[int64]*Installation{},
		repos:         map[string]*Repo{},
		tokens:        map[string]*token{},
		users:         map[string]int64{},
		nextID:        1000,
		manifestCodes: map[string]time.Time{},
		contentWrites: map[int64][]time.Time{},
		blockedUntil:  map[int64]time.Time{},
	}
	if cfg.listener != nil {
		s.http = httptest.NewUnstartedServer(s)
		s.http.Listener.Close()
		s.http.Listener = cfg.listener
		s.http.Start()
	} else {
		s.http = httptest.NewServer(s)
	}
	t.Cleanup(s.http.Close)
	return s
}

// URL is the server's root, like httptest.Server.URL.
func (s *Server) URL() string { return s.http.URL }

// APIURL is the REST base URL with a trailing slash, for go-github's
// BaseURL (or WithEnterpriseURLs) and ghinstallation's BaseURL.
func (s *Server) APIURL() string { return s.http.URL + s.cfg.prefix + "/" }

// GitURL is the clone URL of a repository.
func (s *Server) GitURL(owner, repo string) string {
	return fmt.Sprintf("%s/%s/%s.git", s.http.URL, owner, repo)
}

// Client is an HTTP client for the server (no authentication of its own).
func (s *Server) Client() *http.Client { return s.http.Client() }

// Bot is the login the App acts as.
func (s *Server) Bot() string { return s.AppSlug + "[bot]" }

// Advance moves the fake clock forward: token lifetimes, rate-limit windows
// and timestamps follow it. App JWTs are checked against the real clock,
// because the code under test mints them from its own wall clock, which
// Advance cannot move; checking them against an advanced clock would make
// every client look skewed.
func (s *Server) Advance(d time.Duration) { s.Clock.Advance(d) }

// Clock is the fake's notion of now: real time plus an offset.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the fake's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC().Truncate(time.Second)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Call is one request the server answered.
type Call struct {
	Method       string
	Path         string // as requested, without the query
	Route        string // the OpenAPI path template, "GIT" for smart HTTP, "" if unknown
	Operation    string // OpenAPI operationId, "git-upload-pack" for smart HTTP
	Status       int
	Installation int64  // the installation whose token was used, if any
	Violation    string // why the request was refused as invalid, if it was
}

// Calls returns every request answered so far, in order.
func (s *Server) Calls() []Call {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount counts the answered requests to an operation ("pulls/create");
// "" counts all.
func (s *Server) CallCount(operation string) int {
	n := 0
	for _, c := range s.Calls() {
		if operation == "" || c.Operation == operation {
			n++
		}
	}
	return n
}

// ExpectViolations stops reporting invalid requests as test failures; the
// test then asserts on Violations itself.
func (s *Server) ExpectViolations() {
	s.vmu.Lock()
	s.tolerate = true
	s.vmu.Unlock()
}

// Violations lists the invalid requests seen so far.
func (s *Server) Violations() []string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) userID(login string) int64 {
	if id, ok := s.users[login]; ok {
		return id
	}
	id := int64(5000 + len(s.users))
	s.users[login] = id
	return id
}

// ServeHTTP dispatches git smart HTTP and REST.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := Call{Method: r.Method, Path: r.URL.Path}
	// The call is logged before its answer leaves: a client that has read
	// a response must find the request in Calls, or a test counting calls
	// right after races the server's goroutine.
	logged := false
	logCall := func(status int) {
		if logged {
			return
		}
		logged = true
		call.Status = status
		s.cmu.Lock()
		s.calls = append(s.calls, call)
		s.cmu.Unlock()
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK, commit: logCall}
	defer func() { logCall(rec.status) }()
	if org, confirm, ok := manifestPageOrg(r.URL.Path); ok {
		call.Route, call.Operation = "WEB", "app-manifest-page"
		s.serveManifestPage(rec, r, org, confirm)
		return
	}
	if owner, name, rest, ok := gitPath(r.URL.Path, s.cfg.prefix); ok {
		call.Route, call.Operation = "GIT", "git-upload-pack"
		s.serveGit(rec, r, owner, name, rest, &call)
		return
	}
	c := &ctx{s: s, w: rec, r: r, call: &call}
	s.serveREST(c)
}

func (s *Server) serveREST(c *ctx) {
	r := c.r
	path := r.URL.EscapedPath()
	if p := s.cfg.prefix; p != "" {
		rest, ok := strings.CutPrefix(path, p)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			c.violation(http.StatusNotFound, "Not Found", fmt.Sprintf("%s %s is outside the API prefix %s", r.Method, path, p))
			return
		}
		path = rest
	}
	op, vars, pathKnown := s.spec.match(r.Method, path)
	if op == nil {
		why := "no such route"
		if pathKnown {
			why = "route exists, method does not"
		}
		c.violation(http.StatusNotFound, "Not Found", fmt.Sprintf("%s %s: %s", r.Method, path, why))
		return
	}
	c.op, c.vars = op, vars
	c.call.Route, c.call.Operation = op.Template, op.ID
	h := handlers[op.ID]
	if h.fn == nil {
		s.t.Errorf("githubtest: operation %s has no handler", op.ID)
		c.errorJSON(http.StatusNotImplemented, "not implemented by githubtest")
		return
	}

	if !s.authenticate(c, h.auth) {
		return
	}
	if status, err := s.spec.checkParams(op, vars, r.URL.Query()); err != nil {
		msg := err.Error()
		if status == http.StatusNotFound {
			c.violation(status, "Not Found", msg)
		} else {
			c.violation(status, msg, msg)
		}
		return
	}
	if !s.readBody(c) {
		return
	}
	if _, hasRepo := vars["repo"]; hasRepo && h.auth == authInstallation {
		if !s.resolveRepo(c) {
			return
		}
	}
	answered, held := s.injectFault(c)
	if answered {
		return
	}
	if !s.secondaryLimit(c, h.creates) {
		return
	}
	s.rateHeaders(c)
	handle := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		h.fn(s, c)
	}
	if held != nil {
		s.holdAnswer(c, held, handle)
		return
	}
	handle()
}

func (s *Server) readBody(c *ctx) bool {
	raw, err := io.ReadAll(io.LimitReader(c.r.Body, maxRequestBody))
	if err != nil {
		c.errorJSON(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	c.raw = raw
	if c.op.body == nil {
		return true
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
		c.raw = raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		c.violation(http.StatusBadRequest, "Problems parsing JSON", fmt.Sprintf("body is not JSON: %v", err))
		return false
	}
	if v == nil && !c.op.bodyRequired {
		// ghinstallation sends "null" when it has no token options; GitHub
		// treats that as no body, which an optional body may be.
		c.raw = []byte("{}")
		return true
	}
	if exempt := bodyExemptions[c.op.ID]; exempt != nil && exempt(v) {
		return true
	}
	if err := s.spec.v.validate(c.op.body, v, ""); err != nil {
		msg := "Invalid request.\n\n" + err.Error()
		c.violation(http.StatusUnprocessableEntity, msg, msg)
		return false
	}
	return true
}

// bodyExemptions lists request shapes GitHub accepts although its
// description no longer says so. Each entry is a documented exception.
var bodyExemptions = map[string]func(any) bool{
	// "You can also pass an array of labels directly" (description of
	// issues/add-labels); go-github v60's AddLabelsToIssue does exactly that.
	"issues/add-labels": func(v any) bool {
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return false
		}
		for _, x := range a {
			if _, ok := x.(string); !ok {
				return false
			}
		}
		return true
	},
}

func (s *Server) resolveRepo(c *ctx) bool {
	s.mu.Lock()
	repo := s.repos[strings.ToLower(c.vars["owner"]+"/"+c.vars["repo"])]
	s.mu.Unlock()
	// GitHub answers 404, not 403, for a repository the token cannot see.
	if repo == nil || c.tok == nil || repo.inst != c.tok.inst || !c.tok.allows(repo) {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return false
	}
	c.repo = repo
	return true
}

// ctx is one REST request being answered.
type ctx struct {
	s    *Server
	w    *recorder
	r    *http.Request
	call *Call
	op   *operation
	vars map[string]string
	raw  []byte
	tok  *token
	repo *Repo
}

func (c *ctx) decode(v any) {
	if err := json.Unmarshal(c.raw, v); err != nil {
		// The schema check passed, so this is a shape the handler's struct
		// does not expect: a bug in the fake, not in the caller.
		c.s.t.Errorf("githubtest: %s: decoding checked body: %v", c.op.ID, err)
	}
}

func (c *ctx) intVar(name string) int64 {
	n, _ := strconv.ParseInt(c.vars[name], 10, 64)
	return n
}

func (c *ctx) json(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.w.WriteHeader(status)
	enc := json.NewEncoder(c.w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (c *ctx) errorJSON(status int, message string) {
	c.json(status, map[string]any{"message": message, "documentation_url": docsURL, "status": strconv.Itoa(status)})
}

// validationFailed answers 422 the way GitHub reports a failed model
// validation; with record it is also a violation of GitHub's rules by the
// caller.
func (c *ctx) validationFailed(record bool, resource, field, code, message string) {
	if record {
		c.s.recordViolation(c.call, fmt.Sprintf("%s %s: %s", c.r.Method, c.r.URL.Path, message))
	}
	c.json(http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []any{map[string]any{"resource": resource, "field": field, "code": code, "message": message}},
		"documentation_url": docsURL,
		"status":            "422",
	})
}

// violation answers like GitHub and records a test failure.
func (c *ctx) violation(status int, message, why string) {
	c.s.recordViolation(c.call, fmt.Sprintf("%s %s: %s", c.r.Method, c.r.URL.Path, why))
	c.errorJSON(status, message)
}

func (s *Server) recordViolation(call *Call, msg string) {
	call.Violation = msg
	s.vmu.Lock()
	s.violations = append(s.violations, msg)
	tolerate := s.tolerate
	s.vmu.Unlock()
	if !tolerate {
		s.t.Errorf("githubtest: request GitHub would refuse: %s", msg)
	}
}

type recorder struct {
	http.ResponseWriter
	status  int
	written bool
	commit  func(status int) // called once, before the status line is sent
}

func (r *recorder) WriteHeader(code int) {
	if !r.written {
		r.status, r.written = code, true
		r.commit(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.written {
		r.written = true
		r.commit(r.status)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if !r.written {
		r.written = true
		r.commit(r.status)
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func hashOf(s string) plumbing.Hash { return plumbing.NewHash(s) }

// timestamp formats a time the way GitHub's JSON does.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
