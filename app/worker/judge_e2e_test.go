package worker_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// debtRepo has old debt: an apt-get line without its flags, a root user,
// no health check.
func debtRepo() map[string]string {
	return map[string]string{
		"README.md":         "# shop\n",
		"svc/Dockerfile":    "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nCOPY app /app\nCMD [\"/app\"]\n",
		"svc/app":           "x",
		"svc/.dockerignore": ".git\n",
	}
}

// The line a change adds: pip without --no-cache-dir, nothing the file
// had before.
const badLine = "RUN pip install flask"

func withBadLine(df string) string { return strings.Replace(df, "COPY", badLine+"\nCOPY", 1) }

func lastRun(t *testing.T, h *harness, r *githubtest.Repo) githubtest.CheckRun {
	t.Helper()
	runs := h.gh.CheckRuns(r)
	if len(runs) == 0 {
		t.Fatal("no check run")
	}
	return runs[len(runs)-1]
}

// TestPullRequestIsJudgedOnWhatItAdds: one bad line added to a repository
// with old debt fails the check with one annotation, on that line; the
// debt is counted, not annotated.
func TestPullRequestIsJudgedOnWhatItAdds(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, debtRepo())
		df, _ := h.gh.File(h.repo, "main", "svc/Dockerfile")
		h.openPR(t, "pip", map[string]string{"svc/Dockerfile": withBadLine("# the service\n\n" + df)})
		run := lastRun(t, h, h.repo)
		if run.Conclusion != "failure" {
			t.Errorf("conclusion %s, want failure", run.Conclusion)
		}
		if len(run.Annotations) != 1 {
			t.Fatalf("%d annotations, want one on the added line: %+v", len(run.Annotations), run.Annotations)
		}
		// Two lines were added above the old ones: the old findings moved
		// and are still existing.
		if a := run.Annotations[0]; a.Path != "svc/Dockerfile" || a.StartLine != 5 || !strings.Contains(a.Title, "pip-no-cache-dir") {
			t.Errorf("annotation %s:%d %q, want svc/Dockerfile:5 pip-no-cache-dir", a.Path, a.StartLine, a.Title)
		}
		for _, want := range []string{"Judged on what this pull request adds", "its base branch `main`", "| rule | severity | findings |", "apt-no-install-recommends"} {
			if !strings.Contains(run.Summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, run.Summary)
			}
		}
		if !strings.HasPrefix(run.Title, "1 new finding") && !strings.Contains(run.Title, "new findings,") {
			t.Errorf("title %q should count the new findings", run.Title)
		}
	})
}

// TestPushesAreJudgedAgainstTheCommitBefore: on the default branch, old
// debt is reported and never fails; a push that adds a bad line fails
// with one annotation; the next unrelated push is neutral again.
func TestPushesAreJudgedAgainstTheCommitBefore(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, debtRepo())
		h.push(t, map[string]string{"README.md": "# shop\n\nnow with docs\n"})
		first := lastRun(t, h, h.repo)
		if first.Conclusion != "neutral" || len(first.Annotations) != 0 || !strings.Contains(first.Summary, "existing debt") {
			t.Errorf("a push to a branch with debt: %s, %d annotations\n%s", first.Conclusion, len(first.Annotations), first.Summary)
		}
		df, _ := h.gh.File(h.repo, "main", "svc/Dockerfile")
		h.push(t, map[string]string{"svc/Dockerfile": withBadLine(df)})
		bad := lastRun(t, h, h.repo)
		if bad.Conclusion != "failure" || len(bad.Annotations) != 1 || bad.Annotations[0].StartLine != 3 {
			t.Errorf("a push adding a bad line: %s, annotations %+v", bad.Conclusion, bad.Annotations)
		}
		if !strings.Contains(bad.Summary, "Judged on what this push adds") {
			t.Errorf("summary:\n%s", bad.Summary)
		}
		h.push(t, map[string]string{"README.md": "# shop\n\nstill\n"})
		if next := lastRun(t, h, h.repo); next.Conclusion != "neutral" || len(next.Annotations) != 0 {
			t.Errorf("the push after it adds nothing: %s, %d annotations", next.Conclusion, len(next.Annotations))
		}
	})
}

// TestFailOnAllAndNever: the repository chooses how strict its check is.
func TestFailOnAllAndNever(t *testing.T) {
	h := start(t, queuetest.SQLite(t), debtRepo())
	h.push(t, map[string]string{".github/dockopt.yml": "checks: {fail_on: all}\n"})
	if run := lastRun(t, h, h.repo); run.Conclusion != "failure" || !strings.Contains(run.Summary, "`checks.fail_on: all`") || len(run.Annotations) == 0 {
		t.Errorf("fail_on all: %s, %d annotations\n%s", run.Conclusion, len(run.Annotations), run.Summary)
	}
	df, _ := h.gh.File(h.repo, "main", "svc/Dockerfile")
	h.push(t, map[string]string{".github/dockopt.yml": "checks: {fail_on: never}\n", "svc/Dockerfile": withBadLine(df)})
	if run := lastRun(t, h, h.repo); run.Conclusion != "neutral" || !strings.Contains(run.Summary, "never failed") {
		t.Errorf("fail_on never: %s\n%s", run.Conclusion, run.Summary)
	}
}

// TestHadolintKeysDockoptDoesNotKnowAreShown: a .hadolint.yaml with keys
// hadolint ignores works, and the check run names each one.
func TestHadolintKeysDockoptDoesNotKnowAreShown(t *testing.T) {
	h := start(t, queuetest.SQLite(t), debtRepo())
	h.push(t, map[string]string{".hadolint.yaml": "ignored: [DL3015]\nshell: bash\n"})
	run := lastRun(t, h, h.repo)
	if run.Conclusion == "failure" || !strings.Contains(run.Summary, "Configuration warnings") || !strings.Contains(run.Summary, `.hadolint.yaml:2: unknown key "shell" ignored`) {
		t.Errorf("check run %s:\n%s", run.Conclusion, run.Summary)
	}
	if strings.Contains(run.Text, "apt-no-install-recommends") {
		t.Errorf("the known key beside it (ignored: [DL3015]) should still apply")
	}
	// A file too large to read is warned of the same way.
	h.push(t, map[string]string{".hadolint.yaml": "ignored:\n" + strings.Repeat("  - DL3015\n", 30000)})
	run = lastRun(t, h, h.repo)
	if !strings.Contains(run.Summary, "Configuration warnings") || !strings.Contains(run.Summary, ".hadolint.yaml is larger than 256 KiB and was not read") {
		t.Errorf("check run %s:\n%s", run.Conclusion, run.Summary)
	}
}
