package publish

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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

// answerTag is the hidden line that ties an answer to the comment it
// answers, so that a job retried after its answer landed (its process
// died before it heard back) can tell the comment is answered.
func answerTag(commentID int64) string {
	return fmt.Sprintf("<!-- dockopt:answer-to %d -->", commentID)
}

// maxAnswerPages bounds the comments read to find an earlier answer.
const maxAnswerPages = 10

// Answered reports whether a bot already answered the comment: a reply in
// its review thread, or an answer in the conversation, carrying its tag.
func (r *Replies) Answered(ctx context.Context, t Thread) (bool, error) {
	tag := answerTag(t.CommentID)
	if t.Review {
		opts := &github.PullRequestListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
		for page := 0; page < maxAnswerPages; page++ {
			cs, resp, err := r.Client.PullRequests.ListComments(ctx, r.Owner, r.Repo, t.Issue, opts)
			if err != nil {
				return false, fmt.Errorf("listing review comments on #%d: %w", t.Issue, err)
			}
			for _, c := range cs {
				if c.GetInReplyTo() == t.CommentID && c.GetUser().GetType() == "Bot" && strings.Contains(c.GetBody(), tag) {
					return true, nil
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
	}
	// A review-thread answer may have gone to the conversation (Answer).
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < maxAnswerPages; page++ {
		cs, resp, err := r.Client.Issues.ListComments(ctx, r.Owner, r.Repo, t.Issue, opts)
		if err != nil {
			return false, fmt.Errorf("listing comments on #%d: %w", t.Issue, err)
		}
		for _, c := range cs {
			if c.GetUser().GetType() == "Bot" && strings.Contains(c.GetBody(), tag) {
				return true, nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return false, nil
}

// Answer replies where the comment was made: in its review thread, or in
// the conversation. GitHub refuses a reply to a reply in a review thread;
// the answer then goes to the conversation. The answer carries the
// comment's tag (Answered).
func (r *Replies) Answer(ctx context.Context, t Thread, body string) error {
	body = strings.TrimRight(body, "\n") + "\n" + answerTag(t.CommentID)
	if t.Review {
		// The replies endpoint, not go-github's CreateCommentInReplyTo:
		// that posts to pulls/{n}/comments, which requires commit_id and
		// path even with in_reply_to and refuses the reply (422).
		req, err := r.Client.NewRequest(http.MethodPost, fmt.Sprintf("repos/%v/%v/pulls/%d/comments/%d/replies", r.Owner, r.Repo, t.Issue, t.CommentID),
			map[string]string{"body": body})
		if err != nil {
			return err
		}
		resp, err := r.Client.Do(ctx, req, nil)
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
