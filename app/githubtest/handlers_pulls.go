package githubtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
)

func (r *Repo) pull(n int64) *PullRequest {
	for _, pr := range r.pulls {
		if int64(pr.Number) == n {
			return pr
		}
	}
	return nil
}

// bodyTooLong enforces GitHub's 65,536-character body limit (not in the
// OpenAPI description) as a violation.
func bodyTooLong(c *ctx, resource, body string) bool {
	if utf8.RuneCountInString(body) <= MaxBodyChars {
		return false
	}
	c.validationFailed(true, resource, "body", "custom", fmt.Sprintf("body is too long (maximum is %d characters)", MaxBodyChars))
	return true
}

func (s *Server) actor(c *ctx) string { return s.Bot() }

func createPull(s *Server, c *ctx) {
	var req struct {
		Title, Head, Base, Body string
		Draft                   bool
		MaintainerCanModify     *bool `json:"maintainer_can_modify"`
	}
	c.decode(&req)
	r := c.repo
	if bodyTooLong(c, "PullRequest", req.Body) {
		return
	}
	head := req.Head
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, r.Owner) {
			c.validationFailed(false, "PullRequest", "head", "invalid", "")
			return
		}
		head = branch
	}
	headSHA, err := r.branch(head)
	if err != nil {
		c.validationFailed(false, "PullRequest", "head", "invalid", "")
		return
	}
	baseSHA, err := r.branch(req.Base)
	if err != nil {
		c.validationFailed(false, "PullRequest", "base", "invalid", "")
		return
	}
	for _, pr := range r.pulls {
		if pr.State == "open" && pr.Head == head && pr.Base == req.Base {
			c.validationFailed(false, "PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", r.Owner, head))
			return
		}
	}
	if r.isAncestor(headSHA, baseSHA) {
		c.validationFailed(false, "PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s", req.Base, head))
		return
	}
	if req.Title == "" {
		c.validationFailed(true, "PullRequest", "title", "missing_field", "title is required")
		return
	}
	pr := s.newPull(r, req.Title, req.Body, head, req.Base, headSHA, s.actor(c))
	pr.Draft = req.Draft
	pr.MaintainerCanModify = req.MaintainerCanModify == nil || *req.MaintainerCanModify
	c.json(http.StatusCreated, s.prJSON(r, pr))
}

func (s *Server) newPull(r *Repo, title, body, head, base string, headSHA plumbing.Hash, author string) *PullRequest {
	r.nextNumber++
	now := s.Clock.Now()
	pr := &PullRequest{
		ID: s.newID(), Number: r.nextNumber, Title: title, Body: body, Head: head, Base: base,
		HeadSHA: headSHA.String(), State: "open", Author: author, CreatedAt: now, UpdatedAt: now,
	}
	r.pulls = append(r.pulls, pr)
	return pr
}

