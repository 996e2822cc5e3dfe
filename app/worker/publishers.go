package worker

import (
	"context"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/publish"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/review"
	"github.com/dockopt/dockopt/templates"
)

// The worker reads GitHub directly but writes only through package
// publish, seen through these interfaces, one per kind of output.

// checkRuns report a job's result on a commit.
type checkRuns interface {
	Start(ctx context.Context, sha string) (id int64, err error)
	Finish(ctx context.Context, id int64, conclusion string, out templates.CheckOutput, annotations []*github.CheckRunAnnotation, actions []*github.CheckRunAction) error
	Fail(ctx context.Context, id int64, conclusion, title, summary string) error
	// Unfinished lists dockopt's runs on sha not completed, newest first.
	Unfinished(ctx context.Context, sha string) ([]int64, error)
	// Amend replaces the paragraph of a completed run's summary that ends
	// with marker.
	Amend(ctx context.Context, sha string, id int64, marker, text string) error
}

// proposals keep dockopt's branch and pull request for a base branch.
type proposals interface {
	Pulls(ctx context.Context, base string) (publish.Pulls, error)
	Propose(ctx context.Context, p publish.Proposal, pulls publish.Pulls) (publish.Outcome, error)
	Withdraw(ctx context.Context, pr *github.PullRequest, comment string) error
}

// notices tell people on a pull request why dockopt did what it did, once
// per marker.
type notices interface {
	Comment(ctx context.Context, number int, marker, body string) error
}

// reviews publish suggestions on a person's pull request.
type reviews interface {
	Apply(ctx context.Context, number int, sha string, plan review.Plan) (deleted int, err error)
}

// replies acknowledge and answer comment commands.
type replies interface {
	React(ctx context.Context, t publish.Thread, content string) error
	Answer(ctx context.Context, t publish.Thread, body string) error
	Answered(ctx context.Context, t publish.Thread) (bool, error)
}

// writers are every write a job may make on one repository.
type writers struct {
	checks    checkRuns
	proposals proposals
	notices   notices
	reviews   reviews
	replies   replies
}

// writersFor makes a repository's writers on an installation's client.
// It is the one place they are made: pacing pull requests or recording a
// job's check run would wrap them here.
func writersFor(gh *github.Client, owner, repo string) writers {
	b := &publish.Branches{Client: gh, Owner: owner, Repo: repo}
	return writers{
		checks:    &publish.Checks{Client: gh, Owner: owner, Repo: repo},
		proposals: b,
		notices:   b,
		reviews:   &publish.Reviews{Client: gh, Owner: owner, Repo: repo},
		replies:   &publish.Replies{Client: gh, Owner: owner, Repo: repo},
	}
}

// checkRun is a job's check run on one commit, from start to conclusion:
// every job that reports on a commit starts and ends its run here.
type checkRun struct {
	runs checkRuns
	id   int64
}

func startCheck(ctx context.Context, runs checkRuns, sha string) (*checkRun, error) {
	id, err := runs.Start(ctx, sha)
	if err != nil {
		return nil, err
	}
	return &checkRun{runs: runs, id: id}, nil
}

func (c *checkRun) finish(ctx context.Context, conclusion string, out templates.CheckOutput, annotations []*github.CheckRunAnnotation, actions []*github.CheckRunAction) error {
	return c.runs.Finish(ctx, c.id, conclusion, out, annotations, actions)
}

// fail concludes the run with a failure a person can act on.
func (c *checkRun) fail(ctx context.Context, title, summary string) error {
	return c.runs.Fail(ctx, c.id, "failure", title, summary)
}

// failOnLastAttempt concludes the run when the job's error will not be
// retried, so that it does not stay in progress forever; retry says how
// to ask again.
func (c *checkRun) failOnLastAttempt(ctx context.Context, err error, what, retry string) {
	if info, ok := queue.Info(ctx); ok && info.Attempt >= info.MaxAttempts {
		_ = c.fail(ctx, "dockopt could not finish", "The "+what+" failed after several attempts: "+err.Error()+"\n\n"+retry)
	}
}
