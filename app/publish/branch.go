package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"
)

// BranchPrefix names the bot branches: dockopt/<base branch>.
const BranchPrefix = "dockopt/"

// trailer marks the commits dockopt makes, so a commit by a person on the
// bot branch can be told apart.
const trailer = "Generated-by: dockopt"

var fingerprintPattern = regexp.MustCompile(`<!-- dockopt:fingerprint=([0-9a-f]{64}) -->`)

// withdrawnMark replaces the fingerprint of a pull request dockopt closed
// itself, so that it is not taken for one a person declined.
const withdrawnMark = "<!-- dockopt:withdrawn -->"

// File is one file the pull request changes.
type File struct {
	Path    string
	Content []byte
}

// Proposal is the change dockopt wants on a base branch.
type Proposal struct {
	Base      string
	BaseSHA   string
	BaseTree  string
	Files     []File
	Title     string
	Body      string
	Commit    string
	BotLogin  string
	Labels    []string
	Reviewers []string
	Draft     bool
	// Force rebuilds the branch even over a person's commits (/dockopt recreate).
	Force bool
}

// Action is what Propose did.
type Action string

const (
	Opened    Action = "opened"
	Updated   Action = "updated"
	Unchanged Action = "unchanged" // the open pull request holds the same change
	// Blocked: a person committed to the bot branch, which is left alone.
	// Number is the open pull request's, or 0 when none is open.
	Blocked Action = "blocked"
	// Declined: the same change was proposed in a pull request that was
	// closed without merging (Number); it is not proposed again.
	Declined Action = "declined"
)

// Outcome says what Propose did.
type Outcome struct {
	Action Action
	Number int
	URL    string
}

// Pulls are dockopt's pull requests for one base branch.
type Pulls struct {
	// Open is the open one, if any.
	Open *github.PullRequest
	// Closed is the most recently opened of those closed without merging.
	Closed *github.PullRequest
}

// Branches proposes and withdraws changes on one repository.
type Branches struct {
	Client *github.Client
	Owner  string
	Repo   string
}

// Fingerprint identifies a change set: the same files with the same
// contents give the same fingerprint whatever the base commit, so a push
// that does not change dockopt's result pushes nothing.
func Fingerprint(files []File) string {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	h := sha256.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Path, len(f.Content))
		h.Write(f.Content)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func bodyWithFingerprint(body, fp string) string {
	return strings.TrimRight(body, "\n") + "\n\n<!-- dockopt:fingerprint=" + fp + " -->\n"
}

// BranchName is the bot branch for a base branch.
func BranchName(base string) string { return BranchPrefix + base }

