package worker_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/server"
)

// TestCrashMidJobEndsWithOnePullRequest kills a dockopt process (SIGKILL)
// while its job waits on GitHub to open the pull request, after the bot
// branch was already pushed; a new process on the same database rescues the
// job and finishes it: exactly one pull request.
func TestCrashMidJobEndsWithOnePullRequest(t *testing.T) {
	if os.Getenv("DOCKOPT_CRASH_CHILD") != "" {
		crashChild(t)
		return
	}
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		gh := githubtest.NewServer(t)
		inst := gh.AddInstallation("acme")
		repo := gh.AddRepo(inst, "acme", "shop", map[string]string{"README.md": "# shop\n"})
		before := gh.Branch(repo, "main")
		after := gh.Push(repo, "main", smallRepo(), "add svc", "alice")
		hang := gh.Fault("pulls/create", githubtest.Fault{Delay: time.Minute})

		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidJobEndsWithOnePullRequest$")
		cmd.Env = append(os.Environ(),
			"DOCKOPT_CRASH_CHILD=1",
			"DOCKOPT_CRASH_DB="+databaseURL,
			"DOCKOPT_CRASH_API="+gh.APIURL(),
			"DOCKOPT_CRASH_APPID="+strconv.FormatInt(gh.AppID, 10),
			"DOCKOPT_CRASH_KEY="+base64.StdEncoding.EncodeToString(gh.PrivateKeyPEM()),
			"DOCKOPT_CRASH_SECRET="+gh.WebhookSecret,
			"DOCKOPT_CRASH_BOT="+gh.Bot(),
		)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		addr := ""
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
				addr = a
				break
			}
		}
		if addr == "" {
			t.Fatal("the child process did not start its server")
		}
		resp, err := gh.Send(context.Background(), "http://"+addr+"/webhook", gh.PushEvent(repo, "main", before, after, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// The child is observed through the fake GitHub: once the bot
		// branch exists, the job is waiting on the hung pull-request call.
		deadline := time.Now().Add(60 * time.Second)
		for gh.Branch(repo, "dockopt/main") == "" {
			if time.Now().After(deadline) {
				t.Fatal("the child never pushed the bot branch")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		hang.Clear()
		if n := len(gh.PullRequests(repo)); n != 0 {
			t.Fatalf("%d pull requests before the restart", n)
		}

		h := startWith(t, gh, repo, databaseURL, func(c *server.Config) {
			c.JobTimeout = 3 * time.Second
			c.RescueStuckJobsAfter = 3 * time.Second
		})
		for {
			ev := h.events.Next(t)
			if ev.Job.Kind != jobs.KindAnalyzePush {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted || ev.Job.Attempt != 2 {
				t.Fatalf("the rescued job ended %s on attempt %d, want completed on attempt 2", ev.Kind, ev.Job.Attempt)
			}
			break
		}
		prs := gh.PullRequests(repo)
		if len(prs) != 1 {
			for _, c := range gh.Calls() {
				t.Logf("%s %s %d", c.Method, c.Operation, c.Status)
			}
		}
		if len(prs) != 1 || prs[0].State != "open" {
			t.Fatalf("after the crash and restart: %d pull requests, want exactly one open", len(prs))
		}
		if fixed, ok := gh.File(repo, "dockopt/main", "svc/Dockerfile"); !ok || !strings.Contains(fixed, "--no-install-recommends") {
			t.Errorf("the bot branch should hold the fix after the restart")
		}
	})
}

// crashChild runs dockopt with a worker against the parent's fake GitHub,
// staying out of River's maintenance so that the restarted process rescues
// the job at once.
func crashChild(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(os.Getenv("DOCKOPT_CRASH_KEY"))
	appID, _ := strconv.ParseInt(os.Getenv("DOCKOPT_CRASH_APPID"), 10, 64)
	cfg := server.Config{
		AppID: appID, PrivateKeyPEM: key, WebhookSecret: []byte(os.Getenv("DOCKOPT_CRASH_SECRET")),
		DatabaseURL: os.Getenv("DOCKOPT_CRASH_DB"), GitHubAPIURL: os.Getenv("DOCKOPT_CRASH_API"), GitHubUploadURL: os.Getenv("DOCKOPT_CRASH_API"),
		BotLogin: os.Getenv("DOCKOPT_CRASH_BOT"), Workers: 1, MaxAttempts: 5, JobTimeout: 3 * time.Second, RescueStuckJobsAfter: 3 * time.Second,
		ShutdownTimeout: time.Second, LeaderElectionDisabled: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), Metrics: metrics.New(),
	}
	var err error
	if cfg.PrivateKey, err = server.ParseRSAKey(key); err != nil {
		t.Fatal(err)
	}
	srv, w := open(t, cfg, ghclient.Limits{WriteSpacing: -1})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())
	srv.Serve(context.Background(), ln, w.Handlers()...)
}
