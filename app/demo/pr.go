package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/review"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/worker"
)

// PRResult is what a person sees on their pull request after dockopt
// reviewed it.
type PRResult struct {
	Number   int             `json:"number"`
	Title    string          `json:"title"`
	Review   string          `json:"review"`
	Comments []ReviewComment `json:"comments"`
	CheckRun CheckRun        `json:"check_run"`
	// Applied is each commented file after accepting every suggestion, as
	// GitHub commits them.
	Applied     map[string]string `json:"applied"`
	GitHubCalls int               `json:"github_calls"`
	GitRequests int               `json:"git_requests"`
	ElapsedMS   int64             `json:"elapsed_ms"`
}

// ReviewComment is one comment of dockopt's review.
type ReviewComment struct {
	Path      string `json:"path"`
	StartLine int    `json:"start_line,omitempty"`
	Line      int    `json:"line"`
	Body      string `json:"body"`
}

// The sample: a service whose Dockerfile a pull request extends with an
// unpinned apt-get install and a pip install that keeps its cache.
var (
	samplePRBase = map[string]string{
		"README.md":            "# api\n",
		"api/Dockerfile":       "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nCOPY . .\nUSER 65532:65532\nCMD [\"python\", \"main.py\"]\n",
		"api/requirements.txt": "flask==3.0.3\n",
		"api/main.py":          "print('hello')\n",
		"api/.dockerignore":    ".git\n__pycache__\n",
	}
	samplePRChange = map[string]string{
		"api/Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nRUN apt-get update && apt-get install -y curl\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nUSER 65532:65532\nCMD [\"python\", \"main.py\"]\n",
	}
)

// RunPR opens the sample pull request on a fake GitHub where dockopt is
// installed and returns dockopt's review.
func RunPR(ctx context.Context, logw io.Writer) (*PRResult, error) {
	tb := newTB()
	defer tb.cleanup()
	started := time.Now()
	gh := githubtest.NewServer(tb)
	inst := gh.AddInstallation("octo-org")
	repo := gh.AddRepo(inst, "octo-org", "api", samplePRBase)
	cfg := server.Config{
		AppID: gh.AppID, PrivateKeyPEM: gh.PrivateKeyPEM(), PrivateKey: gh.PrivateKey, WebhookSecret: []byte(gh.WebhookSecret),
		DatabaseURL: "sqlite://" + filepath.Join(tb.TempDir(), "dockopt.db"), GitHubAPIURL: gh.APIURL(), GitHubUploadURL: gh.APIURL(),
		BotLogin: gh.Bot(), Workers: 1, MaxAttempts: 3, JobTimeout: 5 * time.Minute, ShutdownTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn})), Metrics: metrics.New(),
	}
	w, err := worker.NewWithLimits(server.Deps{Config: cfg, Logger: cfg.Logger, Metrics: cfg.Metrics}, ghclient.Limits{WriteSpacing: -1})
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

	gh.Push(repo, "add-curl", samplePRChange, "Install curl and the requirements", "octocat")
	pr := gh.OpenPullRequest(repo, "add-curl", "main", "Install curl and the requirements", "octocat")
	callsBefore := len(gh.Calls())
	resp, err := gh.Send(ctx, "http://"+ln.Addr().String()+"/webhook", gh.PullRequestEvent(repo, pr.Number, "opened", "octocat"))
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
	res := &PRResult{Number: pr.Number, Title: pr.Title, Applied: map[string]string{}, ElapsedMS: time.Since(started).Milliseconds()}
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
	for _, rv := range gh.Reviews(repo) {
		res.Review = rv.Body
	}
	comments := gh.ReviewComments(repo)
	sort.Slice(comments, func(i, j int) bool {
		if comments[i].Path != comments[j].Path {
			return comments[i].Path < comments[j].Path
		}
		return comments[i].Line > comments[j].Line // bottom up: earlier lines keep their numbers
	})
	for _, c := range comments {
		res.Comments = append(res.Comments, ReviewComment{Path: c.Path, StartLine: c.StartLine, Line: c.Line, Body: c.Body})
		text, ok := res.Applied[c.Path]
		if !ok {
			text = samplePRChange[c.Path]
		}
		first := c.Line
		if c.StartLine > 0 {
			first = c.StartLine
		}
		if s, ok := suggestionIn(c.Body); ok {
			res.Applied[c.Path] = review.Apply(text, s, first, c.Line)
		}
	}
	sort.Slice(res.Comments, func(i, j int) bool {
		if res.Comments[i].Path != res.Comments[j].Path {
			return res.Comments[i].Path < res.Comments[j].Path
		}
		return res.Comments[i].Line < res.Comments[j].Line
	})
	if errs := tb.errors(); len(errs) > 0 {
		return res, fmt.Errorf("the fake GitHub refused requests: %s", strings.Join(errs, "; "))
	}
	return res, nil
}

// suggestionIn reads a comment's suggestion block as GitHub does: the
// lines between the opening fence with the suggestion info string and the
// next fence of the same length.
func suggestionIn(body string) (string, bool) {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		fence, ok := strings.CutSuffix(l, "suggestion")
		if !ok || len(fence) < 3 || strings.Trim(fence, "`") != "" {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if lines[j] == fence {
				return strings.Join(lines[i+1:j], "\n"), true
			}
		}
	}
	return "", false
}
