package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/internal/githost"
	"github.com/dockopt/dockopt/internal/nonet"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// `dockopt analyze` makes no connection to the git hosts a repository's
// ADDs name, whatever the form: BuildKit's conversion reads their SSH host
// keys. The process takes the network away from itself; a name such as
// localhost, which Go may dial over IPv4 and IPv6 at once on goroutines of
// its own, is covered only that way.
func TestAnalyzeConnectsToNoGitHost(t *testing.T) {
	bin, err := exec.LookPath("dockopt")
	if err != nil {
		t.Skip("dockopt is not on PATH (TestMain puts it there)")
	}
	host := githost.Start(t, nil)
	addr, port := host.Addr, host.Port
	files := map[string]string{
		"literal/Dockerfile":  "FROM alpine:3.20\nADD ssh://git@" + addr + "/org/repo.git /src\nUSER 1000\n",
		"variable/Dockerfile": "FROM alpine:3.20\nARG REPO=ssh://git@" + addr + "/org/repo.git\nADD ${REPO} /src\nUSER 1000\n",
		"name/Dockerfile":     "FROM alpine:3.20\nARG REPO=ssh://git@localhost:" + port + "/org/repo.git\nADD $REPO /src\nUSER 1000\n",
		"onbuild/Dockerfile":  "FROM alpine:3.20 AS base\nONBUILD ADD ssh://git@" + addr + "/org/repo.git /src\nFROM base\nRUN apt-get install curl\n",
	}
	repo := testfiles.Dir(t, files)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "analyze", "--format", "json", repo)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code > 1 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var out struct {
		Files []struct{ Path string } `json:"files"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Files) != len(files) {
		t.Fatalf("want %d files analyzed, got %d (%v)\n%s", len(files), len(out.Files), err, stderr.String())
	}
	if n := host.Connections(); n != 0 {
		t.Errorf("dockopt analyze connected to the git host %d times", n)
	}
}

// Every thread of `dockopt analyze` has the filter, checked while the
// process waits for a Dockerfile on stdin: the process restriction itself,
// which the test above cannot tell from the analyzer's own guards on a
// host whose localhost has one address.
func TestAnalyzeRestrictsEveryThread(t *testing.T) {
	bin, err := exec.LookPath("dockopt")
	if err != nil {
		t.Skip("dockopt is not on PATH (TestMain puts it there)")
	}
	if err := nonet.Available(); err != nil {
		t.Skipf("no seccomp filters here: %v", err)
	}
	cmd := exec.Command(bin, "analyze", "--format", "json", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	tasks := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "task")
	var unfiltered []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		unfiltered = unfiltered[:0]
		entries, _ := os.ReadDir(tasks)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(tasks, e.Name(), "status"))
			if err == nil && !strings.Contains(string(b), "\nSeccomp:\t2\n") {
				unfiltered = append(unfiltered, e.Name())
			}
		}
		if len(entries) > 0 && len(unfiltered) == 0 {
			break
		}
	}
	if len(unfiltered) > 0 {
		t.Errorf("threads %v of dockopt analyze have no seccomp filter\n%s", unfiltered, stderr.String())
	}
	io.WriteString(stdin, "FROM alpine:3.20\nADD git@127.0.0.1:org/repo.git /src\n")
	stdin.Close()
	if err := cmd.Wait(); err != nil && cmd.ProcessState.ExitCode() > 1 {
		t.Errorf("exit %v\n%s", err, stderr.String())
	}
}
