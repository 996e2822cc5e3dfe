package worker_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestMain lets this test binary be the worker's analysis child, as the
// dockopt-app binary is in `dockopt-app serve`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		if msg := os.Getenv("DOCKOPT_TEST_CHILD_PANICS"); msg != "" {
			// For TestAnalysisThatCrashesIsReported: a child that dies.
			panic(msg)
		}
		os.Exit(sandbox.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
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

		sha := h.push(t, testfiles.HeavyRepo(10))
		run := lastRun(t, h, h.repo)
		if run.HeadSHA != sha || run.Status != "completed" || run.Conclusion != "failure" || run.Title != "Analysis stopped: over its budget" ||
			!strings.Contains(run.Summary, "more than 64 MiB") {
			t.Fatalf("check run %s %s %q:\n%s", run.Status, run.Conclusion, run.Title, run.Summary)
		}
		// It names the files the child was on (HeavyRepo's are s0 … s9).
		if !regexp.MustCompile("When it was stopped it was working on `s[0-9]/Dockerfile` \\((analyzing|patching)\\)").MatchString(run.Summary) {
			t.Errorf("the check run does not say which files the analysis was working on:\n%s", run.Summary)
		}
		if prs := h.gh.PullRequests(h.repo); len(prs) != 0 {
			t.Errorf("a pull request from an analysis that did not finish: %+v", prs)
		}

	})
}
