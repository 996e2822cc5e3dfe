package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/worker"
)

// harness is one dockopt server wired to a fake GitHub.
type harness struct {
	gh     *githubtest.Server
	srv    *server.Server
	url    string
	events queuetest.Events
	repo   *githubtest.Repo
	worker *worker.Worker
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func start(t *testing.T, databaseURL string, files map[string]string, opts ...githubtest.Option) *harness {
	t.Helper()
	gh := githubtest.NewServer(t, opts...)
	inst := gh.AddInstallation("acme")
	repo := gh.AddRepo(inst, "acme", "shop", files)
	return startWith(t, gh, repo, databaseURL, nil)
}

// startWith runs a dockopt server on databaseURL against an existing fake;
// tuneWorker, if any, changes the worker's configuration (pacing, budget).
func startWith(t *testing.T, gh *githubtest.Server, repo *githubtest.Repo, databaseURL string, tune func(*server.Config), tuneWorker ...func(*worker.Config)) *harness {
	t.Helper()
	cfg := server.Config{
		AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM(), PrivateKey: gh.PrivateKey, WebhookSecret: []byte(gh.WebhookSecret),
		DatabaseURL: databaseURL, GitHubAPIURL: gh.APIURL(), GitHubUploadURL: gh.APIURL(), BotLogin: gh.Bot(),
		Workers: 2, MaxAttempts: 5, JobTimeout: time.Minute, ShutdownTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), Metrics: metrics.New(),
	}
	if tune != nil {
		tune(&cfg)
	}
	lim := ghclient.Limits{
		WriteSpacing: -1,
		Sleep:        func(ctx context.Context, d time.Duration) error { gh.Advance(d); return nil },
		Now:          gh.Clock.Now,
	}
	srv, w := open(t, cfg, lim, append([]func(*worker.Config){func(c *worker.Config) {
		// The pacing and the budget run on the fake's clock, which tests
		// move with Advance; waiting jobs look again often enough to see
		// it move.
		c.Clock, c.Recheck = gh.Clock.Now, 50*time.Millisecond
	}}, tuneWorker...)...)
	events := queuetest.Subscribe(t, srv.Queue())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, w.Handlers()...) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return &harness{gh: gh, srv: srv, url: "http://" + ln.Addr().String() + "/webhook", events: events, repo: repo, worker: w}
}

// open opens a dockopt server and a worker wired as `dockopt serve` wires
// them: the worker's stores in the server's database, GitHub calls through
// its metrics.
func open(t *testing.T, cfg server.Config, lim ghclient.Limits, tune ...func(*worker.Config)) (*server.Server, *worker.Worker) {
	t.Helper()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wc := worker.Config{
		GitHub: &ghclient.Factory{AppID: cfg.AppID, Key: cfg.PrivateKey, APIURL: cfg.GitHubAPIURL, UploadURL: cfg.GitHubUploadURL,
			Base: srv.Metrics().RoundTripper(nil), Limit: lim},
		BotLogin: cfg.BotLogin, BuildKitAddr: cfg.BuildKitAddr, Logger: cfg.Logger,
		// As in `dockopt serve`, each analysis runs in a child: this test
		// binary, which TestMain makes one.
		Sandbox: childRunner(t),
	}
	for _, f := range tune {
		f(&wc)
	}
	w, err := worker.Open(context.Background(), wc, srv.Queue())
	if err != nil {
		t.Fatal(err)
	}
	return srv, w
}

