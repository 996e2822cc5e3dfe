package publish

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/review"
)

// Reviews publishes dockopt's suggestions on pull requests of one
// repository.
type Reviews struct {
	Client *github.Client
	Owner  string
	Repo   string
}

// Apply carries out a review plan on pull request number at commit sha:
// it deletes dockopt's comments that no longer apply, then posts the new
// suggestions as one review. It returns how many comments were deleted.
func (r *Reviews) Apply(ctx context.Context, number int, sha string, plan review.Plan) (deleted int, err error) {
	for _, id := range plan.Delete {
		resp, err := r.Client.PullRequests.DeleteComment(ctx, r.Owner, r.Repo, id)
		// Someone deleted it first: the outcome is the same.
		if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
			return deleted, fmt.Errorf("deleting outdated comment %d: %w", id, err)
		}
		deleted++
	}
	if len(plan.Post) == 0 {
		return deleted, nil
	}
	req := &github.PullRequestReviewRequest{CommitID: github.String(sha), Body: github.String(plan.Body), Event: github.String("COMMENT")}
	for _, c := range plan.Post {
		dc := &github.DraftReviewComment{Path: github.String(c.Path), Line: github.Int(c.Line), Side: github.String("RIGHT"), Body: github.String(c.Body)}
		if c.StartLine > 0 {
			dc.StartLine, dc.StartSide = github.Int(c.StartLine), github.String("RIGHT")
		}
		req.Comments = append(req.Comments, dc)
	}
	if _, _, err := r.Client.PullRequests.CreateReview(ctx, r.Owner, r.Repo, number, req); err != nil {
		return deleted, fmt.Errorf("posting the review on #%d: %w", number, err)
	}
	return deleted, nil
}
