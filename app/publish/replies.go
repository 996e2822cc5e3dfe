package publish

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// Thread is the comment a reply answers: in the conversation of an issue
// or pull request, or on a line of a pull request's diff (Review).
type Thread struct {
	Issue     int // the issue or pull request number
	CommentID int64
	Review    bool
}

// Replies acknowledge and answer people's comments on one repository.
type Replies struct {
	Client *github.Client
	Owner  string
	Repo   string
}

// React puts a reaction ("eyes", "+1", …) on the comment.
func (r *Replies) React(ctx context.Context, t Thread, content string) error {
	var err error
	if t.Review {
		_, _, err = r.Client.Reactions.CreatePullRequestCommentReaction(ctx, r.Owner, r.Repo, t.CommentID, content)
	} else {
		_, _, err = r.Client.Reactions.CreateIssueCommentReaction(ctx, r.Owner, r.Repo, t.CommentID, content)
	}
	if err != nil {
		return fmt.Errorf("reacting to comment %d: %w", t.CommentID, err)
	}
	return nil
}

// Answer replies where the comment was made: in its review thread, or in
// the conversation. GitHub refuses a reply to a reply in a review thread;
// the answer then goes to the conversation.
func (r *Replies) Answer(ctx context.Context, t Thread, body string) error {
	if t.Review {
		_, resp, err := r.Client.PullRequests.CreateCommentInReplyTo(ctx, r.Owner, r.Repo, t.Issue, body, t.CommentID)
		if err == nil {
			return nil
		}
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			return fmt.Errorf("replying to review comment %d: %w", t.CommentID, err)
		}
	}
	if _, _, err := r.Client.Issues.CreateComment(ctx, r.Owner, r.Repo, t.Issue, &github.IssueComment{Body: github.String(body)}); err != nil {
		return fmt.Errorf("answering on #%d: %w", t.Issue, err)
	}
	return nil
}
