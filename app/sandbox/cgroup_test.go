package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// realCgroupParent is the cgroup under which this host lets the tests make
// run cgroups; the test is skipped where there is none.
func realCgroupParent(t *testing.T) cgroupParent {
	t.Helper()
	self, _ := os.ReadFile("/proc/self/cgroup")
	parents := cgroupParents(defaultCgroupRoot, self)
	cg, err := newRunCgroup(parents, 64<<20)
	if cg == nil {
		t.Skipf("needs a writable cgroup with the memory controller (root, with cgroup v1 memory or a delegated cgroup2): %v", err)
	}
	cg.remove()
	for _, p := range parents {
		if p.mechanism == cg.mechanism {
			return p
		}
	}
	t.Fatal("unreachable")
	return cgroupParent{}
}

// runCgroupsLeft lists this process's run cgroups under parent.
func runCgroupsLeft(t *testing.T, parent string) []string {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(parent, cgroupPrefix+"*"))
	return left
}

func testRunner(mem int, timeout time.Duration) *Runner {
	exe, _ := os.Executable()
	return &Runner{Command: exe, Limits: Limits{MemoryMiB: mem, Timeout: timeout}}
}

// TestCgroupStopsAnAnalysisOverTheBudget: on a host where dockopt may make
// memory cgroups, the child runs in one of its own; an analysis that needs
// more than the budget is killed by the kernel at the cgroup's limit, before
// the backstops, and reported as over the memory budget; the cgroup is
// removed either way.
func TestCgroupStopsAnAnalysisOverTheBudget(t *testing.T) {
	parent := realCgroupParent(t)
	dir := testfiles.Dir(t, testfiles.HeavyRepo(10))
	rep, err := testRunner(4096, time.Minute).Analyze(context.Background(), dir, defaultRequest(), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.MemoryLimit, parent.mechanism+" (") {
		t.Errorf("the report says the memory was bounded by %q, want the %s", rep.MemoryLimit, parent.mechanism)
	}
	t.Logf("within the budget: %s; %d findings, %s, peak %d MiB", rep.MemoryLimit, rep.Findings, rep.Elapsed.Round(time.Millisecond), rep.PeakRSSKiB>>10)

	// A quarter of the peak (TestAnalysisOverTheMemoryBudget says why).
	_, err = testRunner(int(rep.PeakRSSKiB>>10)/4, time.Minute).Analyze(context.Background(), dir, defaultRequest(), 64<<20)
	var ex *Exceeded
	if !errors.As(err, &ex) || !ex.Memory {
		t.Fatalf("got %v, want the memory budget exceeded", err)
	}
	if ex.StoppedBy != parent.mechanism {
		t.Errorf("stopped by the %s, want the kernel at the %s limit (%v)", ex.StoppedBy, parent.mechanism, err)
	}
	t.Logf("over the budget: %v", err)
	if left := runCgroupsLeft(t, parent.dir); len(left) > 0 {
		t.Errorf("run cgroups left behind: %v", left)
	}
}

// TestCgroupIsRemovedWhenTheCallerGivesUp: the caller's context ends while
// the child runs in its cgroup; the child is killed and the cgroup removed.
func TestCgroupIsRemovedWhenTheCallerGivesUp(t *testing.T) {
	parent := realCgroupParent(t)
	dir := testfiles.Dir(t, testfiles.HeavyRepo(50))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the child's cgroup holds the child.
		for ctx.Err() == nil {
			for _, cg := range runCgroupsLeft(t, parent.dir) {
				if b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs")); len(strings.TrimSpace(string(b))) > 0 {
					cancel()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := testRunner(4096, time.Minute).Analyze(ctx, dir, defaultRequest(), 64<<20)
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the caller's cancellation", err)
	}
	if left := runCgroupsLeft(t, parent.dir); len(left) > 0 {
		t.Errorf("run cgroups left behind: %v", left)
	}
}

// TestWithoutCgroupTheBackstopsStopIt: RLIMIT_AS and the resident-memory
// watch alone, as on a host without a usable cgroup.
func TestWithoutCgroupTheBackstopsStopIt(t *testing.T) {
	dir := testfiles.Dir(t, testfiles.HeavyRepo(10))
	r := testRunner(4096, time.Minute)
	r.NoCgroup = true
	rep, err := r.Analyze(context.Background(), dir, defaultRequest(), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.MemoryLimit, "RLIMIT_AS") {
		t.Errorf("the report says %q, want RLIMIT_AS", rep.MemoryLimit)
	}
	r.Limits.MemoryMiB = int(rep.PeakRSSKiB>>10) / 2
	_, err = r.Analyze(context.Background(), dir, defaultRequest(), 64<<20)
	var ex *Exceeded
	if !errors.As(err, &ex) || !ex.Memory || strings.HasPrefix(ex.StoppedBy, "cgroup") {
		t.Fatalf("got %v, want the memory budget exceeded, stopped by a backstop", err)
	}
	t.Logf("%v", err)
}

// defaultRequest asks for an analysis with the default configuration.
func defaultRequest() *Request {
	return &Request{Version: Version, Title: "acme/shop", Config: analyzer.DefaultConfig()}
}
