package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/verdict"
)

const pythonDockerfile = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n"

func smallRepo() map[string]string {
	return map[string]string{
		"svc/Dockerfile":    pythonDockerfile,
		"svc/main.py":       "print('hi')\n",
		"svc/.dockerignore": ".git\n",
	}
}

func TestPushUpdatesThenClosesThePullRequest(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.push(t, smallRepo())
		prs := h.gh.PullRequests(h.repo)
		if len(prs) != 1 {
			t.Fatalf("first push: %d pull requests", len(prs))
		}
		first := h.gh.Branch(h.repo, "dockopt/main")

		// Another Dockerfile change updates the same pull request.
		h.push(t, map[string]string{"worker/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n", "worker/.dockerignore": ".git\n"})
		prs = h.gh.PullRequests(h.repo)
		if len(prs) != 1 || prs[0].State != "open" {
			t.Fatalf("second push: want the same single open pull request, got %+v", prs)
		}
		if h.gh.Branch(h.repo, "dockopt/main") == first {
			t.Errorf("the bot branch should hold the new change")
		}
		if _, ok := h.gh.File(h.repo, "dockopt/main", "worker/Dockerfile"); !ok || !strings.Contains(prs[0].Body, "worker/Dockerfile") {
			t.Errorf("the updated pull request should cover worker/Dockerfile")
		}

		// Making every Dockerfile clean closes the pull request and deletes the branch.
		clean := "FROM scratch\nCOPY app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n"
		h.push(t, map[string]string{"svc/Dockerfile": clean, "svc/app": "x", "worker/Dockerfile": clean, "worker/app": "x"})
		prs = h.gh.PullRequests(h.repo)
		if len(prs) != 1 || prs[0].State != "closed" {
			t.Fatalf("after a clean push the pull request should be closed: %+v", prs)
		}
		comments := h.gh.IssueComments(h.repo)
		if len(comments) == 0 || !strings.Contains(comments[len(comments)-1].Body, "nothing left to change") {
			t.Errorf("closing should be explained in a comment: %+v", comments)
		}
		if h.gh.Branch(h.repo, "dockopt/main") != "" {
			t.Errorf("the bot branch should be deleted")
		}
	})
}

func TestHumanCommitOnBotBranchIsKept(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.push(t, smallRepo())
		human := h.gh.Push(h.repo, "dockopt/main", map[string]string{"svc/Dockerfile": pythonDockerfile + "# tuned by hand\n"}, "my tweak", "alice")
		h.push(t, map[string]string{"worker/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get install -y curl\n", "worker/.dockerignore": ".git\n"})
		if got := h.gh.Branch(h.repo, "dockopt/main"); got != human {
			t.Fatalf("dockopt overwrote a person's commit on its branch")
		}
		found := false
		for _, c := range h.gh.IssueComments(h.repo) {
			found = found || strings.Contains(c.Body, "/dockopt recreate")
		}
		if !found {
			t.Errorf("the pull request should say why it is no longer updated and how to recreate it")
		}
	})
}

func TestSameDeliveryRunsOnceAndBadSignaturesAreRefused(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		before := h.gh.Branch(h.repo, "main")
		after := h.gh.Push(h.repo, "main", smallRepo(), "add svc", "alice")
		ev := h.gh.PushEvent(h.repo, "main", before, after, "alice")
		id := githubtest.NewDeliveryID()
		for i := 0; i < 2; i++ {
			resp, err := h.gh.DeliverWithID(context.Background(), h.url, ev.Event, id, ev.Payload)
			if err != nil {
				t.Fatal(err)
			}
			var ack struct {
				Jobs []int64 `json:"jobs"`
			}
			decoded := json.NewDecoder(resp.Body).Decode(&ack)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("delivery %d answered %d", i, resp.StatusCode)
			}
			if i == 0 {
				if decoded != nil || len(ack.Jobs) != 1 {
					t.Fatalf("the first delivery was acknowledged with jobs %v (%v), want one", ack.Jobs, decoded)
				}
				// Wait for this delivery's job: another job's event (the
				// harness's own) must not stand in for it on a slow machine.
				for {
					e := h.events.Next(t)
					if e.Job.ID != ack.Jobs[0] {
						continue
					}
					if e.Kind != river.EventKindJobCompleted {
						t.Fatalf("job: %s", e.Kind)
					}
					break
				}
			}
		}
		if n := len(h.gh.CheckRuns(h.repo)); n != 1 {
			t.Errorf("the same delivery twice made %d check runs, want 1", n)
		}
		// A forged delivery: signed with the wrong secret.
		secret := h.gh.WebhookSecret
		h.gh.WebhookSecret = "not-the-secret"
		resp, err := h.gh.Send(context.Background(), h.url, ev)
		h.gh.WebhookSecret = secret
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a bad signature was answered %d, want 401", resp.StatusCode)
		}
		if n := len(h.gh.CheckRuns(h.repo)); n != 1 {
			t.Errorf("a refused delivery started work: %d check runs", n)
		}
	})
}

