package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/review"
	"github.com/dockopt/dockopt/app/server"
)

// kindSweep is the kill sweep of one job kind: the scene a webhook starts
// the job in, the GitHub writes the job is killed at, and what a user must
// see once a new process has rescued it.
type kindSweep struct {
	name   string
	points []killPoint // route and skip only
	// prepare, if set, builds the scene dockopt acts on first, undisturbed,
	// and returns that webhook; prepared says, from the fake GitHub, that
	// dockopt is done with it.
	prepare  func(t *testing.T, s *scene) githubtest.Webhook
	prepared func(s *scene) bool
	// stage builds (or changes) the scene in the fake GitHub and returns
	// the webhook whose job is killed.
	stage func(t *testing.T, s *scene) githubtest.Webhook
	// check asserts what a user sees after the rescue; every sweep also
	// checks that no check run is left in progress and that no commit has
	// two completed runs.
	check func(t *testing.T, s *scene)
	// rerun: the job re-runs the analysis on request, which makes a new
	// check run on the commit as GitHub's re-run button does; its retry
	// after the run completed may add one more (GitHub shows the latest).
	rerun bool
}

// scene is the fake GitHub of one case and what its stage made.
type scene struct {
	gh      *githubtest.Server
	inst    *githubtest.Installation
	repos   []*githubtest.Repo
	pr      int   // the person's pull request
	comment int64 // the comment giving a command
}

func (s *scene) repo() *githubtest.Repo { return s.repos[0] }

// personsPR opens alice's pull request adding an apt-get line to
// svc/Dockerfile, without telling dockopt; bob may write.
func (s *scene) personsPR() {
	s.inst = s.gh.AddInstallation("acme")
	s.repos = []*githubtest.Repo{s.gh.AddRepo(s.inst, "acme", "shop", prRepo())}
	s.gh.SetPermission(s.repo(), "bob", "write")
	s.gh.Push(s.repo(), "feature", map[string]string{"svc/Dockerfile": strings.Replace(baseDockerfile, "COPY", aptLine+"\nCOPY", 1)}, "curl", "alice")
	s.pr = s.gh.OpenPullRequest(s.repo(), "feature", "main", "Install curl", "alice").Number
}

// commandOn posts bob's conversation comment on the pull request and
// returns its webhook.
func (s *scene) commandOn(body string) githubtest.Webhook {
	c := s.gh.AddComment(s.repo(), s.pr, "bob", body)
	s.comment = c.ID
	return s.gh.IssueCommentEvent(s.repo(), c.ID, "created", "")
}

// settled: dockopt's review is on the pull request and no check run is
// in progress.
func (s *scene) settled() bool {
	if len(s.gh.Reviews(s.repo())) == 0 {
		return false
	}
	return s.runsDone()
}

func (s *scene) runsDone() bool {
	runs := s.gh.CheckRuns(s.repo())
	for _, r := range runs {
		if r.Status != "completed" {
			return false
		}
	}
	return len(runs) > 0
}

