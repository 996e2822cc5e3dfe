// Package demo runs the whole GitHub flow on this machine — install,
// push, webhook, queue, job, check run, pull request — against the fake
// GitHub of app/githubtest, so a newcomer sees what dockopt would do on
// their repository without registering an app.
package demo

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/githubtest"
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
	// Why is the summary's first paragraph: how the conclusion was reached.
	Why string `json:"why,omitempty"`
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
	started := time.Now()
	st, err := startStack(ctx, logw)
	if err != nil {
		return nil, err
	}
	defer st.close()
	gh, tb, w := st.gh, st.tb, st.worker
	name := strings.ToLower(filepath.Base(absOr(dir)))
	repo := gh.AddRepo(st.inst, "octo-org", name, map[string]string{"README.md": "# " + name + "\n"})
	before := gh.Branch(repo, "main")
	after := gh.Push(repo, "main", files, "Add the application", "octocat")
	callsBefore := len(gh.Calls())
	if err := st.deliver(ctx, gh.PushEvent(repo, "main", before, after, "octocat")); err != nil {
		return nil, err
	}
	res := &Result{ElapsedMS: time.Since(started).Milliseconds()}
	res.GitHubCalls, res.GitRequests = countCalls(gh.Calls()[callsBefore:])
	res.CheckRun = lastCheckRun(gh, repo)
	for _, pr := range gh.PullRequests(repo) {
		if pr.State != "open" {
			continue
		}
		res.PullRequest = &PullRequest{Number: pr.Number, Title: pr.Title, URL: fmt.Sprintf("%s/%s/pull/%d", gh.URL(), repo.FullName(), pr.Number)}
		res.PullRequest.Files, err = prFiles(ctx, w, st.inst.ID, repo, pr.Number)
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
	return listPRFiles(ctx, client.Client, repo.Owner, repo.Name, number)
}

// listPRFiles lists the paths a pull request changes, sorted.
func listPRFiles(ctx context.Context, gh *github.Client, owner, name string, number int) ([]string, error) {
	// Every page: a pull request may change far more than 100 files (GitHub
	// lists up to 3000, 100 a page).
	var out []string
	opts := &github.ListOptions{PerPage: 100}
	for {
		files, resp, err := gh.PullRequests.ListFiles(ctx, owner, name, number, opts)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			out = append(out, f.GetFilename())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
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

// host runs the fake GitHub, written for tests, inside the demo command:
// it keeps the fake's cleanups and temporary folders, and collects what
// the fake would report as test failures (requests GitHub would refuse).
// The fake reports from its HTTP handlers, so errs is guarded.
type host struct {
	mu       sync.Mutex
	dirs     []string
	cleanups []func()
	errs     []string
}

var _ githubtest.TB = (*host)(nil)

func (h *host) Helper()          {}
func (h *host) Cleanup(f func()) { h.cleanups = append(h.cleanups, f) }
func (h *host) Errorf(f string, a ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, fmt.Sprintf(f, a...))
}

// Fatalf reports a misuse of the fake by the demo itself: a bug, not a
// condition of the user's repository.
func (h *host) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func (h *host) TempDir() string {
	d, err := os.MkdirTemp("", "dockopt-demo-")
	if err != nil {
		panic(err)
	}
	h.dirs = append(h.dirs, d)
	return d
}

func (h *host) errors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.errs...)
}

func (h *host) cleanup() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	for _, d := range h.dirs {
		os.RemoveAll(d)
	}
}