func TestTransientGitHubErrorsAreRetried(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.gh.Fault("pulls/create", githubtest.Fault{Status: http.StatusBadGateway, Times: 2})
		h.gh.Fault("git/create-commit", githubtest.SecondaryRateLimit(30, 1))
		h.gh.Fault("checks/update", githubtest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
		h.push(t, smallRepo())
		if prs := h.gh.PullRequests(h.repo); len(prs) != 1 {
			t.Fatalf("want exactly one pull request after retries, got %d", len(prs))
		}
		runs := h.gh.CheckRuns(h.repo)
		if len(runs) != 1 || runs[0].Status != "completed" {
			t.Fatalf("check runs after retries: %+v", runs)
		}
	})
}

// TestManyFindingsAreAnnotatedInBatchesOf50: a push that adds findings on
// more lines than a check run annotates gets the cap, in batches of 50,
// and its summary counts the rest.
func TestManyFindingsAreAnnotatedInBatchesOf50(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		// The branch's first analyzed commit, so that the next one's
		// findings are new.
		h.push(t, map[string]string{"README.md": "# shop\n\nwith Dockerfiles soon\n"})
		files := map[string]string{}
		// Each file: findings on two lines; 60 files give 120 lines.
		for i := 0; i < 60; i++ {
			files[fmt.Sprintf("s%02d/Dockerfile", i)] = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
			files[fmt.Sprintf("s%02d/.dockerignore", i)] = ".git\n"
		}
		h.push(t, files)
		runs := h.gh.CheckRuns(h.repo)
		if len(runs) != 2 {
			t.Fatalf("%d check runs", len(runs))
		}
		run := runs[1]
		n := len(run.Annotations)
		if n != verdict.MaxAnnotations {
			t.Fatalf("%d annotations; want the cap, %d", n, verdict.MaxAnnotations)
		}
		// The completing update carries the first 50, each further update 50 more.
		if wantUpdates := (n + 49) / 50; run.Updates != wantUpdates {
			t.Errorf("%d annotations arrived in %d updates, want batches of 50 (%d)", n, run.Updates, wantUpdates)
		}
		if !strings.Contains(run.Summary, "more lines with findings are not annotated") {
			t.Errorf("the summary should count the lines beyond the cap:\n%s", run.Summary)
		}
		t.Logf("%d annotations in %d check-run updates", n, run.Updates)
	})
}

func TestRepositoryOverTheSizeLimitGetsACheckRunSayingWhy(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		h.worker.Clone.MaxBytes = 1 << 10
		files := smallRepo()
		files["big.bin"] = strings.Repeat("x", 4<<10)
		h.push(t, files)
		runs := h.gh.CheckRuns(h.repo)
		if len(runs) != 1 || runs[0].Conclusion != "failure" || !strings.Contains(runs[0].Title+runs[0].Summary, "too large") {
			t.Fatalf("want a failed check run that says the repository is too large: %+v", runs)
		}
		if len(h.gh.PullRequests(h.repo)) != 0 {
			t.Errorf("no pull request for a repository that was not analyzed")
		}
	})
}

// TestGitHubEnterpriseServer runs the push → PR flow against a fake that
// serves the REST API under /api/v3, as GitHub Enterprise Server does.
func TestGitHubEnterpriseServer(t *testing.T) {
	h := start(t, queuetest.SQLite(t), map[string]string{"README.md": "# shop\n"}, githubtest.WithEnterprisePrefix())
	if !strings.HasSuffix(h.gh.APIURL(), "/api/v3/") {
		t.Fatalf("the fake should serve under /api/v3, APIURL is %s", h.gh.APIURL())
	}
	h.push(t, smallRepo())
	if prs := h.gh.PullRequests(h.repo); len(prs) != 1 {
		t.Fatalf("want one pull request on GHES, got %d", len(prs))
	}
	if runs := h.gh.CheckRuns(h.repo); len(runs) != 1 || runs[0].Status != "completed" {
		t.Fatalf("check runs on GHES: %+v", runs)
	}
	for _, c := range h.gh.Calls() {
		if c.Route == "" {
			t.Errorf("a call missed the /api/v3 prefix: %s %s", c.Method, c.Path)
		}
	}
}