// kindSweeps are the sweeps of the job kinds other than a push.
var kindSweeps = []kindSweep{
	{
		name:   "review",
		points: points("checks/create", "pulls/create-review", "checks/update"),
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			s.personsPR()
			return s.gh.PullRequestEvent(s.repo(), s.pr, "opened", "alice")
		},
		check: func(t *testing.T, s *scene) { oneReview(t, s) },
	},
	{
		// A new push to the pull request: the suggestion on the line it
		// changed is deleted and the new one posted.
		name:   "review-update",
		points: points("checks/create", "pulls/delete-review-comment", "pulls/create-review", "checks/update"),
		prepare: func(t *testing.T, s *scene) githubtest.Webhook {
			s.personsPR()
			return s.gh.PullRequestEvent(s.repo(), s.pr, "opened", "alice")
		},
		prepared: (*scene).settled,
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			before := s.gh.Branch(s.repo(), "feature")
			s.gh.Push(s.repo(), "feature", map[string]string{"svc/Dockerfile": strings.Replace(baseDockerfile, "COPY", strings.Replace(aptLine, "curl", "wget", 1)+"\nCOPY", 1)}, "wget", "alice")
			return s.gh.SynchronizeEvent(s.repo(), s.pr, before, "alice")
		},
		check: func(t *testing.T, s *scene) {
			var current, outdated int
			seen := map[string]bool{}
			for _, c := range s.gh.ReviewComments(s.repo()) {
				if c.User != s.gh.Bot() {
					continue
				}
				fp := review.FingerprintOf(c.Body)
				if seen[fp] {
					t.Errorf("the suggestion on %s:%d is on #%d twice", c.Path, c.Line, s.pr)
				}
				seen[fp] = true
				switch {
				case strings.Contains(c.Body, "wget"):
					current++
				case strings.Contains(c.Body, "curl"):
					outdated++
				}
			}
			if current == 0 || outdated > 0 {
				t.Errorf("after the push: %d suggestions on the new line, %d outdated ones left, want some and none", current, outdated)
			}
		},
	},
	{
		// The review again (reviewPR, swept above): its own write only.
		name:   "check-suite-rerun",
		points: points("pulls/create-review"),
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			s.personsPR()
			return s.gh.CheckSuiteRerequestedEvent(s.repo(), s.gh.Branch(s.repo(), "feature"), "alice")
		},
		check: func(t *testing.T, s *scene) { oneReview(t, s) },
	},
	{
		// The command's own writes, and the review it runs once.
		name:   "command-rerun",
		points: points("reactions/create-for-issue-comment", "pulls/create-review", "issues/create-comment"),
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			s.personsPR()
			return s.commandOn("Pushed a fix.\n\n/dockopt rerun")
		},
		check: func(t *testing.T, s *scene) {
			oneReview(t, s)
			answeredOnce(t, s, "analyzed")
		},
		rerun: true,
	},
	{
		name:   "command-ignore",
		points: points("issues/create-comment"),
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			s.personsPR()
			return s.commandOn("/dockopt ignore DL3008")
		},
		check: func(t *testing.T, s *scene) {
			oneReview(t, s)
			answeredOnce(t, s, "waived")
		},
		rerun: true,
	},
	{
		name:   "command-recreate",
		points: points("git/create-ref", "pulls/create", "issues/create-comment"),
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			s.inst = s.gh.AddInstallation("acme")
			s.repos = []*githubtest.Repo{s.gh.AddRepo(s.inst, "acme", "shop", smallRepo())}
			s.gh.SetPermission(s.repo(), "bob", "maintain")
			// An issue-like conversation: a person's pull request that
			// changes no Dockerfile; recreate acts on the base branch.
			s.gh.Push(s.repo(), "docs", map[string]string{"README.md": "# shop, documented\n"}, "docs", "alice")
			s.pr = s.gh.OpenPullRequest(s.repo(), "docs", "main", "Docs", "alice").Number
			return s.commandOn("/dockopt recreate")
		},
		check: func(t *testing.T, s *scene) {
			answeredOnce(t, s, "rebuilt")
			onePullRequestEach(t, s)
		},
		rerun: true,
	},
	{
		// The Open fix PR button of a check run in check-only mode.
		name:   "open-fix-pr-button",
		points: points("git/create-ref", "pulls/create"),
		prepare: func(t *testing.T, s *scene) githubtest.Webhook {
			s.inst = s.gh.AddInstallation("acme")
			s.repos = []*githubtest.Repo{s.gh.AddRepo(s.inst, "acme", "shop", map[string]string{"README.md": "# shop\n"})}
			before := s.gh.Branch(s.repo(), "main")
			after := s.gh.Push(s.repo(), "main", with(smallRepo(), map[string]string{".github/dockopt.yml": "output:\n  mode: check-only\n"}), "check only", "alice")
			return s.gh.PushEvent(s.repo(), "main", before, after, "alice")
		},
		prepared: (*scene).runsDone,
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			runs := s.gh.CheckRuns(s.repo())
			return s.gh.CheckRunEvent(s.repo(), runs[len(runs)-1].ID, "alice", "open-fix-pr")
		},
		check: onePullRequestEach,
		rerun: true,
	},
	{
		name:   "command-in-review-thread",
		points: points("reactions/create-for-pull-request-review-comment", "pulls/create-reply-for-review-comment"),
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			s.personsPR()
			c := s.gh.AddReviewComment(s.repo(), s.pr, "bob", "svc/Dockerfile", 2, "/dockopt explain DL3015")
			s.comment = c.ID
			return s.gh.ReviewCommentEvent(s.repo(), c.ID)
		},
		check: func(t *testing.T, s *scene) {
			var replies int
			for _, c := range s.gh.ReviewComments(s.repo()) {
				if c.User == s.gh.Bot() && c.InReplyTo == s.comment {
					replies++
				}
				if c.ID == s.comment {
					reactedOnce(t, s, c.Reactions)
				}
			}
			if replies != 1 {
				t.Errorf("the review-thread command got %d replies, want one", replies)
			}
		},
	},
	{
		name: "installation",
		// Two repositories: the first write of each kind is the first
		// repository's, the second (skip 1) the other's.
		points: []killPoint{
			{name: "check-run-create-2nd", route: "checks/create", skip: 1},
			{name: "ref-create", route: "git/create-ref"},
			{name: "ref-create-2nd", route: "git/create-ref", skip: 1},
			{name: "pull-create", route: "pulls/create"},
			{name: "pull-create-2nd", route: "pulls/create", skip: 1},
			{name: "check-run-complete", route: "checks/update"},
		},
		stage: func(t *testing.T, s *scene) githubtest.Webhook {
			s.inst = s.gh.AddInstallation("acme")
			s.repos = []*githubtest.Repo{s.gh.AddRepo(s.inst, "acme", "shop", smallRepo()), s.gh.AddRepo(s.inst, "acme", "blog", smallRepo())}
			return s.gh.InstallationCreatedEvent(s.inst, "alice")
		},
		check: onePullRequestEach,
	},
}

