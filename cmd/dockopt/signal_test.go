package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// manyDockerfiles writes a repository of n Dockerfiles of 32 lines, each
// with fixes to check: half a minute of work for `analyze --out`.
func manyDockerfiles(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	for i := range n {
		d := filepath.Join(dir, fmt.Sprintf("svc%04d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		src := "FROM debian:12\n" + strings.Repeat("RUN apt-get update && apt-get install -y curl\nCOPY . /app\n", 15) + "CMD [\"/app/run\"]\n"
		if err := os.WriteFile(filepath.Join(d, "Dockerfile"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestSignalStopsAnalyze runs the CLI as a child process on a repository
// that takes far longer than a second to analyze, sends it SIGTERM or
// SIGINT, and checks that it ends promptly with 128 + the signal's number,
// says so, and wrote nothing. The bound is generous: what fails is a
// process that goes on working (it used to, for minutes).
func TestSignalStopsAnalyze(t *testing.T) {
	bin, err := exec.LookPath("dockopt")
	if err != nil {
		t.Skip("dockopt is not on PATH (TestMain puts it there)")
	}
	repo := manyDockerfiles(t, 1500)
	for _, c := range []struct {
		sig  syscall.Signal
		exit int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "OUT")
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, "analyze", "--format", "json", "--out", out, repo)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Let it get well into the analysis.
			select {
			case err := <-done:
				t.Fatalf("finished before the signal (%v): the input is too small to test stopping", err)
			case <-time.After(1500 * time.Millisecond):
			}
			sent := time.Now()
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 10 s after %v", c.sig)
			}
			took := time.Since(sent)
			t.Logf("%v: exited %d after %v", c.sig, cmd.ProcessState.ExitCode(), took.Round(time.Millisecond))
			if took > time.Second+4*time.Second {
				t.Errorf("took %v to stop after %v, want about 1 s", took, c.sig)
			}
			if got := cmd.ProcessState.ExitCode(); got != c.exit {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, c.exit, stderr.String())
			}
			if !strings.Contains(stderr.String(), "nothing was written") && !strings.Contains(stderr.String(), "stopped by") {
				t.Errorf("stderr does not say it stopped:\n%s", stderr.String())
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s exists after the run was stopped (%v)", out, err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stopped run printed a result:\n%.300s", stdout.String())
			}
		})
	}
}
