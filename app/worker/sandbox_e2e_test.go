package worker_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/sandbox"
)

// TestMain lets this test binary be the worker's analysis child, as the
// dockopt binary is in `dockopt serve`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		os.Exit(sandbox.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// heavyRepo is a repository whose analysis needs well over 64 MiB: ten
// Dockerfiles of 400 RUN lines each, 12,010 findings.
func heavyRepo() map[string]string {
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "RUN apt-get update && apt-get install -y curl%d && echo %d\n", i, i)
	}
	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("s%d/Dockerfile", i)] = "FROM debian:bookworm-slim\n" + b.String()
	}
	return files
}

// TestAnalysisOverItsBudgetIsReportedNotRetried: a push whose analysis
// goes over the memory budget kills only the analysis child; the check
// run concludes with the reason, the job completes (no retry) and nothing
// is proposed.
func TestAnalysisOverItsBudgetIsReportedNotRetried(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.worker.Sandbox = &sandbox.Runner{Command: exe, Limits: sandbox.Limits{MemoryMiB: 64, Timeout: time.Minute}}

		sha := h.push(t, heavyRepo())
		run := lastRun(t, h, h.repo)
		if run.HeadSHA != sha || run.Status != "completed" || run.Conclusion != "failure" || run.Title != "Analysis stopped: over its budget" ||
			!strings.Contains(run.Summary, "more than 64 MiB") {
			t.Fatalf("check run %s %s %q:\n%s", run.Status, run.Conclusion, run.Title, run.Summary)
		}
		if prs := h.gh.PullRequests(h.repo); len(prs) != 0 {
			t.Errorf("a pull request from an analysis that did not finish: %+v", prs)
		}

	})
}
