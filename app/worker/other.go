package worker

import (
	"context"
	"io/fs"

	"github.com/dockopt/dockopt/app/jobs"
)

type fsFS = fs.FS

// rerun re-analyzes the commit of a check run or suite: GitHub's re-run
// button, and the "Open fix PR" action in check-only mode.
func (w *Worker) rerun(ctx context.Context, j jobs.Rerun) error {
	return w.analyzeBranch(ctx, branchJob{inst: j.InstallationID, owner: j.Owner, repo: j.Repo, branch: j.HeadBranch,
		openPR: j.RequestedAction == "open-fix-pr"})
}

// analyzePR and command are the pull-request review and comment-command
// flows (issue 6); until they land, such jobs complete without effect and
// say so in the log.
func (w *Worker) analyzePR(ctx context.Context, j jobs.AnalyzePR) error {
	w.log().Warn("pull-request reviews are not implemented yet; job dropped", "repository", j.Owner+"/"+j.Repo, "number", j.Number)
	return nil
}

func (w *Worker) command(ctx context.Context, j jobs.Command) error {
	w.log().Warn("comment commands are not implemented yet; job dropped", "repository", j.Owner+"/"+j.Repo, "comment", j.CommentID)
	return nil
}
