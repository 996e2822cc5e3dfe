// Package metrics holds the app's Prometheus metrics. They live in their own
// registry rather than the global one so that tests, and several servers in
// one process, never share counters.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the app's set of metrics, registered in Registry.
type Metrics struct {
	Registry *prometheus.Registry

	// Webhooks counts deliveries by X-GitHub-Event and what became of them
	// (queued, ignored, duplicate, unauthorized, …).
	Webhooks *prometheus.CounterVec
	// WebhookDuration times deliveries from request to answer; GitHub gives
	// up after 10 s.
	WebhookDuration prometheus.Histogram
	// Jobs counts job executions by kind and result (ok, retry, discarded,
	// cancelled, snoozed).
	Jobs *prometheus.CounterVec
	// JobDuration times job executions by kind, whatever their result.
	JobDuration *prometheus.HistogramVec
	// GitHubRequests counts calls to GitHub by route template and HTTP status.
	GitHubRequests *prometheus.CounterVec
	// RateLimitRemaining is the last x-ratelimit-remaining GitHub reported.
	RateLimitRemaining prometheus.Gauge

	depth atomic.Pointer[func(context.Context) (int64, error)]
}

// New returns the metrics, registered in a fresh registry together with the
// Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhooks_total",
			Help: "Webhook deliveries received, by event and outcome.",
		}, []string{"event", "outcome"}),
		WebhookDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "webhook_duration_seconds",
			Help:    "Time from a delivery's request to its answer.",
			Buckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 10},
		}),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobs_total",
			Help: "Job executions, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		JobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "job_duration_seconds",
			Help: "Time spent executing jobs, by kind.",
			// Jobs range from a comment reply (under a second) to a clone,
			// analysis and two BuildKit builds (minutes).
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"kind"}),
		GitHubRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "github_requests_total",
			Help: "Requests to the GitHub API, by route template and HTTP status.",
		}, []string{"route", "status"}),
		RateLimitRemaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "github_ratelimit_remaining",
			Help: "The x-ratelimit-remaining value of the latest GitHub response that carried one.",
		}),
	}
	queueDepth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "queue_depth",
		Help: "Jobs waiting to run (available, scheduled, retryable or pending); -1 when the database cannot be read.",
	}, m.readDepth)
	m.Registry.MustRegister(m.Webhooks, m.WebhookDuration, m.Jobs, m.JobDuration, m.GitHubRequests, m.RateLimitRemaining, queueDepth,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetQueueDepthSource sets the function queue_depth is read from at scrape
// time; the queue is opened after the metrics exist, hence the late binding.
func (m *Metrics) SetQueueDepthSource(f func(context.Context) (int64, error)) {
	m.depth.Store(&f)
}

func (m *Metrics) readDepth() float64 {
	f := m.depth.Load()
	if f == nil {
		return 0
	}
	// A scrape must not hang on a locked or unreachable database.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := (*f)(ctx)
	if err != nil {
		return -1
	}
	return float64(n)
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// RoundTripper wraps next (http.DefaultTransport when nil) so that every
// GitHub call is counted by route template and status, and the rate-limit
// headers are recorded. Templates keep the label set small: counting by raw
// path would create a series per repository and commit.
func (m *Metrics) RoundTripper(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper{m: m, next: next}
}

type roundTripper struct {
	m    *Metrics
	next http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	route := req.Method + " " + Route(req.URL.Path)
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		rt.m.GitHubRequests.WithLabelValues(route, "error").Inc()
		return resp, err
	}
	rt.m.GitHubRequests.WithLabelValues(route, strconv.Itoa(resp.StatusCode)).Inc()
	if v := resp.Header.Get("X-Ratelimit-Remaining"); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			rt.m.RateLimitRemaining.Set(n)
		}
	}
	return resp, nil
}

// routes are the REST paths the app calls (see platform-facts §3.7), as
// OpenAPI templates. A segment in braces matches any one segment; a final
// "{ref...}" matches the rest of the path, because git refs contain slashes.
var routes = []string{
	"/app/installations/{installation_id}/access_tokens",
	"/app/hook/deliveries",
	"/app/hook/deliveries/{delivery_id}/attempts",
	"/app-manifests/{code}/conversions",
	"/rate_limit",
	"/repos/{owner}/{repo}",
	"/repos/{owner}/{repo}/installation",
	"/repos/{owner}/{repo}/contents/{path...}",
	"/repos/{owner}/{repo}/collaborators/{username}/permission",
	"/repos/{owner}/{repo}/git/ref/{ref...}",
	"/repos/{owner}/{repo}/git/refs",
	"/repos/{owner}/{repo}/git/refs/{ref...}",
	"/repos/{owner}/{repo}/git/commits",
	"/repos/{owner}/{repo}/git/commits/{commit_sha}",
	"/repos/{owner}/{repo}/git/trees",
	"/repos/{owner}/{repo}/git/trees/{tree_sha}",
	"/repos/{owner}/{repo}/git/blobs",
	"/repos/{owner}/{repo}/pulls",
	"/repos/{owner}/{repo}/pulls/{pull_number}",
	"/repos/{owner}/{repo}/pulls/{pull_number}/files",
	"/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
	"/repos/{owner}/{repo}/pulls/{pull_number}/comments",
	"/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies",
	"/repos/{owner}/{repo}/pulls/comments/{comment_id}",
	"/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
	"/repos/{owner}/{repo}/issues/{issue_number}/comments",
	"/repos/{owner}/{repo}/issues/{issue_number}/labels",
	"/repos/{owner}/{repo}/issues/comments/{comment_id}",
	"/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
	"/repos/{owner}/{repo}/check-runs",
	"/repos/{owner}/{repo}/check-runs/{check_run_id}",
	"/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
	"/repos/{owner}/{repo}/commits/{ref}/check-runs",
	"/repos/{owner}/{repo}/info/refs",
	"/repos/{owner}/{repo}/git-upload-pack",
}

// Route returns the template of a GitHub API path, or "other". The GHES
// prefix /api/v3 is ignored so both hosts share series.
func Route(path string) string {
	path = strings.TrimPrefix(path, "/api/v3")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	// Specific templates come before wildcard ones ("pulls/comments/{id}"
	// before "pulls/{pull_number}/…"), so prefer the match with the most
	// literal segments.
	best, bestLiterals := "other", -1
	for _, r := range routes {
		if n, ok := match(strings.Split(strings.Trim(r, "/"), "/"), segs); ok && n > bestLiterals {
			best, bestLiterals = r, n
		}
	}
	return best
}

func match(tmpl, segs []string) (literals int, ok bool) {
	for i, t := range tmpl {
		if strings.HasSuffix(t, "...}") {
			return literals, i < len(segs)
		}
		if i >= len(segs) {
			return 0, false
		}
		if strings.HasPrefix(t, "{") {
			if segs[i] == "" {
				return 0, false
			}
			continue
		}
		if t != segs[i] {
			return 0, false
		}
		literals++
	}
	return literals, len(tmpl) == len(segs)
}
