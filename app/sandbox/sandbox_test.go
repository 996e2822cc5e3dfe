package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/sandbox"
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
		os.Exit(sandbox.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func runner(mem int, timeout time.Duration) *sandbox.Runner {
	exe, _ := os.Executable()
	return &sandbox.Runner{Command: exe, Limits: sandbox.Limits{MemoryMiB: mem, Timeout: timeout}}
}

func TestAnalysisWithinBudget(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"svc/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n", "svc/.dockerignore": ".git\n"})
	rep, err := runner(512, time.Minute).Check(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Dockerfiles != 1 || rep.Findings == 0 || rep.Changes == 0 || rep.PeakRSSKiB <= 0 {
		t.Errorf("report %+v", rep)
	}
	t.Logf("one small Dockerfile: %s, peak %d MiB", rep.Elapsed.Round(time.Millisecond), rep.PeakRSSKiB>>10)
}

func TestAnalysisOverTheTimeBudget(t *testing.T) {
	dir := testfiles.Dir(t, testfiles.HeavyRepo(50))
	_, err := runner(512, 50*time.Millisecond).Check(context.Background(), dir)
	var ex *sandbox.Exceeded
	if !errors.As(err, &ex) || ex.Memory || !strings.Contains(err.Error(), "took longer than 50ms") {
		t.Fatalf("got %v, want the time budget exceeded", err)
	}
}

func TestAnalysisOverTheMemoryBudget(t *testing.T) {
	dir := testfiles.Dir(t, testfiles.HeavyRepo(10))
	rep, err := runner(4096, time.Minute).Check(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10 Dockerfiles of 400 RUN lines: %d findings, %s, peak %d MiB", rep.Findings, rep.Elapsed.Round(time.Millisecond), rep.PeakRSSKiB>>10)
	// A quarter of the peak: the peak of a run under a large budget
	// includes garbage the collector had no reason to reclaim, and under
	// a kernel-enforced limit (a cgroup) the collector fits a run into
	// half of it.
	_, err = runner(int(rep.PeakRSSKiB>>10)/4, time.Minute).Check(context.Background(), dir)
	var ex *sandbox.Exceeded
	if !errors.As(err, &ex) || !ex.Memory {
		t.Fatalf("got %v, want the memory budget exceeded", err)
	}
	t.Logf("%v", err)
}

// TestChildGetsNoSecrets: the child, which reads hostile content, does
// not inherit the server's environment.
func TestChildGetsNoSecrets(t *testing.T) {
	t.Setenv("DOCKOPT_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----secret")
	dir := testfiles.Dir(t, map[string]string{"Dockerfile": "FROM debian\n"})
	r := runner(512, time.Minute)
	r.Env = []string{"DOCKOPT_SANDBOX_ENV_PROBE=1"}
	_, err := r.Check(context.Background(), dir)
	var crashed *sandbox.Crashed
	if !errors.As(err, &crashed) || !strings.Contains(crashed.Detail, "DOCKOPT_SANDBOX_ENV_PROBE=1") {
		t.Fatalf("the probe child did not report its environment: %v", err)
	}
	if strings.Contains(crashed.Detail, "PRIVATE_KEY") {
		t.Errorf("the child's environment holds the server's secrets: %s", crashed.Detail)
	}
}