func getPull(s *Server, c *ctx) {
	s.refreshPulls(c.repo)
	pr := c.repo.pull(c.intVar("pull_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.prJSON(c.repo, pr))
}

func updatePull(s *Server, c *ctx) {
	var req struct {
		Title, Body, State, Base *string
		MaintainerCanModify      *bool `json:"maintainer_can_modify"`
	}
	c.decode(&req)
	r := c.repo
	s.refreshPulls(r)
	pr := r.pull(c.intVar("pull_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if req.Body != nil && bodyTooLong(c, "PullRequest", *req.Body) {
		return
	}
	if req.Base != nil {
		if _, err := r.branch(*req.Base); err != nil {
			c.validationFailed(false, "PullRequest", "base", "invalid", "")
			return
		}
		pr.Base = *req.Base
	}
	if req.State != nil && *req.State != pr.State {
		if *req.State == "open" {
			h, err := r.branch(pr.Head)
			if err != nil {
				c.validationFailed(false, "PullRequest", "state", "invalid", "state cannot be changed. The head branch was deleted.")
				return
			}
			pr.HeadSHA = h.String()
		}
		pr.State = *req.State
	}
	if req.Title != nil {
		pr.Title = *req.Title
	}
	if req.Body != nil {
		pr.Body = *req.Body
	}
	if req.MaintainerCanModify != nil {
		pr.MaintainerCanModify = *req.MaintainerCanModify
	}
	pr.UpdatedAt = s.Clock.Now()
	c.json(http.StatusOK, s.prJSON(r, pr))
}

func listPulls(s *Server, c *ctx) {
	r := c.repo
	s.refreshPulls(r)
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head := q.Get("head")
	var out []any
	for _, pr := range slices.Backward(r.pulls) {
		if state != "all" && pr.State != state {
			continue
		}
		if head != "" {
			owner, branch, ok := strings.Cut(head, ":")
			// GitHub ignores a head filter without "owner:"; so does the fake,
			// but a filter that silently matches nothing is worth knowing.
			if ok && (!strings.EqualFold(owner, r.Owner) || branch != pr.Head) {
				continue
			}
		}
		if b := q.Get("base"); b != "" && b != pr.Base {
			continue
		}
		out = append(out, s.prJSON(r, pr))
	}
	c.json(http.StatusOK, paginate(c, out))
}

// pullDiff is the diff of the pull request at commit (its head if "").
func (r *Repo) pullDiff(pr *PullRequest, commit string) ([]*fileDiff, error) {
	base, err := r.branch(pr.Base)
	if err != nil {
		return nil, err
	}
	if commit == "" {
		commit = pr.HeadSHA
	}
	return r.diff(base, plumbing.NewHash(commit))
}

func listPullFiles(s *Server, c *ctx) {
	r := c.repo
	s.refreshPulls(r)
	pr := r.pull(c.intVar("pull_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	diffs, err := r.pullDiff(pr, "")
	if err != nil {
		c.errorJSON(http.StatusInternalServerError, err.Error())
		return
	}
	var out []any
	for _, d := range diffs {
		m := map[string]any{
			"sha": d.SHA, "filename": d.Filename, "status": d.Status,
			"additions": d.Additions, "deletions": d.Deletions, "changes": d.Additions + d.Deletions,
			"blob_url":     s.URL() + fmt.Sprintf("/%s/blob/%s/%s", r.FullName(), pr.HeadSHA, d.Filename),
			"raw_url":      s.URL() + fmt.Sprintf("/%s/raw/%s/%s", r.FullName(), pr.HeadSHA, d.Filename),
			"contents_url": s.APIURL() + fmt.Sprintf("repos/%s/contents/%s?ref=%s", r.FullName(), d.Filename, pr.HeadSHA),
		}
		if d.Patch != "" {
			m["patch"] = d.Patch
		}
		if d.PreviousFilename != "" {
			m["previous_filename"] = d.PreviousFilename
		}
		out = append(out, m)
	}
	// GitHub lists at most 3000 files of a pull request, whatever the page.
	if len(out) > maxListedPullFiles {
		out = out[:maxListedPullFiles]
	}
	c.json(http.StatusOK, paginate(c, out))
}

// maxListedPullFiles is the most files GitHub lists for a pull request
// ("Responses include a maximum of 3000 files").
const maxListedPullFiles = 3000

// commentTarget is where a review comment points.
type commentTarget struct {
	Path            string
	Line, StartLine int
	Side, StartSide string
	Position        int
	SubjectType     string
}

// locate checks a review comment's target against the diff the way GitHub
// does: only lines shown in the diff (added, removed or context) on the
// given side can be commented on. It returns "" or why not.
func locate(diffs []*fileDiff, t *commentTarget) string {
	var d *fileDiff
	for _, x := range diffs {
		if x.Filename == t.Path {
			d = x
		}
	}
	if d == nil {
		return "path " + t.Path + " is not part of the pull request diff"
	}
	if t.SubjectType == "file" {
		return ""
	}
	if t.Line == 0 {
		if t.Position > 0 && t.Position <= d.positions {
			return ""
		}
		if t.Position > 0 {
			return fmt.Sprintf("position %d is outside the diff of %s (%d lines)", t.Position, t.Path, d.positions)
		}
		return "line is required unless subject_type is file"
	}
	if t.Side == "" {
		t.Side = "RIGHT"
	}
	lines := map[string]map[int]bool{"RIGHT": d.right, "LEFT": d.left}
	if !lines[t.Side][t.Line] {
		return fmt.Sprintf("pull_request_review_thread.line must be part of the diff (%s line %d of %s)", t.Side, t.Line, t.Path)
	}
	if t.StartLine > 0 {
		if t.StartSide == "" {
			t.StartSide = t.Side
		}
		if t.StartSide == t.Side && t.StartLine >= t.Line {
			return "pull_request_review_thread.start_line must precede the end line"
		}
		if !lines[t.StartSide][t.StartLine] {
			return fmt.Sprintf("pull_request_review_thread.start_line must be part of the diff (%s line %d of %s)", t.StartSide, t.StartLine, t.Path)
		}
		if t.StartSide == t.Side {
			for l := t.StartLine; l <= t.Line; l++ {
				if !lines[t.Side][l] {
					return fmt.Sprintf("lines %d-%d of %s are not one hunk of the diff", t.StartLine, t.Line, t.Path)
				}
			}
		}
	}
	return ""
}

func createReview(s *Server, c *ctx) {
	var req struct {
		CommitID string `json:"commit_id"`
		Body     string
		Event    string
		Comments []struct {
			Path, Body, Side string
			StartSide        string `json:"start_side"`
			Line, Position   int
			StartLine        int `json:"start_line"`
		}
	}
	c.decode(&req)
	r := c.repo
	s.refreshPulls(r)
	pr := r.pull(c.intVar("pull_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if (req.Event == "COMMENT" || req.Event == "REQUEST_CHANGES") && req.Body == "" && len(req.Comments) == 0 {
		c.validationFailed(true, "PullRequestReview", "body", "missing_field", "body is required for "+req.Event)
		return
	}
	if bodyTooLong(c, "PullRequestReview", req.Body) {
		return
	}
	commit := req.CommitID
	if commit == "" {
		commit = pr.HeadSHA
	}
	if !s.commitInPull(c, r, pr, commit) {
		return
	}
	diffs, err := r.pullDiff(pr, commit)
	if err != nil {
		c.errorJSON(http.StatusInternalServerError, err.Error())
		return
	}
	state := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", "": "PENDING"}[req.Event]
	if state == "PENDING" {
		for _, rv := range r.reviews {
			if rv.PR == pr.Number && rv.State == "PENDING" && rv.User == s.actor(c) {
				c.validationFailed(false, "PullRequestReview", "", "custom", "User can only have one pending review per pull request")
				return
			}
		}
	}
	var comments []*ReviewComment
	now := s.Clock.Now()
	for i, rc := range req.Comments {
		if utf8.RuneCountInString(rc.Body) > MaxBodyChars {
			c.validationFailed(true, "PullRequestReviewComment", fmt.Sprintf("comments[%d].body", i), "custom", fmt.Sprintf("body is too long (maximum is %d characters)", MaxBodyChars))
			return
		}
		t := &commentTarget{Path: rc.Path, Line: rc.Line, StartLine: rc.StartLine, Side: rc.Side, StartSide: rc.StartSide, Position: rc.Position}
		if why := locate(diffs, t); why != "" {
			s.recordViolation(c.call, fmt.Sprintf("%s %s: comments[%d]: %s", c.r.Method, c.r.URL.Path, i, why))
			c.json(http.StatusUnprocessableEntity, map[string]any{"message": "Unprocessable Entity", "errors": []string{"Line could not be resolved"}, "documentation_url": docsURL, "status": "422"})
			return
		}
		comments = append(comments, &ReviewComment{
			ID: s.newID(), PR: pr.Number, User: s.actor(c), Path: t.Path, Line: t.Line, StartLine: t.StartLine,
			Side: t.Side, StartSide: t.StartSide, Position: t.Position, SubjectType: "line", CommitID: commit, Body: rc.Body, CreatedAt: now,
		})
	}
	rv := &Review{ID: s.newID(), PR: pr.Number, User: s.actor(c), Body: req.Body, State: state, CommitID: commit}
	r.reviews = append(r.reviews, rv)
	for _, rc := range comments {
		rc.ReviewID = rv.ID
		r.reviewComments = append(r.reviewComments, rc)
	}
	c.json(http.StatusOK, map[string]any{
		"id": rv.ID, "node_id": fmt.Sprintf("PRR_%d", rv.ID), "user": s.userJSON(rv.User), "body": rv.Body,
		"state": rv.State, "commit_id": rv.CommitID, "author_association": "NONE",
		"html_url":         s.URL() + fmt.Sprintf("/%s/pull/%d#pullrequestreview-%d", r.FullName(), pr.Number, rv.ID),
		"pull_request_url": s.APIURL() + fmt.Sprintf("repos/%s/pulls/%d", r.FullName(), pr.Number),
		"submitted_at":     timestamp(now), "_links": map[string]any{},
	})
}

// commitInPull refuses a commit_id that is not on the pull request's head.
func (s *Server) commitInPull(c *ctx, r *Repo, pr *PullRequest, commit string) bool {
	if !isSHA(commit) || !r.isAncestor(plumbing.NewHash(commit), plumbing.NewHash(pr.HeadSHA)) {
		c.validationFailed(true, "PullRequestReviewComment", "commit_id", "invalid", "commit_id "+commit+" is not part of the pull request")
		return false
	}
	return true
}

func listReviewComments(s *Server, c *ctx) {
	r := c.repo
	pr := r.pull(c.intVar("pull_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	var out []any
	for _, rc := range r.reviewComments {
		if rc.PR == pr.Number && !s.pendingReview(r, rc.ReviewID) {
			out = append(out, s.reviewCommentJSON(r, rc))
		}
	}
	c.json(http.StatusOK, paginate(c, out))
}

func (s *Server) pendingReview(r *Repo, id int64) bool {
	for _, rv := range r.reviews {
		if rv.ID == id {
			return rv.State == "PENDING"
		}
	}
	return false
}

func createReviewComment(s *Server, c *ctx) {
	var req struct {
		Body        string
		CommitID    string `json:"commit_id"`
		Path, Side  string
		StartSide   string `json:"start_side"`
		Line        int
		StartLine   int `json:"start_line"`
		Position    int
		InReplyTo   int64  `json:"in_reply_to"`
		SubjectType string `json:"subject_type"`
	}
	c.decode(&req)
	r := c.repo
	s.refreshPulls(r)
	pr := r.pull(c.intVar("pull_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if bodyTooLong(c, "PullRequestReviewComment", req.Body) {
		return
	}
	if req.InReplyTo != 0 {
		s.reply(c, r, pr, req.InReplyTo, req.Body)
		return
	}
	if !s.commitInPull(c, r, pr, req.CommitID) {
		return
	}
	diffs, err := r.pullDiff(pr, req.CommitID)
	if err != nil {
		c.errorJSON(http.StatusInternalServerError, err.Error())
		return
	}
	t := &commentTarget{Path: req.Path, Line: req.Line, StartLine: req.StartLine, Side: req.Side, StartSide: req.StartSide, Position: req.Position, SubjectType: req.SubjectType}
	if why := locate(diffs, t); why != "" {
		c.validationFailed(true, "PullRequestReviewComment", "pull_request_review_thread.line", "custom", why)
		return
	}
	subject := t.SubjectType
	if subject == "" {
		subject = "line"
	}
	rc := &ReviewComment{
		ID: s.newID(), PR: pr.Number, User: s.actor(c), Path: t.Path, Line: t.Line, StartLine: t.StartLine,
		Side: t.Side, StartSide: t.StartSide, Position: t.Position, SubjectType: subject, CommitID: req.CommitID,
		Body: req.Body, CreatedAt: s.Clock.Now(),
	}
	rc.ReviewID = s.newID()
	r.reviews = append(r.reviews, &Review{ID: rc.ReviewID, PR: pr.Number, User: rc.User, State: "COMMENTED", CommitID: rc.CommitID})
	r.reviewComments = append(r.reviewComments, rc)
	c.json(http.StatusCreated, s.reviewCommentJSON(r, rc))
}

func createReply(s *Server, c *ctx) {
	var req struct{ Body string }
	c.decode(&req)
	r := c.repo
	pr := r.pull(c.intVar("pull_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if bodyTooLong(c, "PullRequestReviewComment", req.Body) {
		return
	}
	s.reply(c, r, pr, c.intVar("comment_id"), req.Body)
}

func (s *Server) reply(c *ctx, r *Repo, pr *PullRequest, to int64, body string) {
	var parent *ReviewComment
	for _, rc := range r.reviewComments {
		if rc.ID == to && rc.PR == pr.Number {
			parent = rc
		}
	}
	// Replies to replies are not supported by GitHub: the thread's root is
	// the only valid target.
	if parent == nil || parent.InReplyTo != 0 {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	rc := *parent
	rc.ID, rc.User, rc.Body, rc.InReplyTo, rc.Reactions, rc.CreatedAt = s.newID(), s.actor(c), body, parent.ID, nil, s.Clock.Now()
	rc.ReviewID = s.newID()
	r.reviews = append(r.reviews, &Review{ID: rc.ReviewID, PR: pr.Number, User: rc.User, State: "COMMENTED", CommitID: rc.CommitID})
	r.reviewComments = append(r.reviewComments, &rc)
	c.json(http.StatusCreated, s.reviewCommentJSON(r, &rc))
}

func deleteReviewComment(s *Server, c *ctx) {
	r := c.repo
	id := c.intVar("comment_id")
	for i, rc := range r.reviewComments {
		if rc.ID == id {
			r.reviewComments = append(r.reviewComments[:i], r.reviewComments[i+1:]...)
			c.w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	c.errorJSON(http.StatusNotFound, "Not Found")
}

// --- issues ---

func createIssueComment(s *Server, c *ctx) {
	var req struct{ Body string }
	c.decode(&req)
	r := c.repo
	pr := r.pull(c.intVar("issue_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if bodyTooLong(c, "IssueComment", req.Body) {
		return
	}
	ic := s.addIssueComment(r, pr.Number, s.actor(c), req.Body)
	c.json(http.StatusCreated, s.issueCommentJSON(r, ic))
}

func (s *Server) addIssueComment(r *Repo, issue int, user, body string) *IssueComment {
	now := s.Clock.Now()
	ic := &IssueComment{ID: s.newID(), Issue: issue, User: user, Body: body, CreatedAt: now, UpdatedAt: now}
	r.issueComments = append(r.issueComments, ic)
	return ic
}

func (r *Repo) issueComment(id int64) *IssueComment {
	for _, ic := range r.issueComments {
		if ic.ID == id {
			return ic
		}
	}
	return nil
}

func updateIssueComment(s *Server, c *ctx) {
	var req struct{ Body string }
	c.decode(&req)
	r := c.repo
	ic := r.issueComment(c.intVar("comment_id"))
	if ic == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if bodyTooLong(c, "IssueComment", req.Body) {
		return
	}
	// Only the author edits through the API (admins aside, which the App is not).
	if ic.User != s.actor(c) {
		c.errorJSON(http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	ic.Body, ic.UpdatedAt = req.Body, s.Clock.Now()
	c.json(http.StatusOK, s.issueCommentJSON(r, ic))
}

func listIssueComments(s *Server, c *ctx) {
	r := c.repo
	n := int(c.intVar("issue_number"))
	if r.pull(int64(n)) == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	var since time.Time
	if v := c.r.URL.Query().Get("since"); v != "" {
		since, _ = time.Parse(time.RFC3339, v)
	}
	var out []any
	for _, ic := range r.issueComments {
		if ic.Issue == n && !ic.UpdatedAt.Before(since) {
			out = append(out, s.issueCommentJSON(r, ic))
		}
	}
	c.json(http.StatusOK, paginate(c, out))
}

func addLabels(s *Server, c *ctx) {
	var names []string
	var obj struct {
		Labels []any `json:"labels"`
	}
	if err := jsonUnmarshal(c.raw, &names); err != nil {
		c.decode(&obj)
		for _, l := range obj.Labels {
			switch l := l.(type) {
			case string:
				names = append(names, l)
			case map[string]any:
				names = append(names, fmt.Sprint(l["name"]))
			}
		}
	}
	pr := c.repo.pull(c.intVar("issue_number"))
	if pr == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	for _, n := range names {
		if !slices.Contains(pr.Labels, n) {
			pr.Labels = append(pr.Labels, n)
		}
	}
	out := []any{}
	for _, l := range pr.Labels {
		out = append(out, labelJSON(l))
	}
	c.json(http.StatusOK, out)
}

// --- reactions ---

func react(s *Server, c *ctx, list *[]Reaction) {
	var req struct{ Content string }
	c.decode(&req)
	user := s.actor(c)
	for _, re := range *list {
		if re.User == user && re.Content == req.Content {
			c.json(http.StatusOK, s.reactionJSON(re))
			return
		}
	}
	re := Reaction{ID: s.newID(), User: user, Content: req.Content}
	*list = append(*list, re)
	c.json(http.StatusCreated, s.reactionJSON(re))
}

func (s *Server) reactionJSON(re Reaction) map[string]any {
	return map[string]any{"id": re.ID, "node_id": fmt.Sprintf("REA_%d", re.ID), "user": s.userJSON(re.User), "content": re.Content, "created_at": timestamp(s.Clock.Now())}
}

func reactIssueComment(s *Server, c *ctx) {
	ic := c.repo.issueComment(c.intVar("comment_id"))
	if ic == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	react(s, c, &ic.Reactions)
}

func reactReviewComment(s *Server, c *ctx) {
	for _, rc := range c.repo.reviewComments {
		if rc.ID == c.intVar("comment_id") {
			react(s, c, &rc.Reactions)
			return
		}
	}
	c.errorJSON(http.StatusNotFound, "Not Found")
}
