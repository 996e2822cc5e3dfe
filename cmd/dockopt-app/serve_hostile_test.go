package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/internal/testfiles"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProcess is a running `dockopt-app serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	out  *testfiles.Output
	addr string
	done chan error
}

func startServe(t *testing.T, bin string, gh *githubtest.Server, db string, extra ...string) *serveProcess {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"DOCKOPT_APP_ID="+fmt.Sprint(gh.AppID), "DOCKOPT_PRIVATE_KEY="+string(gh.PrivateKeyPEM()), "DOCKOPT_WEBHOOK_SECRET="+gh.WebhookSecret,
		"DOCKOPT_GITHUB_URL="+gh.URL(), "DOCKOPT_DATABASE_URL="+db, "DOCKOPT_ADDR="+addr, "DOCKOPT_BOT_LOGIN="+gh.Bot(),
		"DOCKOPT_ANALYSIS_MEMORY_MIB=64", "DOCKOPT_DEAD_JOB_AFTER=3s", "DOCKOPT_WORKERS=2", "DOCKOPT_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, extra...)
	p := &serveProcess{cmd: cmd, out: &testfiles.Output{}, addr: addr, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("dockopt-app serve (%s) said:\n%s", addr, p.out.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("dockopt-app serve ended at start: %v\n%s", err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockopt-app serve not ready within 60s\n%s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *serveProcess) deliver(t *testing.T, gh *githubtest.Server, w githubtest.Webhook) {
	t.Helper()
	resp, err := gh.Send(context.Background(), "http://"+p.addr+"/webhook", w)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s delivery: %s", w.Event, resp.Status)
	}
}

// waitFor polls the fake GitHub (the server is another process) until ok.
func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeSurvivesHostileRepositoryAndKill runs a real `dockopt-app serve`
// against the GitHub double with two installations: one pushes a
// repository whose analysis goes far over the server's 64 MiB analysis
// budget, the other an ordinary one. The server is killed (SIGKILL) while
// the ordinary job waits on GitHub to open its pull request, and
// restarted on the same database (SQLite, then PostgreSQL). The server survives the hostile
// repository (its check run says why nothing was published), the other
// installation gets its one pull request, and no check run is left in
// progress.
func TestServeSurvivesHostileRepositoryAndKill(t *testing.T) {
	bin, err := exec.LookPath("dockopt-app")
	if err != nil {
		t.Skip("dockopt-app is not on PATH (TestMain puts it there)")
	}
	queuetest.Databases(t, func(t *testing.T, db string) { serveHostile(t, bin, db) })
}

func serveHostile(t *testing.T, bin, db string) {
	gh := githubtest.NewServer(t, githubtest.WithEnterprisePrefix(), githubtest.WithTokenLifetime(24*time.Hour))
	evil := gh.AddInstallation("evil")
	bomb := gh.AddRepo(evil, "evil", "bomb", map[string]string{"README.md": "# bomb\n"})
	acme := gh.AddInstallation("acme")
	shop := gh.AddRepo(acme, "acme", "shop", map[string]string{"README.md": "# shop\n"})
	began := time.Now()

	first := startServe(t, bin, gh, db)
	hang := gh.Fault("pulls/create", githubtest.Fault{Delay: time.Minute})
	bombBefore := gh.Branch(bomb, "main")
	bombAfter := gh.Push(bomb, "main", testfiles.HeavyRepo(10), "add services", "mallory")
	shopBefore := gh.Branch(shop, "main")
	shopAfter := gh.Push(shop, "main", map[string]string{
		"svc/Dockerfile":    "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD [\"/app/run\"]\n",
		"svc/.dockerignore": ".git\n", "svc/run": "#!/bin/sh\n",
	}, "add svc", "alice")
	first.deliver(t, gh, gh.PushEvent(bomb, "main", bombBefore, bombAfter, "mallory"))
	first.deliver(t, gh, gh.PushEvent(shop, "main", shopBefore, shopAfter, "alice"))

	// Mid-job: the bot branch is pushed and the pull request hangs.
	waitFor(t, "the ordinary job pushing its branch", time.Minute, func() bool { return gh.Branch(shop, "dockopt/main") != "" })
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killedAt := time.Since(began)
	hang.Clear()

	second := startServe(t, bin, gh, db)
	restarted := time.Now()
	completed := func(r *githubtest.Repo, sha string) *githubtest.CheckRun {
		for _, cr := range gh.CheckRuns(r) {
			if cr.HeadSHA == sha && cr.Status == "completed" {
				return &cr
			}
		}
		return nil
	}
	waitFor(t, "the ordinary repository's pull request and check run", 2*time.Minute, func() bool {
		return len(gh.PullRequests(shop)) == 1 && completed(shop, shopAfter) != nil
	})
	recovered := time.Since(restarted)
	waitFor(t, "the hostile repository's check run", 2*time.Minute, func() bool { return completed(bomb, bombAfter) != nil })

	run := completed(bomb, bombAfter)
	if run.Conclusion != "failure" || run.Title != "Analysis stopped: over its budget" || !strings.Contains(run.Summary, "more than 64 MiB") {
		t.Errorf("the hostile repository's check run: %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
	if prs := gh.PullRequests(bomb); len(prs) != 0 {
		t.Errorf("pull requests on the hostile repository: %+v", prs)
	}
	if prs := gh.PullRequests(shop); len(prs) != 1 || prs[0].State != "open" {
		t.Errorf("the ordinary repository's pull requests: %+v", prs)
	}
	for _, r := range []*githubtest.Repo{bomb, shop} {
		for _, cr := range gh.CheckRuns(r) {
			if cr.Status != "completed" {
				t.Errorf("%s: check run %d on %s left %s", r.Name, cr.ID, cr.HeadSHA, cr.Status)
			}
		}
	}
	// The server is still up, and stops cleanly.
	resp, err := http.Get("http://" + second.addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the restarted server does not answer: %v", err)
	}
	resp.Body.Close()
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-second.done; err != nil {
		t.Errorf("the server ended with %v after SIGTERM", err)
	}
	var serverPeak int64
	if ru, ok := second.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		serverPeak = ru.Maxrss >> 10
	}
	var childPeaks []string
	for _, line := range strings.Split(first.out.String()+second.out.String(), "\n") {
		if strings.Contains(line, "analysis over its budget") || strings.Contains(line, "analysis within its budget") {
			childPeaks = append(childPeaks, line)
		}
	}
	t.Logf("killed %s after start; after the restart the ordinary job finished in %s; restarted server's peak RSS %d MiB; total %s",
		killedAt.Round(time.Millisecond), recovered.Round(time.Millisecond), serverPeak, time.Since(began).Round(time.Millisecond))
	for _, l := range childPeaks {
		t.Log(l)
	}
}
