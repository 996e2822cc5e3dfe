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
	"sort"
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

// killPoint is a GitHub write of a push job during which its process is
// killed.
type killPoint struct {
	name  string
	route string // the write held in flight (githubtest.Server.Fault)
	skip  int    // matching writes let through first
	// again: the first push completes (a pull request is open) and the
	// process dies during the job of a second push.
	again bool
	// many: the second push brings enough new findings for more than one
	// annotation request.
	many bool
}

// killPoints are the writes of a push job, in the order it makes them.
var killPoints = []killPoint{
	{name: "check-run-create", route: "checks/create"},
	{name: "tree-create", route: "git/create-tree"},
	{name: "commit-create", route: "git/create-commit"},
	{name: "ref-create", route: "git/create-ref"},
	{name: "pull-create", route: "pulls/create"},
	{name: "check-run-complete", route: "checks/update"},
	{name: "check-run-annotations", route: "checks/update", skip: 1, again: true, many: true},
	{name: "ref-update", route: "git/update-ref", again: true},
	{name: "pull-edit", route: "pulls/update", again: true},
}

// TestKillAtEveryWriteLeavesOnePullRequestAndNoOpenCheckRun kills a
// dockopt process (SIGKILL) while one GitHub write of its push job is in
// flight, for each write the job makes; a new process on the same database
// rescues the job and finishes it. A user then sees exactly one open pull
// request holding the fix, and no check run left in progress. -short
// tries one point.
func TestKillAtEveryWriteLeavesOnePullRequestAndNoOpenCheckRun(t *testing.T) {
	if os.Getenv("DOCKOPT_CRASH_CHILD") != "" {
		crashChild(t)
		return
	}
	for _, p := range killPoints {
		if testing.Short() && p.name != "pull-create" {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			// sent: GitHub has not applied the write when the process
			// dies; landed: it has, and the answer never arrives.
			for _, landed := range []bool{false, true} {
				t.Run(map[bool]string{false: "sent", true: "landed"}[landed], func(t *testing.T) {
					queuetest.Databases(t, func(t *testing.T, databaseURL string) {
						killAt(t, p, landed, databaseURL)
					})
				})
			}
		})
	}
}