// points are kill points at the first write of each route.
func points(routes ...string) []killPoint {
	var out []killPoint
	for _, r := range routes {
		out = append(out, killPoint{name: strings.ReplaceAll(r, "/", "-"), route: r})
	}
	return out
}

// TestKillAtEveryWriteOfEveryJobKind is the push sweep
// (TestKillAtEveryWriteLeavesOnePullRequestAndNoOpenCheckRun) for the
// other job kinds: a review of a person's pull request, GitHub's re-run
// button, comment commands in the conversation and in a review thread,
// and an installation over two repositories. Each write is held in flight
// while the process is killed, before and after GitHub applied it; a new
// process rescues the job and a user sees each thing once. -short tries
// one point of each kind.
func TestKillAtEveryWriteOfEveryJobKind(t *testing.T) {
	if os.Getenv("DOCKOPT_CRASH_CHILD") != "" {
		crashChild(t)
		return
	}
	began := time.Now()
	cases := 0
	for _, k := range kindSweeps {
		t.Run(k.name, func(t *testing.T) {
			for i, p := range k.points {
				if testing.Short() && i != len(k.points)-1 {
					continue
				}
				t.Run(p.name, func(t *testing.T) {
					for _, landed := range []bool{false, true} {
						t.Run(map[bool]string{false: "sent", true: "landed"}[landed], func(t *testing.T) {
							queuetest.Databases(t, func(t *testing.T, databaseURL string) {
								cases++
								killKindAt(t, k, p, landed, databaseURL)
							})
						})
					}
				})
			}
		})
	}
	t.Logf("SWEEP kinds=%d cases=%d time=%.1fs", len(kindSweeps), cases, time.Since(began).Seconds())
}

