package worker_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/app/worker"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestMeasurePushJob measures one push job as `dockopt-app serve` runs it
// (analysis child included) and logs its wall time, what this process
// allocated and its peak resident memory, and the child's. It runs only
// when DOCKOPT_MEASURE names the repository: "monorepo" for
// examples/monorepo, "heavy:N" for testfiles.HeavyRepo(N). Run it in a
// process of its own (-count=1, one repository a run) so that the peak
// resident memory is this job's:
//
//	DOCKOPT_MEASURE=monorepo go test ./app/worker -run TestMeasurePushJob -count=1 -v
func TestMeasurePushJob(t *testing.T) {
	which := os.Getenv("DOCKOPT_MEASURE")
	if which == "" {
		t.Skip("DOCKOPT_MEASURE is not set")
	}
	var files map[string]string
	switch n, heavy := strings.CutPrefix(which, "heavy:"); {
	case heavy:
		k, err := strconv.Atoi(n)
		if err != nil {
			t.Fatal(err)
		}
		files = testfiles.HeavyRepo(k)
	default:
		files = readTree(t, "../../examples/"+which)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("acme")
	repo := gh.AddRepo(inst, "acme", "shop", map[string]string{"README.md": "# shop\n"})
	h := startWith(t, gh, repo, queuetest.SQLite(t), nil, func(c *worker.Config) {
		c.Sandbox = &sandbox.Runner{Command: exe, Limits: sandbox.Limits{MemoryMiB: 4096, Timeout: 5 * time.Minute}}
	})
	// A push of something else first: the server, the queue and the fake
	// are warm, and only the job measured counts.
	h.push(t, map[string]string{"README.md": "# shop, warm\n"})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	began := time.Now()
	h.push(t, files)
	wall := time.Since(began)
	runtime.ReadMemStats(&after)
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	if len(gh.PullRequests(repo)) != 1 {
		t.Errorf("%d pull requests, want 1", len(gh.PullRequests(repo)))
	}
	t.Logf("MEASURE repo=%s wall_ms=%d parent_alloc_mib=%.1f parent_peak_rss_mib=%d child_peak_rss_mib=%d",
		which, wall.Milliseconds(), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), self.Maxrss>>10, children.Maxrss>>10)
}
