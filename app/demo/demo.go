// Package demo runs the whole GitHub flow on this machine — install,
// push, webhook, queue, job, check run, pull request — against the fake
// GitHub of app/githubtest, so a newcomer sees what dockopt would do on
// their repository without registering an app.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/worker"
)

// Result is what a user would see on GitHub.
type Result struct {
	PullRequest *PullRequest `json:"pull_request"`
	CheckRun    CheckRun     `json:"check_run"`
	// GitHubCalls counts REST API calls; GitRequests the clone's git
	// smart-HTTP requests.
	GitHubCalls int   `json:"github_calls"`
	GitRequests int   `json:"git_requests"`
	ElapsedMS   int64 `json:"elapsed_ms"`
	// BodyPath is where the pull-request body was written.
	BodyPath string `json:"body_path,omitempty"`
}

// PullRequest is the pull request dockopt opened.
type PullRequest struct {
	Number int      `json:"number"`
	Title  string   `json:"title"`
	URL    string   `json:"url"`
	Files  []string `json:"files"`
}

// CheckRun is the check run on the pushed commit.
type CheckRun struct {
	Conclusion  string `json:"conclusion"`
	Annotations int    `json:"annotations"`
	Title       string `json:"title"`
}

// maxDemoBytes bounds the repository copied into the fake GitHub.
const maxDemoBytes = 64 << 20

// Run pushes dir to a fake GitHub where dockopt is installed and returns
// what it did. bodyDir receives the pull-request body.
func Run(ctx context.Context, dir, bodyDir string, logw io.Writer) (*Result, error) {
	files, err := readRepo(dir)
	if err != nil {
		return nil, err
	}
	tb := newTB()
	defer tb.cleanup()
	started := time.Now()
	gh := githubtest.NewServer(tb)
	inst := gh.AddInstallation("octo-org")
	name := strings.ToLower(filepath.Base(absOr(dir)))
	repo := gh.AddRepo(inst, "octo-org", name, map[string]string{"README.md": "# " + name + "\n"})
	cfg := server.Config{
		AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM(), PrivateKey: gh.PrivateKey, WebhookSecret: []byte(gh.WebhookSecret),
		DatabaseURL: "sqlite://" + filepath.Join(tb.TempDir(), "dockopt.db"), GitHubAPIURL: gh.APIURL(), GitHubUploadURL: gh.APIURL(),
		BotLogin: gh.Bot(), Workers: 1, MaxAttempts: 3, JobTimeout: 5 * time.Minute, ShutdownTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn})), Metrics: metrics.New(),
	}
	w, err := worker.NewWithLimits(server.Deps{Config: cfg, Logger: cfg.Logger, Metrics: cfg.Metrics},
		ghclient.Limits{WriteSpacing: -1})
	if err != nil {
		return nil, err
	}
	srv, err := server.New(cfg, w)
	if err != nil {
		return nil, err
	}
	w.UseQueue(srv.Queue())
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() { cancel(); <-done }()
	events, stop := srv.Queue().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer stop()

	before := gh.Branch(repo, "main")
	after := gh.Push(repo, "main", files, "Add the application", "octocat")
	callsBefore := len(gh.Calls())
	resp, err := gh.Send(ctx, "http://"+ln.Addr().String()+"/webhook", gh.PushEvent(repo, "main", before, after, "octocat"))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		return nil, fmt.Errorf("the webhook was answered %d", resp.StatusCode)
	}
	select {
	case ev := <-events:
		if ev.Kind != river.EventKindJobCompleted {
			return nil, fmt.Errorf("the job ended %s: %v", ev.Kind, ev.Job.Errors)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Minute):
		return nil, errors.New("the job did not finish in 5 minutes")
	}
	res := &Result{ElapsedMS: time.Since(started).Milliseconds()}
	for _, c := range gh.Calls()[callsBefore:] {
		if c.Route == "GIT" || c.Operation == "git-upload-pack" {
			res.GitRequests++
		} else {
			res.GitHubCalls++
		}
	}
	if runs := gh.CheckRuns(repo); len(runs) > 0 {
		last := runs[len(runs)-1]
		res.CheckRun = CheckRun{Conclusion: last.Conclusion, Annotations: len(last.Annotations), Title: last.Title}
	}
	for _, pr := range gh.PullRequests(repo) {
		if pr.State != "open" {
			continue
		}
		res.PullRequest = &PullRequest{Number: pr.Number, Title: pr.Title, URL: fmt.Sprintf("%s/%s/pull/%d", gh.URL(), repo.FullName(), pr.Number)}
		res.PullRequest.Files, err = prFiles(ctx, w, inst.ID, repo, pr.Number)
		if err != nil {
			return nil, err
		}
		if bodyDir != "" {
			res.BodyPath = filepath.Join(bodyDir, "pull-request-body.md")
			if err := os.WriteFile(res.BodyPath, []byte(pr.Body), 0o644); err != nil {
				return nil, err
			}
		}
	}
	if errs := tb.errors(); len(errs) > 0 {
		return res, fmt.Errorf("the fake GitHub refused requests: %s", strings.Join(errs, "; "))
	}
	return res, nil
}

func prFiles(ctx context.Context, w *worker.Worker, inst int64, repo *githubtest.Repo, number int) ([]string, error) {
	client, err := w.GitHub.Installation(inst)
	if err != nil {
		return nil, err
	}
	files, _, err := client.Client.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, &github.ListOptions{PerPage: 100})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		out = append(out, f.GetFilename())
	}
	sort.Strings(out)
	return out, nil
}

func absOr(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// readRepo reads the files of dir, skipping VCS data and dependency
// folders, within a size bound.
func readRepo(dir string) (map[string]string, error) {
	files := map[string]string{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", ".venv", "__pycache__":
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		total += int64(len(b))
		if total > maxDemoBytes {
			return fmt.Errorf("%s is larger than the demo's %d MB limit", dir, maxDemoBytes>>20)
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no files", dir)
	}
	return files, nil
}

// demoTB lets the fake GitHub, written for tests, run inside the demo
// command: it provides the few testing.TB methods the fake uses and
// collects what it would report as test failures. Other methods are not
// called by the fake; the embedded nil interface makes any such call fail
// loudly instead of silently.
type demoTB struct {
	testing.TB
	dirs     []string
	cleanups []func()
	errs     []string
}

func newTB() *demoTB { return &demoTB{} }

func (t *demoTB) Helper()                   {}
func (t *demoTB) Name() string              { return "dockopt-demo" }
func (t *demoTB) Cleanup(f func())          { t.cleanups = append(t.cleanups, f) }
func (t *demoTB) Logf(string, ...any)       {}
func (t *demoTB) Log(...any)                {}
func (t *demoTB) Failed() bool              { return len(t.errs) > 0 }
func (t *demoTB) Errorf(f string, a ...any) { t.errs = append(t.errs, fmt.Sprintf(f, a...)) }
func (t *demoTB) Error(a ...any)            { t.errs = append(t.errs, fmt.Sprint(a...)) }
func (t *demoTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (t *demoTB) Fatal(a ...any)            { panic(fmt.Sprint(a...)) }
func (t *demoTB) TempDir() string {
	d, err := os.MkdirTemp("", "dockopt-demo-")
	if err != nil {
		panic(err)
	}
	t.dirs = append(t.dirs, d)
	return d
}

func (t *demoTB) errors() []string { return t.errs }

func (t *demoTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	for _, d := range t.dirs {
		os.RemoveAll(d)
	}
}