func killAt(t *testing.T, p killPoint, landed bool, databaseURL string) {
	began := time.Now()
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("acme")
	repo := gh.AddRepo(inst, "acme", "shop", map[string]string{"README.md": "# shop\n"})
	files, fixed := smallRepo(), []string{"svc/Dockerfile"}

	cmd, addr := startCrashChild(t, gh, databaseURL)
	push := func(files map[string]string) string {
		before := gh.Branch(repo, "main")
		after := gh.Push(repo, "main", files, "change", "alice")
		resp, err := gh.Send(context.Background(), "http://"+addr+"/webhook", gh.PushEvent(repo, "main", before, after, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return after
	}
	// The child is observed only through the fake GitHub.
	waitFor := func(what string, done func() bool) {
		deadline := time.Now().Add(20 * time.Second)
		for !done() {
			if time.Now().After(deadline) {
				for _, r := range gh.CheckRuns(repo) {
					t.Logf("check run %d on %s: %s/%s, %d annotations", r.ID, short7(r.HeadSHA), r.Status, r.Conclusion, len(r.Annotations))
				}
				t.Fatalf("the child never %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if p.again {
		push(files)
		waitFor("finished the first push", func() bool {
			return len(gh.PullRequests(repo)) == 1 && len(gh.CheckRuns(repo)) == 1 && gh.CheckRuns(repo)[0].Status == "completed"
		})
		files = map[string]string{"worker/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n", "worker/.dockerignore": ".git\n"}
		fixed = append(fixed, "worker/Dockerfile")
		if p.many {
			// New findings are annotated (the first push's are the
			// baseline): more than one request of 50.
			more, names := manyDockerfiles(30)
			files, fixed = more, append([]string{"svc/Dockerfile"}, names...)
		}
	}
	hang := gh.Fault(p.route, githubtest.Fault{Delay: time.Minute, Skip: p.skip, Applied: landed})
	head := push(files)
	waitFor("sent "+p.route, func() bool { return hang.Hits() > 0 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	hang.Clear()

	h := startWith(t, gh, repo, databaseURL, func(c *server.Config) {
		c.JobTimeout = 30 * time.Second
		c.DeadJobAfter = time.Second
	})
	for {
		ev := h.events.Next(t)
		if ev.Job.Kind != jobs.KindAnalyzePush {
			continue
		}
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("the rescued job ended %s on attempt %d: %v", ev.Kind, ev.Job.Attempt, ev.Job.Errors)
		}
		break
	}
	elapsed := time.Since(began)

	prs := gh.PullRequests(repo)
	runs := gh.CheckRuns(repo)
	perSHA := map[string]int{}
	var statuses []string
	for _, r := range runs {
		statuses = append(statuses, fmt.Sprintf("%s:%s/%s(%d annotations)", short7(r.HeadSHA), r.Status, r.Conclusion, len(r.Annotations)))
		if r.Status == "completed" {
			perSHA[r.HeadSHA]++
		}
	}
	sort.Strings(statuses)
	t.Logf("SWEEP point=%s landed=%v prs=%d runs=%d statuses=%s time=%.1fs", p.name, landed, len(prs), len(runs), strings.Join(statuses, ","), elapsed.Seconds())

	if len(prs) != 1 || prs[0].State != "open" {
		for _, c := range gh.Calls() {
			t.Logf("%s %s %d", c.Method, c.Operation, c.Status)
		}
		t.Fatalf("after the kill and restart: %d pull requests, want exactly one open", len(prs))
	}
	for _, name := range fixed {
		if got, ok := gh.File(repo, "dockopt/main", name); !ok || !strings.Contains(got, "--no-install-recommends") {
			t.Errorf("the bot branch should hold the fix of %s after the restart", name)
		}
	}
	for _, r := range runs {
		if r.Status != "completed" {
			t.Errorf("check run %d on %s left %q", r.ID, short7(r.HeadSHA), r.Status)
		}
		seen := map[githubtest.Annotation]bool{}
		for _, a := range r.Annotations {
			if seen[a] {
				t.Errorf("check run %d on %s carries %s:%d %q twice", r.ID, short7(r.HeadSHA), a.Path, a.StartLine, a.Message)
				break
			}
			seen[a] = true
		}
	}
	for sha, n := range perSHA {
		if n > 1 {
			t.Errorf("%d completed check runs on %s, want one", n, short7(sha))
		}
	}
	var onHead *githubtest.CheckRun
	for i := range runs {
		if runs[i].HeadSHA == head {
			onHead = &runs[i]
		}
	}
	switch {
	case onHead == nil:
		t.Errorf("no check run on the pushed commit")
	case onHead.Conclusion == "neutral" && strings.Contains(onHead.Title, "stopped"):
		t.Errorf("the pushed commit's check run says %q, want the analysis", onHead.Title)
	case p.many && len(onHead.Annotations) <= 50:
		t.Errorf("the pushed commit's check run has %d annotations; the point needs more than one request of 50", len(onHead.Annotations))
	}
}

func short7(sha string) string { return sha[:min(7, len(sha))] }

// manyDockerfiles is a repository of n copies of a service whose
// Dockerfile has findings, and the Dockerfiles' names.
func manyDockerfiles(n int) (map[string]string, []string) {
	files := map[string]string{}
	var names []string
	for i := range n {
		dir := fmt.Sprintf("svc%02d/", i)
		for name, content := range smallRepo() {
			files[strings.Replace(name, "svc/", dir, 1)] = content
		}
		names = append(names, dir+"Dockerfile")
	}
	return files, names
}

// startCrashChild runs crashChild in a new process of this test binary on
// databaseURL and returns it with its webhook address.
func startCrashChild(t *testing.T, gh *githubtest.Server, databaseURL string) (*exec.Cmd, string) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+strings.Split(t.Name(), "/")[0]+"$")
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
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
			return cmd, a
		}
	}
	t.Fatal("the child process did not start its server")
	return nil, ""
}

// crashChild runs dockopt with a worker against the parent's fake GitHub,
// staying out of River's maintenance; its jobs keep themselves alive
// every third of a second, so the restarted process takes them for dead a
// second after the kill.
func crashChild(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(os.Getenv("DOCKOPT_CRASH_KEY"))
	appID, _ := strconv.ParseInt(os.Getenv("DOCKOPT_CRASH_APPID"), 10, 64)
	cfg := server.Config{
		AppID: appID, PrivateKeyPEM: key, WebhookSecret: []byte(os.Getenv("DOCKOPT_CRASH_SECRET")),
		DatabaseURL: os.Getenv("DOCKOPT_CRASH_DB"), GitHubAPIURL: os.Getenv("DOCKOPT_CRASH_API"), GitHubUploadURL: os.Getenv("DOCKOPT_CRASH_API"),
		BotLogin: os.Getenv("DOCKOPT_CRASH_BOT"), Workers: 1, MaxAttempts: 5, JobTimeout: 30 * time.Second, DeadJobAfter: time.Second,
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
