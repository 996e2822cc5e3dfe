package publish_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/publish"
)

// TestProposeOverABranchAndPullRequestMadeMeanwhile: a proposal made from
// a stale view (the bot branch looked absent and no pull request open,
// but another writer has since created both) updates them like existing
// ones: GitHub's 422 "Reference already exists" and "A pull request
// already exists" are not failures.
func TestProposeOverABranchAndPullRequestMadeMeanwhile(t *testing.T) {
	ctx := context.Background()
	gh, repo, b, proposal := proposalOnShop(t)

	// The other writer.
	first, err := b.Propose(ctx, proposal("FROM debian:bookworm\n"), publish.Pulls{})
	if err != nil || first.Action != publish.Opened {
		t.Fatalf("first proposal: %+v, %v", first, err)
	}
	// This one read the branch before it existed: its read answers 404.
	stale := gh.Fault("git/get-ref", githubtest.Fault{Status: http.StatusNotFound, Times: 1})
	got, err := b.Propose(ctx, proposal("FROM debian:bookworm-slim\n"), publish.Pulls{})
	if err != nil {
		t.Fatalf("a proposal over a branch made meanwhile failed: %v", err)
	}
	if stale.Hits() != 1 {
		t.Fatalf("the stale read was not played (%d hits)", stale.Hits())
	}
	if got.Action != publish.Updated || got.Number != first.Number {
		t.Errorf("outcome %+v, want the pull request #%d updated", got, first.Number)
	}
	if content, _ := gh.File(repo, publish.BranchName("main"), "Dockerfile"); content != "FROM debian:bookworm-slim\n" {
		t.Errorf("the bot branch holds %q, want the newer proposal", content)
	}
	if prs := gh.PullRequests(repo); len(prs) != 1 {
		t.Errorf("%d pull requests, want 1", len(prs))
	}
	conflicts := 0
	for _, c := range gh.Calls() {
		if c.Status == http.StatusUnprocessableEntity && (c.Operation == "git/create-ref" || c.Operation == "pulls/create") {
			conflicts++
		}
	}
	if conflicts != 2 {
		t.Errorf("%d conflicting creations answered 422, want the branch's and the pull request's (2)", conflicts)
	}
}

// TestProposeLeavesAPersonsBranchMadeMeanwhile: when the branch that
// appeared meanwhile holds a person's commit, it is left alone.
func TestProposeLeavesAPersonsBranchMadeMeanwhile(t *testing.T) {
	gh, repo, b, proposal := proposalOnShop(t)
	human := gh.Push(repo, publish.BranchName("main"), map[string]string{"Dockerfile": "FROM debian:12\n"}, "mine", "alice")
	gh.Fault("git/get-ref", githubtest.Fault{Status: http.StatusNotFound, Times: 1})
	got, err := b.Propose(context.Background(), proposal("FROM debian:bookworm\n"), publish.Pulls{})
	if err != nil || got.Action != publish.Blocked {
		t.Fatalf("outcome %+v, %v; want blocked", got, err)
	}
	if gh.Branch(repo, publish.BranchName("main")) != human {
		t.Errorf("a person's commit was overwritten")
	}
}

// proposalOnShop is a repository acme/shop on a fake GitHub, the branch
// publisher of an installation client, and a proposal of one Dockerfile
// content on its main branch.
func proposalOnShop(t *testing.T) (*githubtest.Server, *githubtest.Repo, *publish.Branches, func(content string) publish.Proposal) {
	t.Helper()
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("acme")
	repo := gh.AddRepo(inst, "acme", "shop", map[string]string{"Dockerfile": "FROM debian\n"})
	client := installationClient(t, gh, inst)
	base := gh.Branch(repo, "main")
	commit, _, err := client.Git.GetCommit(context.Background(), "acme", "shop", base)
	if err != nil {
		t.Fatal(err)
	}
	proposal := func(content string) publish.Proposal {
		return publish.Proposal{Base: "main", BaseSHA: base, BaseTree: commit.GetTree().GetSHA(), Title: "Optimize", Body: "body", Commit: "Optimize",
			BotLogin: gh.Bot(), Files: []publish.File{{Path: "Dockerfile", Content: []byte(content)}}}
	}
	return gh, repo, &publish.Branches{Client: client, Owner: "acme", Repo: "shop"}, proposal
}