// Pulls finds dockopt's pull requests for a base branch, open and closed,
// newest first, reading pages until both are found or there are no more
// (one page, nearly always).
func (b *Branches) Pulls(ctx context.Context, base string) (Pulls, error) {
	opts := &github.PullRequestListOptions{
		State: "all", Head: b.Owner + ":" + BranchName(base), Base: base, Sort: "created", Direction: "desc",
		ListOptions: github.ListOptions{PerPage: 100},
	}
	var out Pulls
	for {
		prs, resp, err := b.Client.PullRequests.List(ctx, b.Owner, b.Repo, opts)
		if err != nil {
			return Pulls{}, fmt.Errorf("listing pull requests: %w", err)
		}
		for _, pr := range prs {
			switch {
			case pr.GetHead().GetRef() != BranchName(base):
			case pr.GetState() == "open" && out.Open == nil:
				out.Open = pr
			case pr.GetState() == "closed" && pr.MergedAt == nil && out.Closed == nil:
				out.Closed = pr
			}
		}
		if (out.Open != nil && out.Closed != nil) || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// Propose makes the bot branch hold exactly the proposal (one commit on the
// base) and opens or updates the pull request. Unless Force is set, it
// pushes nothing when the open pull request already holds the same change,
// never overwrites a commit a person made on the bot branch, and does not
// propose again a change whose pull request was closed without merging.
func (b *Branches) Propose(ctx context.Context, p Proposal, pulls Pulls) (Outcome, error) {
	fp := Fingerprint(p.Files)
	body := bodyWithFingerprint(p.Body, fp)
	branch := BranchName(p.Base)
	existing := pulls.Open
	if !p.Force {
		if existing != nil && fingerprintOf(existing) == fp {
			return Outcome{Action: Unchanged, Number: existing.GetNumber(), URL: existing.GetHTMLURL()}, nil
		}
		if c := pulls.Closed; existing == nil && c != nil && fingerprintOf(c) == fp {
			return Outcome{Action: Declined, Number: c.GetNumber(), URL: c.GetHTMLURL()}, nil
		}
	}
	headSHA, err := b.branchHead(ctx, branch)
	if err != nil {
		return Outcome{}, err
	}
	if blocked, err := b.blocked(ctx, headSHA, p); err != nil {
		return Outcome{}, err
	} else if blocked {
		return Outcome{Action: Blocked, Number: existing.GetNumber(), URL: existing.GetHTMLURL()}, nil
	}
	entries := make([]*github.TreeEntry, 0, len(p.Files))
	for _, f := range p.Files {
		entries = append(entries, &github.TreeEntry{Path: github.String(f.Path), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(string(f.Content))})
	}
	tree, _, err := b.Client.Git.CreateTree(ctx, b.Owner, b.Repo, p.BaseTree, entries)
	if err != nil {
		return Outcome{}, fmt.Errorf("creating the tree: %w", err)
	}
	// No author or committer: GitHub then signs the commit as the app.
	commit, _, err := b.Client.Git.CreateCommit(ctx, b.Owner, b.Repo, &github.Commit{
		Message: github.String(strings.TrimRight(p.Commit, "\n") + "\n\n" + trailer + "\n"),
		Tree:    &github.Tree{SHA: tree.SHA},
		Parents: []*github.Commit{{SHA: github.String(p.BaseSHA)}},
	}, nil)
	if err != nil {
		return Outcome{}, fmt.Errorf("creating the commit: %w", err)
	}
	ref := &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: commit.SHA}}
	if headSHA == "" {
		_, _, err = b.Client.Git.CreateRef(ctx, b.Owner, b.Repo, ref)
		if refExists(err) {
			// Someone created the branch since it was read (a job of an
			// older release, or one whose lease expired): it is updated
			// like a branch that existed, if it is still dockopt's.
			if headSHA, err = b.branchHead(ctx, branch); err != nil {
				return Outcome{}, err
			}
			if blocked, err := b.blocked(ctx, headSHA, p); err != nil {
				return Outcome{}, err
			} else if blocked {
				return Outcome{Action: Blocked, Number: existing.GetNumber(), URL: existing.GetHTMLURL()}, nil
			}
			_, _, err = b.Client.Git.UpdateRef(ctx, b.Owner, b.Repo, ref, true)
		}
	} else {
		_, _, err = b.Client.Git.UpdateRef(ctx, b.Owner, b.Repo, ref, true)
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("moving %s: %w", branch, err)
	}
	if existing == nil {
		outcome, err := b.open(ctx, p, branch, body)
		if !prExists(err) {
			return outcome, err
		}
		// Someone opened it since the pull requests were read.
		now, err := b.Pulls(ctx, p.Base)
		if err != nil {
			return Outcome{}, err
		}
		if existing = now.Open; existing == nil {
			return Outcome{}, fmt.Errorf("opening the pull request: GitHub says one exists for %s, but none is open", branch)
		}
	}
	pr, _, err := b.Client.PullRequests.Edit(ctx, b.Owner, b.Repo, existing.GetNumber(), &github.PullRequest{Title: github.String(p.Title), Body: github.String(body)})
	if err != nil {
		return Outcome{}, fmt.Errorf("updating pull request #%d: %w", existing.GetNumber(), err)
	}
	return Outcome{Action: Updated, Number: pr.GetNumber(), URL: pr.GetHTMLURL()}, nil
}

// open opens the pull request of the bot branch, with its labels and
// reviewers.
func (b *Branches) open(ctx context.Context, p Proposal, branch, body string) (Outcome, error) {
	pr, _, err := b.Client.PullRequests.Create(ctx, b.Owner, b.Repo, &github.NewPullRequest{
		Title: github.String(p.Title), Head: github.String(branch), Base: github.String(p.Base), Body: github.String(body),
		Draft: github.Bool(p.Draft), MaintainerCanModify: github.Bool(true),
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("opening the pull request: %w", err)
	}
	if len(p.Labels) > 0 {
		if _, _, err := b.Client.Issues.AddLabelsToIssue(ctx, b.Owner, b.Repo, pr.GetNumber(), p.Labels); err != nil {
			return Outcome{}, fmt.Errorf("labelling pull request #%d: %w", pr.GetNumber(), err)
		}
	}
	if len(p.Reviewers) > 0 {
		if _, _, err := b.Client.PullRequests.RequestReviewers(ctx, b.Owner, b.Repo, pr.GetNumber(), github.ReviewersRequest{Reviewers: p.Reviewers}); err != nil {
			return Outcome{}, fmt.Errorf("requesting reviewers on #%d: %w", pr.GetNumber(), err)
		}
	}
	return Outcome{Action: Opened, Number: pr.GetNumber(), URL: pr.GetHTMLURL()}, nil
}

// fingerprintOf reads the change set a pull request's body records.
func fingerprintOf(pr *github.PullRequest) string {
	if m := fingerprintPattern.FindStringSubmatch(pr.GetBody()); m != nil {
		return m[1]
	}
	return ""
}

func (b *Branches) branchHead(ctx context.Context, branch string) (string, error) {
	ref, resp, err := b.Client.Git.GetRef(ctx, b.Owner, b.Repo, "heads/"+branch)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return "", nil
		}
		return "", fmt.Errorf("reading %s: %w", branch, err)
	}
	return ref.GetObject().GetSHA(), nil
}

