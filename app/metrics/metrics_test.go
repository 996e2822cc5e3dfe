package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/metrics"
)

func TestRoute(t *testing.T) {
	cases := map[string]string{
		"/repos/octo/web/check-runs/42":                  "/repos/{owner}/{repo}/check-runs/{check_run_id}",
		"/api/v3/repos/octo/web/check-runs":              "/repos/{owner}/{repo}/check-runs",
		"/repos/octo/web/git/refs/heads/dockopt/main":    "/repos/{owner}/{repo}/git/refs/{ref...}",
		"/repos/octo/web/pulls/comments/7/reactions":     "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
		"/repos/octo/web/pulls/12/comments":              "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
		"/repos/octo/web/contents/.github/dockopt.yml":   "/repos/{owner}/{repo}/contents/{path...}",
		"/app/installations/99/access_tokens":            "/app/installations/{installation_id}/access_tokens",
		"/repos/octo/web":                                "/repos/{owner}/{repo}",
		"/repos/octo/web/collaborators/alice/permission": "/repos/{owner}/{repo}/collaborators/{username}/permission",
		"/users/octo": "other",
		"/repos/octo": "other",
	}
	for path, want := range cases {
		if got := metrics.Route(path); got != want {
			t.Errorf("Route(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestRoundTripperCountsAndRecordsRateLimit(t *testing.T) {
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4990")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer gh.Close()
	m := metrics.New()
	client := &http.Client{Transport: m.RoundTripper(nil)}
	for _, p := range []string{"/repos/a/b/check-runs/1", "/repos/c/d/check-runs/2", "/repos/a/b/missing"} {
		resp, err := client.Get(gh.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	m.SetQueueDepthSource(func(context.Context) (int64, error) { return 7, nil })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{
		`github_requests_total{route="GET /repos/{owner}/{repo}/check-runs/{check_run_id}",status="200"} 2`,
		`github_requests_total{route="GET other",status="404"} 1`,
		`github_ratelimit_remaining 4990`,
		`queue_depth 7`,
	} {
		if !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
	m.SetQueueDepthSource(func(context.Context) (int64, error) { return 0, errors.New("closed") })
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "queue_depth -1\n") {
		t.Error("an unreadable queue should read -1")
	}
}
