package demo

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/dockopt/dockopt/app/review"
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
	started := time.Now()
	st, err := startStack(ctx, logw)
	if err != nil {
		return nil, err
	}
	defer st.close()
	gh, tb := st.gh, st.tb
	repo := gh.AddRepo(st.inst, "octo-org", "api", samplePRBase)
	gh.Push(repo, "add-curl", samplePRChange, "Install curl and the requirements", "octocat")
	pr := gh.OpenPullRequest(repo, "add-curl", "main", "Install curl and the requirements", "octocat")
	callsBefore := len(gh.Calls())
	if err := st.deliver(ctx, gh.PullRequestEvent(repo, pr.Number, "opened", "octocat")); err != nil {
		return nil, err
	}

	res := &PRResult{Number: pr.Number, Title: pr.Title, Applied: map[string]string{}, ElapsedMS: time.Since(started).Milliseconds()}
	res.GitHubCalls, res.GitRequests = countCalls(gh.Calls()[callsBefore:])
	res.CheckRun = lastCheckRun(gh, repo)
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
