package worker_test

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/app/worker"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// hostileFiles is testfiles.HostileRepo with its links, as pushed to
// the fake GitHub.
func hostileFiles() map[string]string {
	files, links := testfiles.HostileRepo()
	for path, target := range links {
		files[path] = githubtest.Symlink(target)
	}
	return files
}

// services is a repository of n copies of smallRepo's service.
func services(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		for name, content := range smallRepo() {
			files[fmt.Sprintf("svc%02d/", i)+strings.TrimPrefix(name, "svc/")] = content
		}
	}
	return files
}

// TestChildPublishesWhatTheInProcessEngineDoes runs the same story on two
// servers, one analyzing in a child process as `dockopt-app serve` does and
// one in process: a first push of a repository, a push that adds
// findings, and a person's pull request. What users see (pull requests,
// the files and REPORT.md on dockopt's branch, check runs with their
// annotations, reviews and their comments) must be byte for byte the
// same. With DOCKOPT_SEEN_DIR set it also writes what each saw there, to
// compare with another version of dockopt.
func TestChildPublishesWhatTheInProcessEngineDoes(t *testing.T) {
	stories := []struct {
		name  string
		files map[string]string
		edit  string // the Dockerfile the pushes and the pull request change
	}{
		{"monorepo", readTree(t, "../../examples/monorepo"), "api/Dockerfile"},
		{"clean", readTree(t, "../../examples/clean"), "Dockerfile"},
		{"hostile", hostileFiles(), "svc/Dockerfile"},
		// More than a pull-request body holds: REPORT.md is committed.
		{"many", services(90), "svc00/Dockerfile"},
	}
	for _, s := range stories {
		t.Run(s.name, func(t *testing.T) {
			if testing.Short() && s.name == "many" {
				t.Skip("-short: the story of 90 services takes a while")
			}
			child := seen(t, s.files, s.edit, nil)
			inProcess := seen(t, s.files, s.edit, func(c *worker.Config) { c.Sandbox = nil })
			if dir := os.Getenv("DOCKOPT_SEEN_DIR"); dir != "" {
				for engine, text := range map[string]string{"child": child, "in-process": inProcess} {
					if err := os.WriteFile(filepath.Join(dir, s.name+"-"+engine+".txt"), []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if child != inProcess {
				t.Errorf("users see something else when the analysis runs in a child:\n%s", firstDiff(inProcess, child))
			}
			if strings.Contains(child, "root:x:0:0") {
				t.Errorf("a file from outside the repository was published")
			}
			t.Logf("%d bytes of what users see, the same from both engines", len(child))
		})
	}
}

// seen plays the story on a new server and returns what users see.
func seen(t *testing.T, files map[string]string, edit string, tune func(*worker.Config)) string {
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("acme")
	repo := gh.AddRepo(inst, "acme", "shop", map[string]string{"README.md": "# shop\n"})
	var tunes []func(*worker.Config)
	if tune != nil {
		tunes = append(tunes, tune)
	}
	h := startWith(t, gh, repo, queuetest.SQLite(t), nil, tunes...)
	h.push(t, files)
	h.push(t, map[string]string{edit: files[edit] + "RUN apt-get update && apt-get install -y wget\n"})
	h.openPR(t, "feature", map[string]string{edit: files[edit] + "RUN apt-get install -y jq\n"})

	var b strings.Builder
	paths := map[string]bool{".dockopt/REPORT.md": true}
	for p := range files {
		paths[p] = true
		paths[path.Join(path.Dir(p), ".dockerignore")] = true
	}
	for _, pr := range gh.PullRequests(repo) {
		fmt.Fprintf(&b, "== pull request #%d %s %s→%s draft=%v labels=%v\n%s\n%s\n", pr.Number, pr.State, pr.Head, pr.Base, pr.Draft, pr.Labels, pr.Title, pr.Body)
		for _, m := range codePath.FindAllStringSubmatch(pr.Body, -1) {
			paths[m[1]] = true
		}
	}
	for _, c := range gh.CommitsOn(repo, "dockopt/main") {
		fmt.Fprintf(&b, "== commit on dockopt/main\n%s\n", c.Message)
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		if text, ok := gh.File(repo, "dockopt/main", p); ok {
			fmt.Fprintf(&b, "== file %s (%s)\n%s\n", p, gh.Mode(repo, "dockopt/main", p), text)
		}
	}
	for _, r := range gh.CheckRuns(repo) {
		fmt.Fprintf(&b, "== check run %s %s/%s\n%s\n%s\n%s\n", r.Name, r.Status, r.Conclusion, r.Title, r.Summary, r.Text)
		for _, a := range r.Annotations {
			fmt.Fprintf(&b, "annotation %+v\n", a)
		}
		for _, a := range r.Actions {
			fmt.Fprintf(&b, "action %+v\n", a)
		}
	}
	for _, r := range gh.Reviews(repo) {
		fmt.Fprintf(&b, "== review on #%d %s\n%s\n", r.PR, r.State, r.Body)
	}
	for _, c := range gh.ReviewComments(repo) {
		fmt.Fprintf(&b, "== review comment %s %d-%d\n%s\n", c.Path, c.StartLine, c.Line, c.Body)
	}
	for _, c := range gh.IssueComments(repo) {
		fmt.Fprintf(&b, "== comment by %s\n%s\n", c.User, c.Body)
	}
	// Commits differ between two servers only by their time.
	return sha.ReplaceAllString(b.String(), "<sha>")
}

var (
	codePath = regexp.MustCompile("`([A-Za-z0-9_./-]+)`")
	sha      = regexp.MustCompile(`\b[0-9a-f]{12,40}\b`)
)

// firstDiff shows where two texts part.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(wl), len(gl)) {
		if wl[i] != gl[i] {
			return fmt.Sprintf("line %d:\n  in process: %s\n  child:      %s", i+1, wl[i], gl[i])
		}
	}
	return fmt.Sprintf("in process %d lines, child %d", len(wl), len(gl))
}

// TestPullRequestOverItsBudgetIsReported: a person's pull request whose
// analysis goes over the memory budget gets a concluded check run that
// names the reason, and no review.
func TestPullRequestOverItsBudgetIsReported(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("acme")
	repo := gh.AddRepo(inst, "acme", "shop", prRepo())
	h := startWith(t, gh, repo, queuetest.SQLite(t), nil, func(c *worker.Config) {
		c.Sandbox = &sandbox.Runner{Command: exe, Limits: sandbox.Limits{MemoryMiB: 64, Timeout: time.Minute}}
	})
	h.openPR(t, "heavy", testfiles.HeavyRepo(10))
	runs := gh.CheckRuns(repo)
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	if r := runs[0]; r.Status != "completed" || r.Conclusion != "failure" || r.Title != "Analysis stopped: over its budget" || !strings.Contains(r.Summary, "more than 64 MiB") {
		t.Errorf("check run %s %s %q:\n%s", r.Status, r.Conclusion, r.Title, r.Summary)
	}
	if n := len(gh.Reviews(repo)); n != 0 {
		t.Errorf("%d reviews of an analysis that did not finish", n)
	}
}

// TestAnalysisThatCrashesIsReported: a push whose analysis child dies
// gets a concluded check run that says it died and how, and nothing else.
func TestAnalysisThatCrashesIsReported(t *testing.T) {
	h := start(t, queuetest.SQLite(t), map[string]string{"README.md": "# shop\n"})
	h.worker.Sandbox.Env = []string{"DOCKOPT_TEST_CHILD_PANICS=the analysis panicked on purpose"}
	sha := h.push(t, smallRepo())
	run := lastRun(t, h, h.repo)
	if run.HeadSHA != sha || run.Status != "completed" || run.Conclusion != "failure" || run.Title != "Analysis failed" ||
		!strings.Contains(run.Summary, "exit status 2") || !strings.Contains(run.Summary, "the analysis panicked on purpose") {
		t.Fatalf("check run %s %s %q:\n%s", run.Status, run.Conclusion, run.Title, run.Summary)
	}
	if prs := h.gh.PullRequests(h.repo); len(prs) != 0 {
		t.Errorf("a pull request from an analysis that died: %+v", prs)
	}
}
