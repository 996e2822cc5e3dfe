package publish_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/publish"
)

func installationClient(t *testing.T, gh *githubtest.Server, inst *githubtest.Installation) *github.Client {
	t.Helper()
	// No pause between writes: the test makes many on purpose.
	f := &ghclient.Factory{AppID: gh.AppID, Key: gh.PrivateKey, APIURL: gh.APIURL(), Limit: ghclient.Limits{WriteSpacing: -1}}
	c, err := f.Installation(inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Client
}

// TestPullsReadsPastTheFirstPage: the open pull request of the bot branch
// is found when more than a page of closed ones were opened after it.
func TestPullsReadsPastTheFirstPage(t *testing.T) {
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("octo-org")
	repo := gh.AddRepo(inst, "octo-org", "busy", map[string]string{"Dockerfile": "FROM scratch\n"})
	branch := publish.BranchName("main")
	gh.Push(repo, branch, map[string]string{"Dockerfile": "FROM scratch\nUSER 65532\n"}, "dockopt", gh.Bot())
	open := gh.OpenPullRequest(repo, branch, "main", "the open one", gh.Bot())
	for range 120 {
		pr := gh.OpenPullRequest(repo, branch, "main", "closed", gh.Bot())
		gh.ClosePullRequest(repo, pr.Number)
	}
	b := &publish.Branches{Client: installationClient(t, gh, inst), Owner: repo.Owner, Repo: repo.Name}
	pulls, err := b.Pulls(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if pulls.Open == nil || pulls.Open.GetNumber() != open.Number {
		t.Errorf("open pull request %v, want #%d (on the second page)", pulls.Open, open.Number)
	}
	if pulls.Closed == nil {
		t.Errorf("no closed pull request found")
	}
	if n := gh.CallCount("pulls/list"); n != 2 {
		t.Errorf("%d requests, want 2 pages", n)
	}
}

// TestAmendFindsARunOnALaterPage: a check run amended after more than a
// page of runs were made on the same commit is still amended.
func TestAmendFindsARunOnALaterPage(t *testing.T) {
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("octo-org")
	repo := gh.AddRepo(inst, "octo-org", "reruns", map[string]string{"Dockerfile": "FROM scratch\n"})
	sha := gh.Branch(repo, "main")
	client := installationClient(t, gh, inst)
	ctx := context.Background()
	var first int64
	for i := range 130 {
		if i > 0 && i%50 == 0 {
			// Past GitHub's 80 content-creating requests a minute, which
			// the fake enforces, on its clock.
			gh.Advance(time.Minute)
		}
		run, _, err := client.Checks.CreateCheckRun(ctx, repo.Owner, repo.Name, github.CreateCheckRunOptions{
			Name: publish.CheckName, HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String("success"),
			Output: &github.CheckRunOutput{Title: github.String("run"), Summary: github.String("summary")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = run.GetID()
		}
	}
	c := &publish.Checks{Client: client, Owner: repo.Owner, Repo: repo.Name}
	if err := c.Amend(ctx, sha, first, "<!-- m -->", "amended <!-- m -->"); err != nil {
		t.Fatal(err)
	}
	// The fake lists the newest first, so the first run made is on page 2.
	if n := gh.CallCount("checks/list-for-ref"); n != 2 {
		t.Errorf("%d requests, want 2 pages", n)
	}
	for _, r := range gh.CheckRuns(repo) {
		if r.ID == first && !strings.Contains(r.Summary, "amended") {
			t.Errorf("run %d not amended: %q", first, r.Summary)
		}
	}
}
