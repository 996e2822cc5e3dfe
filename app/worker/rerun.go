package worker

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/jobs"
)

// rerun re-analyzes the commit of a check run or suite: GitHub's re-run
// buttons, and the "Open fix PR" action in check-only mode. A check run on
// the default branch belongs to the push flow; one on another branch is
// the review of the pull requests that branch heads.
func (w *Worker) rerun(ctx context.Context, j jobs.Rerun) error {
	if j.RequestedAction != "" && j.RequestedAction != "open-fix-pr" {
		w.log().Warn("unknown check run action; nothing to do", "repository", j.Owner+"/"+j.Repo, "action", j.RequestedAction)
		return nil
	}
	inst, repo, err := w.repository(ctx, j.InstallationID, j.Owner, j.Repo)
	if err != nil {
		return err
	}
	gh := inst.Client
	if j.HeadBranch == "" || j.HeadBranch == repo.GetDefaultBranch() {
		_, err := w.analyzeBranch(ctx, branchJob{inst: j.InstallationID, owner: j.Owner, repo: j.Repo, branch: repo.GetDefaultBranch(), sha: j.HeadSHA,
			openPR: j.RequestedAction == "open-fix-pr", asked: true})
		return err
	}
	prs, err := w.pullsAt(ctx, gh, j)
	if err != nil {
		return err
	}
	if len(prs) == 0 {
		w.log().Info("re-run of a commit that is neither the default branch nor a pull request's head; nothing to do", "repository", repo.GetFullName(), "sha", j.HeadSHA)
		return nil
	}
	for _, pr := range prs {
		if _, err := w.reviewPR(ctx, prRequestOf(j.InstallationID, j.Owner, j.Repo, pr, true)); err != nil {
			return err
		}
	}
	return nil
}

// pullsAt finds the open pull requests a re-run commit is the head of:
// those the event names (forks' pull requests among them), else those
// whose head is the check suite's branch.
func (w *Worker) pullsAt(ctx context.Context, gh *github.Client, j jobs.Rerun) ([]*github.PullRequest, error) {
	var out []*github.PullRequest
	for _, n := range j.PRNumbers {
		pr, _, err := gh.PullRequests.Get(ctx, j.Owner, j.Repo, n)
		if err != nil {
			return nil, fmt.Errorf("reading pull request #%d: %w", n, err)
		}
		if pr.GetState() == "open" {
			out = append(out, pr)
		}
	}
	if len(out) > 0 || j.HeadBranch == "" {
		return out, nil
	}
	opts := &github.PullRequestListOptions{State: "open", Head: j.Owner + ":" + j.HeadBranch, ListOptions: github.ListOptions{PerPage: 100}}
	for {
		prs, resp, err := gh.PullRequests.List(ctx, j.Owner, j.Repo, opts)
		if err != nil {
			return nil, fmt.Errorf("listing pull requests of %s: %w", j.HeadBranch, err)
		}
		for _, pr := range prs {
			if pr.GetHead().GetRef() == j.HeadBranch && !isBotPR(pr) {
				out = append(out, pr)
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// prRequestOf describes a review of pr as GitHub reports it now.
func prRequestOf(inst int64, owner, repo string, pr *github.PullRequest, always bool) prRequest {
	headRepo := pr.GetHead().GetRepo().GetFullName()
	return prRequest{inst: inst, owner: owner, repo: repo, number: pr.GetNumber(),
		headSHA: pr.GetHead().GetSHA(), headRef: pr.GetHead().GetRef(), baseRef: pr.GetBase().GetRef(),
		headRepo: headRepo, fork: headRepo != "" && headRepo != pr.GetBase().GetRepo().GetFullName(), always: always}
}
