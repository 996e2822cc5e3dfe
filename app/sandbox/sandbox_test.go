package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/internal/githost"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestMain lets this test binary be the child, as the dockopt binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		if os.Getenv("DOCKOPT_SANDBOX_ENV_PROBE") != "" {
			// For TestChildGetsNoSecrets: say what the environment holds.
			fmt.Fprintln(os.Stderr, strings.Join(os.Environ(), " "))
			os.Exit(7)
		}
		if os.Getenv("DOCKOPT_SANDBOX_HANG") != "" {
			// For TestChildDiesWithItsParent: a child that never ends
			// by itself.
			select {}
		}
		os.Exit(sandbox.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	if dir := os.Getenv("DOCKOPT_SANDBOX_PARENT"); dir != "" {
		// For TestChildDiesWithItsParent: a parent that analyzes dir in
		// a child until it is killed.
		// No cgroup: a killed parent cannot remove it (the next run
		// under the same parent would), and this test is about the child.
		r := runner(4096, 10*time.Minute)
		r.NoCgroup = true
		r.Env = []string{"DOCKOPT_SANDBOX_HANG=1"}
		_, err := r.Analyze(context.Background(), dir, request(nil), 64<<20)
		fmt.Fprintln(os.Stderr, "the analysis ended before the parent was killed:", err)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func runner(mem int, timeout time.Duration) *sandbox.Runner {
	exe, _ := os.Executable()
	return &sandbox.Runner{Command: exe, Limits: sandbox.Limits{MemoryMiB: mem, Timeout: timeout}}
}

func TestAnalysisWithinBudget(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"svc/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n", "svc/.dockerignore": ".git\n"})
	rep, err := runner(512, time.Minute).Analyze(context.Background(), dir, request(nil), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Dockerfiles != 1 || rep.Findings == 0 || len(rep.Changes) == 0 || rep.PeakRSSKiB <= 0 || rep.Body == "" {
		t.Errorf("result %+v", rep)
	}
	t.Logf("one small Dockerfile: %s, peak %d MiB", rep.Elapsed.Round(time.Millisecond), rep.PeakRSSKiB>>10)
}

func TestAnalysisOverTheTimeBudget(t *testing.T) {
	dir := testfiles.Dir(t, testfiles.HeavyRepo(50))
	_, err := runner(512, 50*time.Millisecond).Analyze(context.Background(), dir, request(nil), 1<<20)
	var ex *sandbox.Exceeded
	if !errors.As(err, &ex) || ex.Memory || !strings.Contains(err.Error(), "took longer than 50ms") {
		t.Fatalf("got %v, want the time budget exceeded", err)
	}
}

func TestAnalysisOverTheMemoryBudget(t *testing.T) {
	dir := testfiles.Dir(t, testfiles.HeavyRepo(10))
	rep, err := runner(4096, time.Minute).Analyze(context.Background(), dir, request(nil), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10 Dockerfiles of 400 RUN lines: %d findings, %s, peak %d MiB", rep.Findings, rep.Elapsed.Round(time.Millisecond), rep.PeakRSSKiB>>10)
	// A quarter of the peak: the peak of a run under a large budget
	// includes garbage the collector had no reason to reclaim, and under
	// a kernel-enforced limit (a cgroup) the collector fits a run into
	// half of it.
	_, err = runner(int(rep.PeakRSSKiB>>10)/4, time.Minute).Analyze(context.Background(), dir, request(nil), 64<<20)
	var ex *sandbox.Exceeded
	if !errors.As(err, &ex) || !ex.Memory {
		t.Fatalf("got %v, want the memory budget exceeded", err)
	}
	// It says which of the files the child was working on when stopped.
	if len(ex.Working) == 0 {
		t.Errorf("the error names no file the child was working on")
	}
	for _, w := range ex.Working {
		if _, ok := testfiles.HeavyRepo(10)[w.Path]; !ok || (w.Phase != "analyzing" && w.Phase != "patching") {
			t.Errorf("working on %+v, want one of the repository's Dockerfiles, analyzing or patching", w)
		}
	}
	t.Logf("%v; working on %+v", err, ex.Working)
}

// TestChildGetsNoSecrets: the child, which reads hostile content, does
// not inherit the server's environment.
func TestChildGetsNoSecrets(t *testing.T) {
	t.Setenv("DOCKOPT_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----secret")
	dir := testfiles.Dir(t, map[string]string{"Dockerfile": "FROM debian\n"})
	r := runner(512, time.Minute)
	r.Env = []string{"DOCKOPT_SANDBOX_ENV_PROBE=1"}
	_, err := r.Analyze(context.Background(), dir, request(nil), 1<<20)
	var crashed *sandbox.Crashed
	if !errors.As(err, &crashed) || !strings.Contains(crashed.Detail, "DOCKOPT_SANDBOX_ENV_PROBE=1") {
		t.Fatalf("the probe child did not report its environment: %v", err)
	}
	if strings.Contains(crashed.Detail, "PRIVATE_KEY") {
		t.Errorf("the child's environment holds the server's secrets: %s", crashed.Detail)
	}
}

// request asks for an analysis with cfg (the defaults when nil).
func request(cfg *analyzer.Config) *sandbox.Request {
	if cfg == nil {
		cfg = analyzer.DefaultConfig()
	}
	return &sandbox.Request{Version: sandbox.Version, Title: "acme/shop", Config: cfg}
}

// TestResultOverItsBoundIsExceeded: a result larger than the parent reads
// is an error that says so, never a result cut short.
func TestResultOverItsBoundIsExceeded(t *testing.T) {
	dir := testfiles.Dir(t, testfiles.HeavyRepo(3))
	_, err := runner(1024, time.Minute).Analyze(context.Background(), dir, request(nil), 4<<10)
	var ex *sandbox.Exceeded
	if !errors.As(err, &ex) || ex.Output != 4<<10 || !strings.Contains(err.Error(), "result was larger than") {
		t.Fatalf("got %v, want the result's bound exceeded", err)
	}
}

// TestChildUsesTheGivenConfiguration: the child analyzes with the
// configuration it is sent, not one it would read from the checkout.
func TestChildUsesTheGivenConfiguration(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{
		"Dockerfile":          "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n",
		".github/dockopt.yml": "enabled: true\n",
	})
	all, err := runner(512, time.Minute).Analyze(context.Background(), dir, request(nil), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	cfg := analyzer.DefaultConfig()
	cfg.IgnorePaths = []string{"Dockerfile"}
	none, err := runner(512, time.Minute).Analyze(context.Background(), dir, request(cfg), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if all.Dockerfiles != 1 || none.Dockerfiles != 0 {
		t.Errorf("with the defaults %d Dockerfiles, with the Dockerfile ignored %d", all.Dockerfiles, none.Dockerfiles)
	}
}

// TestChildDiesWithItsParent kills a parent (SIGKILL: no deferred
// cleanup runs) while its child works, and checks that the kernel ends
// the child too, rather than letting it work on to its timeout (here ten
// minutes) with no one to read its result.
func TestChildDiesWithItsParent(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	exe, _ := os.Executable()
	parent := exec.Command(exe, "-test.run", "^$")
	parent.Env = append(os.Environ(), "DOCKOPT_SANDBOX_PARENT="+dir)
	var stderr bytes.Buffer
	parent.Stderr = &stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- parent.Wait() }()
	var child int
	for deadline := time.Now().Add(30 * time.Second); child == 0; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the parent ended (%v) before it was killed: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the parent started no child within 30 s")
		}
		child = childOf(parent.Process.Pid)
	}
	if !alive(child) {
		t.Fatal("the child ended before its parent was killed")
	}
	parent.Process.Kill()
	<-exited
	killed := time.Now()
	for alive(child) {
		if time.Since(killed) > 10*time.Second {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("the child %d was still running 10 s after its parent was killed", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the child ended %v after its parent", time.Since(killed).Round(time.Millisecond))
}

// childOf is a child process of pid, or 0.
func childOf(pid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		var state string
		var ppid int
		if _, err := fmt.Sscan(rest, &state, &ppid); err == nil && ppid == pid {
			n, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return n
		}
	}
	return 0
}

// alive says whether pid runs: it exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	var state string
	fmt.Sscan(rest, &state)
	return state != "Z" && state != "X"
}

// The child makes no connection to the git hosts a checkout's ADDs name
// (BuildKit's conversion reads their SSH host keys): it takes the network
// away from itself, which also covers a name Go dials over IPv4 and IPv6
// at once on goroutines of its own.
func TestChildConnectsToNoGitHost(t *testing.T) {
	host := githost.Start(t, nil)
	addr, port := host.Addr, host.Port
	dir := testfiles.Dir(t, map[string]string{
		"a/Dockerfile": "FROM debian:bookworm-slim\nARG REPO=ssh://git@" + addr + "/org/repo.git\nADD ${REPO} /src\nRUN apt-get update && apt-get install -y curl\n",
		"b/Dockerfile": "FROM debian:bookworm-slim\nARG REPO=ssh://git@localhost:" + port + "/org/repo.git\nADD $REPO /src\nRUN apt-get update && apt-get install -y curl\n",
		"c/Dockerfile": "FROM debian:bookworm-slim\nADD ssh://git@" + addr + "/org/repo.git /src\nRUN apt-get update && apt-get install -y curl\n",
	})
	rep, err := runner(512, time.Minute).Analyze(context.Background(), dir, request(nil), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Dockerfiles != 3 || len(rep.Changes) == 0 {
		t.Errorf("result %+v", rep)
	}
	if n := host.Connections(); n != 0 {
		t.Errorf("the child connected to the git host %d times", n)
	}
}