// blocked reports whether the bot branch, at head ("" when absent), holds
// a person's commit that the proposal must leave alone.
func (b *Branches) blocked(ctx context.Context, head string, p Proposal) (bool, error) {
	if head == "" || p.Force {
		return false, nil
	}
	return b.humanCommit(ctx, head, p.BotLogin)
}

// humanCommit reports whether the branch head was made by someone other
// than dockopt.
func (b *Branches) humanCommit(ctx context.Context, sha, bot string) (bool, error) {
	c, _, err := b.Client.Git.GetCommit(ctx, b.Owner, b.Repo, sha)
	if err != nil {
		return false, fmt.Errorf("reading the bot branch's head commit: %w", err)
	}
	if strings.Contains(c.GetMessage(), trailer) && (bot == "" || c.GetAuthor().GetName() == bot) {
		return false, nil
	}
	return true, nil
}

// Withdraw closes the open pull request with a comment and deletes the
// branch, when nothing is left to change. The body's fingerprint goes, so
// that the same change coming back later is proposed again rather than
// taken as declined.
func (b *Branches) Withdraw(ctx context.Context, pr *github.PullRequest, comment string) error {
	if _, _, err := b.Client.Issues.CreateComment(ctx, b.Owner, b.Repo, pr.GetNumber(), &github.IssueComment{Body: github.String(comment)}); err != nil {
		return fmt.Errorf("commenting on #%d: %w", pr.GetNumber(), err)
	}
	body := fingerprintPattern.ReplaceAllString(pr.GetBody(), withdrawnMark)
	if _, _, err := b.Client.PullRequests.Edit(ctx, b.Owner, b.Repo, pr.GetNumber(), &github.PullRequest{State: github.String("closed"), Body: github.String(body)}); err != nil {
		return fmt.Errorf("closing #%d: %w", pr.GetNumber(), err)
	}
	resp, err := b.Client.Git.DeleteRef(ctx, b.Owner, b.Repo, "heads/"+pr.GetHead().GetRef())
	if err != nil && (resp == nil || resp.StatusCode != http.StatusUnprocessableEntity) {
		return fmt.Errorf("deleting %s: %w", pr.GetHead().GetRef(), err)
	}
	return nil
}

// Comment posts a comment on a pull request, once: a comment carrying the
// same marker is not repeated, however long the conversation.
func (b *Branches) Comment(ctx context.Context, number int, marker, body string) error {
	tag := "<!-- dockopt:" + marker + " -->"
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := b.Client.Issues.ListComments(ctx, b.Owner, b.Repo, number, opts)
		if err != nil {
			return fmt.Errorf("listing comments on #%d: %w", number, err)
		}
		for _, c := range comments {
			if strings.Contains(c.GetBody(), tag) {
				return nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if _, _, err := b.Client.Issues.CreateComment(ctx, b.Owner, b.Repo, number, &github.IssueComment{Body: github.String(body + "\n\n" + tag)}); err != nil {
		return fmt.Errorf("commenting on #%d: %w", number, err)
	}
	return nil
}

// refExists reports GitHub's answer to creating a reference that exists:
// 422 "Reference already exists".
func refExists(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity &&
		strings.Contains(er.Message, "Reference already exists")
}

// prExists reports GitHub's answer to opening a second pull request from
// one branch: 422 "A pull request already exists for owner:branch."
func prExists(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range er.Errors {
		if strings.HasPrefix(e.Message, "A pull request already exists") {
			return true
		}
	}
	return false
}

// IsNotFound reports a 404 from GitHub.
func IsNotFound(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}