func killKindAt(t *testing.T, k kindSweep, p killPoint, landed bool, databaseURL string) {
	began := time.Now()
	s := &scene{gh: githubtest.NewServer(t)}
	cmd, addr := startCrashChild(t, s.gh, databaseURL)
	deadline := time.Now().Add(20 * time.Second)
	if k.prepare != nil {
		deliver(t, s.gh, "http://"+addr+"/webhook", k.prepare(t, s))
		for !k.prepared(s) {
			if time.Now().After(deadline) {
				t.Fatal("the child never finished the prepared scene")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	hook := k.stage(t, s)
	hang := s.gh.Fault(p.route, githubtest.Fault{Delay: time.Minute, Skip: p.skip, Applied: landed})
	ids := deliver(t, s.gh, "http://"+addr+"/webhook", hook)
	for hang.Hits() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the child never sent %s", p.route)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	hang.Clear()

	h := startWith(t, s.gh, s.repo(), databaseURL, func(c *server.Config) {
		c.JobTimeout = 30 * time.Second
		c.DeadJobAfter = time.Second
	})
	finished(t, h, ids)
	elapsed := time.Since(began)

	var runs []string
	for _, r := range s.repos {
		perSHA := map[string]int{}
		for _, run := range s.gh.CheckRuns(r) {
			runs = append(runs, fmt.Sprintf("%s@%s:%s/%s", r.Name, short7(run.HeadSHA), run.Status, run.Conclusion))
			if run.Status != "completed" {
				t.Errorf("%s: check run %d on %s left %q", r.Name, run.ID, short7(run.HeadSHA), run.Status)
			} else {
				perSHA[run.HeadSHA]++
			}
		}
		for sha, n := range perSHA {
			if n > 1 && !k.rerun {
				t.Errorf("%s: %d completed check runs on %s, want one", r.Name, n, short7(sha))
			}
		}
	}
	sort.Strings(runs)
	t.Logf("SWEEP kind=%s point=%s landed=%v runs=%s time=%.1fs", k.name, p.name, landed, strings.Join(runs, ","), elapsed.Seconds())
	k.check(t, s)
	if t.Failed() {
		for _, c := range s.gh.Calls() {
			if c.Method != "GET" && c.Route != "GIT" {
				t.Logf("%s %s %d", c.Method, c.Operation, c.Status)
			}
		}
	}
}

// deliver sends a webhook and returns the jobs it queued.
func deliver(t *testing.T, gh *githubtest.Server, url string, w githubtest.Webhook) []int64 {
	t.Helper()
	resp, err := gh.Send(context.Background(), url, w)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ack struct {
		Jobs []int64 `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil || resp.StatusCode/100 != 2 || len(ack.Jobs) == 0 {
		t.Fatalf("webhook answered %d with jobs %v (%v)", resp.StatusCode, ack.Jobs, err)
	}
	return ack.Jobs
}

// finished waits until the jobs a webhook queued are completed, some by
// the killed process and the rest by h, and nothing else waits in the
// queue (the installation's pace job).
func finished(t *testing.T, h *harness, ids []int64) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := 0
		var states []string
		for _, id := range ids {
			row, err := h.srv.Queue().Job(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			states = append(states, fmt.Sprintf("%d %s %s attempt %d %v", id, row.Kind, row.State, row.Attempt, row.Errors))
			switch row.State {
			case rivertype.JobStateCompleted:
				done++
			case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
				t.Fatalf("job %d (%s) ended %s: %v", id, row.Kind, row.State, row.Errors)
			}
		}
		depth, err := h.srv.Queue().Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if done == len(ids) && depth == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart, %d of %d jobs completed and %d wait: %s", done, len(ids), depth, strings.Join(states, "; "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// oneReview: the person's pull request carries one review by dockopt and
// no suggestion twice.
func oneReview(t *testing.T, s *scene) {
	t.Helper()
	var reviews int
	for _, r := range s.gh.Reviews(s.repo()) {
		if r.User == s.gh.Bot() && r.PR == s.pr {
			reviews++
		}
	}
	if reviews != 1 {
		t.Errorf("%d reviews by dockopt on #%d, want one", reviews, s.pr)
	}
	seen := map[string]bool{}
	for _, c := range s.gh.ReviewComments(s.repo()) {
		if c.User != s.gh.Bot() || c.InReplyTo != 0 {
			continue
		}
		fp := review.FingerprintOf(c.Body)
		if seen[fp] {
			t.Errorf("the suggestion on %s:%d is on #%d twice", c.Path, c.Line, s.pr)
		}
		seen[fp] = true
	}
}

// answeredOnce: the command got one eyes reaction and one answer, which
// says want.
func answeredOnce(t *testing.T, s *scene, want string) {
	t.Helper()
	var answers []string
	for _, c := range s.gh.IssueComments(s.repo()) {
		if c.ID == s.comment {
			reactedOnce(t, s, c.Reactions)
		}
		if c.User == s.gh.Bot() && strings.HasPrefix(c.Body, "> ") {
			answers = append(answers, c.Body)
		}
	}
	if len(answers) != 1 {
		t.Errorf("the command was answered %d times, want once:\n%s", len(answers), strings.Join(answers, "\n-----\n"))
	} else if !strings.Contains(answers[0], want) {
		t.Errorf("the answer does not say %q:\n%s", want, answers[0])
	}
}

func reactedOnce(t *testing.T, s *scene, rs []githubtest.Reaction) {
	t.Helper()
	var mine []string
	for _, r := range rs {
		if r.User == s.gh.Bot() {
			mine = append(mine, r.Content)
		}
	}
	if len(mine) != 1 || mine[0] != "eyes" {
		t.Errorf("dockopt's reactions to the command: %v, want one eyes", mine)
	}
}

// onePullRequestEach: each repository has exactly one pull request, open,
// from dockopt's branch, which holds the fix; no dockopt branch is left
// without one.
func onePullRequestEach(t *testing.T, s *scene) {
	t.Helper()
	for _, r := range s.repos {
		var mine []githubtest.PullRequest
		for _, pr := range s.gh.PullRequests(r) {
			if strings.HasPrefix(pr.Head, "dockopt/") {
				mine = append(mine, pr)
			}
		}
		if len(mine) != 1 || mine[0].State != "open" {
			t.Errorf("%s: dockopt's pull requests %+v, want exactly one open", r.Name, mine)
			continue
		}
		if got, ok := s.gh.File(r, mine[0].Head, "svc/Dockerfile"); !ok || !strings.Contains(got, "--no-install-recommends") {
			t.Errorf("%s: %s does not hold the fix", r.Name, mine[0].Head)
		}
	}
}
