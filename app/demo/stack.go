package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/worker"
)

// stack is a fake GitHub with a running dockopt server installed on it.
type stack struct {
	tb      *host
	gh      *githubtest.Server
	inst    *githubtest.Installation
	worker  *worker.Worker
	hookURL string
	events  <-chan *river.Event
	close   func()
}

// startStack starts the fake GitHub and dockopt on SQLite in a temporary
// folder, serving webhooks on loopback.
func startStack(ctx context.Context, logw io.Writer) (*stack, error) {
	tb := &host{}
	gh := githubtest.NewServer(tb)
	s := &stack{tb: tb, gh: gh, inst: gh.AddInstallation("octo-org")}
	cfg := server.Config{
		AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM(), PrivateKey: gh.PrivateKey, WebhookSecret: []byte(gh.WebhookSecret),
		DatabaseURL: "sqlite://" + filepath.Join(tb.TempDir(), "dockopt.db"), GitHubAPIURL: gh.APIURL(), GitHubUploadURL: gh.APIURL(),
		BotLogin: gh.Bot(), Workers: 1, MaxAttempts: 3, JobTimeout: 5 * time.Minute, ShutdownTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn})), Metrics: metrics.New(),
	}
	srv, err := server.New(cfg)
	if err != nil {
		tb.cleanup()
		return nil, err
	}
	w, err := worker.Open(ctx, worker.Config{
		GitHub: &ghclient.Factory{AppID: cfg.AppID, Key: cfg.PrivateKey, APIURL: cfg.GitHubAPIURL, UploadURL: cfg.GitHubUploadURL,
			Base: srv.Metrics().RoundTripper(nil), Limit: ghclient.Limits{WriteSpacing: -1}},
		BotLogin: cfg.BotLogin, Logger: cfg.Logger,
	}, srv.Queue())
	if err != nil {
		srv.Close()
		tb.cleanup()
		return nil, err
	}
	s.worker = w
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		tb.cleanup()
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln, w.Handlers()...) }()
	events, stop := srv.Queue().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	s.events = events
	s.hookURL = "http://" + ln.Addr().String() + "/webhook"
	s.close = func() {
		stop()
		cancel()
		<-done
		srv.Close()
		tb.cleanup()
	}
	return s, nil
}

// deliver sends a webhook and waits for the job it started. It waits for
// that job by the ID the webhook's answer names: the queue runs jobs of its
// own too (its prune job runs on start), and taking the first job event
// as the push's let the demo read GitHub before the push was analyzed.
func (s *stack) deliver(ctx context.Context, hook githubtest.Webhook) error {
	resp, err := s.gh.Send(ctx, s.hookURL, hook)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 202 {
		return fmt.Errorf("the webhook was answered %d", resp.StatusCode)
	}
	var ack struct {
		Jobs []int64 `json:"jobs"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ack); err != nil {
		return fmt.Errorf("the webhook's answer does not read: %w", err)
	}
	if len(ack.Jobs) != 1 {
		return fmt.Errorf("the webhook started %d jobs, want 1", len(ack.Jobs))
	}
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case ev := <-s.events:
			if ev.Job.ID != ack.Jobs[0] {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				return fmt.Errorf("the job ended %s: %v", ev.Kind, ev.Job.Errors)
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return errors.New("the job did not finish in 5 minutes")
		}
	}
}

// countCalls splits the requests a run made into REST API calls and the
// clone's git requests.
func countCalls(calls []githubtest.Call) (rest, git int) {
	for _, c := range calls {
		if c.Route == "GIT" || c.Operation == "git-upload-pack" {
			git++
		} else {
			rest++
		}
	}
	return rest, git
}

// lastCheckRun summarizes the newest check run on repo, if any.
func lastCheckRun(gh *githubtest.Server, repo *githubtest.Repo) CheckRun {
	runs := gh.CheckRuns(repo)
	if len(runs) == 0 {
		return CheckRun{}
	}
	last := runs[len(runs)-1]
	return CheckRun{Conclusion: last.Conclusion, Annotations: len(last.Annotations), Title: last.Title, Why: why(last.Summary)}
}

// why is a summary's first paragraph as plain text.
func why(summary string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(summary), "\n\n")
	if strings.HasPrefix(first, "|") {
		return "" // a table: no judgement to explain
	}
	return strings.ReplaceAll(first, "**", "")
}