// childRunner starts analysis children of this test binary with the
// default limits of `dockopt serve`.
func childRunner(t *testing.T) *sandbox.Runner {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &sandbox.Runner{Command: exe}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// push commits files to main as a person and delivers the webhook, then
// waits for the job to finish.
func (h *harness) push(t *testing.T, files map[string]string) string {
	t.Helper()
	before := h.gh.Branch(h.repo, "main")
	after := h.gh.Push(h.repo, "main", files, "change", "alice")
	resp, err := h.gh.Send(context.Background(), h.url, h.gh.PushEvent(h.repo, "main", before, after, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ack struct {
		Status string  `json:"status"`
		Jobs   []int64 `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil || resp.StatusCode != 202 || len(ack.Jobs) != 1 {
		t.Fatalf("webhook answered %d %+v (%v)", resp.StatusCode, ack, err)
	}
	for {
		ev := h.events.Next(t)
		if ev.Job.ID != ack.Jobs[0] {
			continue
		}
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("job ended with %s: %v", ev.Kind, ev.Job.Errors)
		}
		break
	}
	return after
}

func TestPushOpensOnePullRequest(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, readTree(t, "../../examples/monorepo"))
		start := len(h.gh.Calls())
		h.push(t, map[string]string{"README.md": "# shop\n"})
		calls := restCalls(h.gh.Calls()[start:])

		prs := h.gh.PullRequests(h.repo)
		if len(prs) != 1 {
			t.Fatalf("want one pull request, got %d", len(prs))
		}
		pr := prs[0]
		if pr.Head != "dockopt/main" || pr.Base != "main" || pr.State != "open" {
			t.Errorf("pull request %+v", pr)
		}
		for _, want := range []string{"api/Dockerfile", "Optimizations applied", "Verification"} {
			if !strings.Contains(pr.Body, want) {
				t.Errorf("pull request body lacks %q", want)
			}
		}
		fixed, ok := h.gh.File(h.repo, "dockopt/main", "api/Dockerfile")
		if !ok || !strings.Contains(fixed, "--no-install-recommends") {
			t.Errorf("the bot branch does not hold the optimized api/Dockerfile:\n%s", fixed)
		}
		commits := h.gh.CommitsOn(h.repo, "dockopt/main")
		if len(commits) == 0 || !commits[0].Verified {
			t.Errorf("the bot commit should be made through the Git Data API and signed: %+v", commits)
		}
		runs := h.gh.CheckRuns(h.repo)
		if len(runs) != 1 || runs[0].Status != "completed" {
			t.Fatalf("check runs: %+v", runs)
		}
		// The branch's first analyzed commit: its findings are existing
		// debt, reported per rule, not annotated and not failed.
		if runs[0].Conclusion != "neutral" || len(runs[0].Annotations) != 0 || !strings.Contains(runs[0].Summary, "existing debt") {
			t.Errorf("first push: conclusion %s, %d annotations, summary:\n%s", runs[0].Conclusion, len(runs[0].Annotations), runs[0].Summary)
		}
		t.Logf("first push: %d GitHub REST calls, %d annotations, conclusion %s", calls, len(runs[0].Annotations), runs[0].Conclusion)
		if calls > 15 {
			t.Errorf("a first pull request took %d GitHub calls, want at most 15", calls)
		}

		// A push that changes nothing dockopt cares about pushes nothing.
		headBefore := h.gh.Branch(h.repo, "dockopt/main")
		start = len(h.gh.Calls())
		h.push(t, map[string]string{"README.md": "# shop, again\n"})
		calls = restCalls(h.gh.Calls()[start:])
		if got := h.gh.Branch(h.repo, "dockopt/main"); got != headBefore {
			t.Errorf("an unrelated push moved the bot branch (rebase storm)")
		}
		if calls > 6 {
			var names []string
			for _, c := range h.gh.Calls()[start:] {
				names = append(names, c.Operation)
			}
			t.Errorf("a push that changes nothing took %d GitHub calls, want at most 6: %v", calls, names)
		}
		if n := len(h.gh.PullRequests(h.repo)); n != 1 {
			t.Errorf("%d pull requests after the second push", n)
		}
	})
}

// restCalls counts REST API calls; the clone's git smart-HTTP requests
// are not API calls and are reported apart.
func restCalls(calls []githubtest.Call) int {
	n := 0
	for _, c := range calls {
		if c.Operation != "git-upload-pack" && c.Route != "GIT" {
			n++
		}
	}
	return n
}
