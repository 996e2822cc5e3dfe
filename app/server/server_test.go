package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/webhook"
	"github.com/dockopt/dockopt/internal/testfiles"
)

func testConfig(t testing.TB, databaseURL string) server.Config {
	cfg, err := server.LoadConfig(nil, env(t, map[string]string{server.EnvDatabaseURL: databaseURL, server.EnvShutdownTimeout: "5s"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// pushBody is a push to the default branch of octo/REPO at sha.
func pushBody(repo, sha string) []byte {
	return []byte(`{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000001","after":"` + sha + `",
"repository":{"id":1,"name":"` + repo + `","full_name":"octo/` + repo + `","default_branch":"main","owner":{"login":"octo"}},
"pusher":{"name":"alice"},"sender":{"login":"alice","type":"User"},"installation":{"id":42}}`)
}

type response struct {
	StatusCode int
	Status     string
	jobs       []int64
}

func post(t testing.TB, base, delivery string, body []byte) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte("s3cret"), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r webhook.Response
	json.NewDecoder(resp.Body).Decode(&r)
	return response{StatusCode: resp.StatusCode, Status: resp.Status, jobs: r.Jobs}
}

func get(t testing.TB, h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// every runs f for the jobs of every kind intake queues in these tests.
func every(f func(ctx context.Context, job any) error) []queue.Handler {
	return []queue.Handler{queue.Handle(func(ctx context.Context, j jobs.AnalyzePush) error { return f(ctx, j) })}
}

// serve runs srv on a loopback port, with handlers, until the returned
// stop is called; stop returns Serve's error.
func serve(t *testing.T, srv *server.Server, handlers ...queue.Handler) (base string, stop func() error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, handlers...) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

func TestServeEndToEnd(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		var mu sync.Mutex
		var got []any
		srv, err := server.New(testConfig(t, url))
		if err != nil {
			t.Fatal(err)
		}
		ev := queuetest.Subscribe(t, srv.Queue())
		base, stop := serve(t, srv, every(func(_ context.Context, job any) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, job)
			return nil
		})...)

		resp := post(t, base, "d-1", pushBody("web", "1111111111111111111111111111111111111111"))
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("webhook: %s", resp.Status)
		}
		ev.Until(t, river.EventKindJobCompleted, resp.jobs[0])
		mu.Lock()
		want := jobs.AnalyzePush{InstallationID: 42, Owner: "octo", Repo: "web", Branch: "main", SHA: "1111111111111111111111111111111111111111", DefaultBranch: "main", DeliveryID: "d-1"}
		if len(got) != 1 || got[0] != any(want) {
			t.Errorf("processed %+v, want %+v", got, want)
		}
		mu.Unlock()

		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := get(t, srv.Handler(), path); code != http.StatusOK {
				t.Errorf("%s: %d %s", path, code, body)
			}
		}
		_, text := get(t, srv.Handler(), "/metrics")
		for _, line := range []string{
			`webhooks_total{event="push",outcome="queued"} 1`,
			`jobs_total{kind="analyze_push",outcome="ok"} 1`,
			`job_duration_seconds_count{kind="analyze_push"} 1`,
			"queue_depth 0",
			"webhook_duration_seconds_count 1",
			"github_ratelimit_remaining 0",
		} {
			if !strings.Contains(text, line+"\n") {
				t.Errorf("/metrics lacks %q", line)
			}
		}
		if err := stop(); err != nil {
			t.Errorf("Serve after shutdown: %v", err)
		}
	})
}

func TestReadyzFailsWithoutDatabase(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		srv, err := server.New(testConfig(t, url))
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := get(t, srv.Handler(), "/readyz"); code != http.StatusOK {
			t.Fatalf("readyz with the database open: %d", code)
		}
		srv.Close()
		if code, _ := get(t, srv.Handler(), "/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("readyz with the database closed: %d, want 503", code)
		}
		if code, _ := get(t, srv.Handler(), "/healthz"); code != http.StatusOK {
			t.Errorf("healthz: %d, want 200 (the process is alive)", code)
		}
		if _, text := get(t, srv.Handler(), "/metrics"); !strings.Contains(text, "queue_depth -1\n") {
			t.Error("queue_depth should read -1 when the database is gone")
		}
	})
}

