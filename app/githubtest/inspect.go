package githubtest

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// SetPermission sets a user's role on a repository: "admin", "maintain",
// "write", "triage", "read" or "none".
func (s *Server) SetPermission(r *Repo, user, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.perms[user] = role
	s.userID(user)
}

// Repo returns the repository "owner/name", or nil.
func (s *Server) Repo(fullName string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[strings.ToLower(fullName)]
}

// OpenPullRequest opens a pull request as a person would in the UI.
func (s *Server) OpenPullRequest(r *Repo, head, base, title, author string) *PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := r.branch(head)
	if err != nil {
		s.t.Fatalf("githubtest: no branch %s in %s", head, r.FullName())
	}
	pr := s.newPull(r, title, "", head, base, h, author)
	cp := *pr
	return &cp
}

// ClosePullRequest closes a pull request without merging it, as a person
// would with the "Close pull request" button.
func (s *Server) ClosePullRequest(r *Repo, number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.mustPull(r, number)
	pr.State, pr.UpdatedAt = "closed", s.Clock.Now()
}

// mustPull is a pull request, up to date with its head branch, that the
// test says exists; the caller holds s.mu.
func (s *Server) mustPull(r *Repo, number int) *PullRequest {
	s.refreshPulls(r)
	pr := r.pull(int64(number))
	if pr == nil {
		s.t.Fatalf("githubtest: no pull request #%d in %s", number, r.FullName())
	}
	return pr
}

// AddComment posts a conversation comment on a pull request as user.
func (s *Server) AddComment(r *Repo, number int, user, body string) *IssueComment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPull(r, number)
	cp := *s.addIssueComment(r, number, user, body)
	return &cp
}

// EditComment changes a conversation comment's body as its author would.
func (s *Server) EditComment(r *Repo, id int64, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ic := r.issueComment(id); ic != nil {
		ic.Body, ic.UpdatedAt = body, s.Clock.Now()
	}
}

// AddReviewComment comments on a line of a pull request's head as user,
// without the diff check the API applies (the UI only offers diff lines).
func (s *Server) AddReviewComment(r *Repo, number int, user, path string, line int, body string) *ReviewComment {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.mustPull(r, number)
	rc := &ReviewComment{ID: s.newID(), PR: number, ReviewID: s.newID(), User: user, Path: path, Line: line, Side: "RIGHT", SubjectType: "line", CommitID: pr.HeadSHA, Body: body, CreatedAt: s.Clock.Now()}
	r.reviews = append(r.reviews, &Review{ID: rc.ReviewID, PR: number, User: user, State: "COMMENTED", CommitID: pr.HeadSHA})
	r.reviewComments = append(r.reviewComments, rc)
	cp := *rc
	return &cp
}

// PullRequests lists a repository's pull requests, oldest first.
func (s *Server) PullRequests(r *Repo) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshPulls(r)
	var out []PullRequest
	for _, pr := range r.pulls {
		cp := *pr
		cp.Labels = append([]string(nil), pr.Labels...)
		out = append(out, cp)
	}
	return out
}

// CheckRuns lists a repository's check runs with their annotations.
func (s *Server) CheckRuns(r *Repo) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, cr := range r.checkRuns {
		cp := *cr
		cp.Annotations = append([]Annotation(nil), cr.Annotations...)
		cp.Actions = append([]Action(nil), cr.Actions...)
		out = append(out, cp)
	}
	return out
}

// Reviews lists a repository's pull request reviews.
func (s *Server) Reviews(r *Repo) []Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Review
	for _, rv := range r.reviews {
		out = append(out, *rv)
	}
	return out
}

// ReviewComments lists a repository's review comments.
func (s *Server) ReviewComments(r *Repo) []ReviewComment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ReviewComment
	for _, rc := range r.reviewComments {
		cp := *rc
		cp.Reactions = append([]Reaction(nil), rc.Reactions...)
		out = append(out, cp)
	}
	return out
}

// IssueComments lists a repository's conversation comments.
func (s *Server) IssueComments(r *Repo) []IssueComment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []IssueComment
	for _, ic := range r.issueComments {
		cp := *ic
		cp.Reactions = append([]Reaction(nil), ic.Reactions...)
		out = append(out, cp)
	}
	return out
}

// Branch is the SHA a branch points to, or "" if it does not exist.
func (s *Server) Branch(r *Repo, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := r.branch(name)
	if err != nil {
		return ""
	}
	return h.String()
}

// File is a file's content at a ref (branch, tag or SHA).
func (s *Server) File(r *Repo, ref, path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := r.resolve(ref)
	if !ok {
		return "", false
	}
	b, ok := r.readFile(h, path)
	return string(b), ok
}

// Mode is a path's git mode at a ref ("100644", "120000", …), "" when the
// path is absent.
func (s *Server) Mode(r *Repo, ref, path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := r.resolve(ref)
	if !ok {
		return ""
	}
	c, err := r.commitObject(h)
	if err != nil {
		return ""
	}
	f, err := c.File(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%06o", uint32(f.Mode))
}

// CommitsOn lists the first-parent history of a branch, newest first, with
// authorship and GitHub's verification verdict.
func (s *Server) CommitsOn(r *Repo, branch string) []Commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := r.branch(branch)
	if err != nil {
		return nil
	}
	var out []Commit
	for !h.IsZero() {
		c, err := r.commitObject(h)
		if err != nil {
			break
		}
		out = append(out, s.commitOf(r, c))
		h = plumbing.ZeroHash
		if len(c.ParentHashes) > 0 {
			h = c.ParentHashes[0]
		}
	}
	return out
}

func (s *Server) commitOf(r *Repo, c *object.Commit) Commit {
	meta := r.commits[c.Hash.String()]
	reason := meta.reason
	if reason == "" {
		reason = "unsigned"
	}
	var parents []string
	for _, p := range c.ParentHashes {
		parents = append(parents, p.String())
	}
	return Commit{
		SHA: c.Hash.String(), Message: c.Message,
		Author:    Person{c.Author.Name, c.Author.Email, c.Author.When},
		Committer: Person{c.Committer.Name, c.Committer.Email, c.Committer.When},
		Parents:   parents, Verified: meta.verified, Reason: reason,
	}
}