// TestShutdownKeepsUnfinishedJobs stops a server whose job outlives the
// shutdown deadline, then starts a new one on the same database: the job
// runs there.
func TestShutdownKeepsUnfinishedJobs(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		started := make(chan struct{})
		cfg := testConfig(t, url)
		cfg.ShutdownTimeout = 300 * time.Millisecond
		srv, err := server.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		base, stop := serve(t, srv, every(func(ctx context.Context, job any) error {
			close(started)
			<-ctx.Done() // a long build, interrupted
			return ctx.Err()
		})...)
		resp := post(t, base, "d-1", pushBody("web", "2222222222222222222222222222222222222222"))
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("webhook: %s", resp.Status)
		}
		<-started
		stop()
		if _, err := http.Get(base + "/healthz"); err == nil {
			t.Error("still accepting connections after shutdown")
		}

		done := make(chan any, 1)
		srv2, err := server.New(testConfig(t, url))
		if err != nil {
			t.Fatal(err)
		}
		ev := queuetest.Subscribe(t, srv2.Queue())
		serve(t, srv2, every(func(_ context.Context, job any) error {
			done <- job
			return nil
		})...)
		ev.Until(t, river.EventKindJobCompleted, resp.jobs[0])
		if job := (<-done).(jobs.AnalyzePush); job.SHA != "2222222222222222222222222222222222222222" {
			t.Errorf("second server ran %+v", job)
		}
	})
}

func TestCommandConfigurationError(t *testing.T) {
	for _, k := range []string{server.EnvAppID, server.EnvPrivateKey, server.EnvPrivateKeyFile, server.EnvWebhookSecret} {
		t.Setenv(k, "")
	}
	os.Unsetenv(server.EnvAppID)
	var stdout, stderr bytes.Buffer
	code := server.Command(context.Background(), nil, &stdout, &stderr, nil)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, v := range []string{server.EnvAppID, server.EnvPrivateKey, server.EnvWebhookSecret} {
		if !strings.Contains(stderr.String(), v) {
			t.Errorf("stderr does not name %s:\n%s", v, stderr.String())
		}
	}
}

func TestCommandServesUntilCancelled(t *testing.T) {
	t.Setenv(server.EnvAppID, "1")
	t.Setenv(server.EnvPrivateKey, testKey(t))
	t.Setenv(server.EnvPrivateKeyFile, "")
	t.Setenv(server.EnvWebhookSecret, "s3cret")
	t.Setenv(server.EnvDatabaseURL, queuetest.SQLite(t))
	ctx, cancel := context.WithCancel(context.Background())
	var stderr testfiles.Output
	done := make(chan int)
	go func() {
		done <- server.Command(ctx, []string{"--addr", "127.0.0.1:0"}, io.Discard, &stderr, func(*server.Server) ([]queue.Handler, error) {
			return every(func(context.Context, any) error { return nil }), nil
		})
	}()
	// The JSON log says when it is serving.
	for !strings.Contains(stderr.String(), `"msg":"serving"`) {
		select {
		case code := <-done:
			t.Fatalf("exited %d early:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel, want 0:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop logged:\n%s", stderr.String())
	}
}

// TestShutdownLetsRunningJobsFinish cancels the server while a job runs:
// the job must finish and be recorded complete, not be cut off.
func TestShutdownLetsRunningJobsFinish(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		started, release := make(chan struct{}), make(chan struct{})
		cfg := testConfig(t, url)
		cfg.ShutdownTimeout = 30 * time.Second
		srv, err := server.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		base, stop := serve(t, srv, every(func(ctx context.Context, job any) error {
			close(started)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})...)
		resp := post(t, base, "d-1", pushBody("web", "3333333333333333333333333333333333333333"))
		<-started
		stopped := make(chan error)
		go func() { stopped <- stop() }()
		// Serve is draining now; it must wait for the job.
		select {
		case err := <-stopped:
			t.Fatalf("Serve returned (%v) while a job was running", err)
		default:
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Fatalf("Serve: %v", err)
		}
		q, err := queue.Open(context.Background(), url, queue.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		row, err := q.Job(context.Background(), resp.jobs[0])
		if err != nil || row.State != "completed" {
			t.Errorf("job after a graceful shutdown: %v (%v), want completed", row.State, err)
		}
	})
}
