package githubtest

import (
	"fmt"
	"strings"
	"time"
)

// PullRequest is a pull request as the fake holds it.
type PullRequest struct {
	ID                  int64
	Number              int
	Title, Body         string
	Head, Base          string // branch names
	HeadSHA             string // the head branch's tip, frozen when closed
	State               string // "open" or "closed"
	Draft               bool
	MaintainerCanModify bool
	Author              string
	Labels              []string
	CreatedAt           time.Time
	UpdatedAt           time.Time

	headRepo *Repo // the fork the head branch lives in; nil for a branch of the base
}

// CheckRun is a check run with every annotation it was given.
type CheckRun struct {
	ID                   int64
	Name, HeadSHA        string
	Status, Conclusion   string
	ExternalID           string
	DetailsURL           string
	Title, Summary, Text string
	Annotations          []Annotation
	Actions              []Action
	StartedAt            time.Time
	CompletedAt          time.Time
	App                  string
	Updates              int
}

// Annotation is one check-run annotation.
type Annotation struct {
	Path                   string
	StartLine, EndLine     int
	StartColumn, EndColumn int
	Level                  string
	Message, Title         string
	RawDetails             string
}

// Action is a check-run button.
type Action struct{ Label, Identifier, Description string }

// Review is a pull request review.
type Review struct {
	ID       int64
	PR       int
	User     string
	Body     string
	State    string // APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING
	CommitID string
}

// ReviewComment is a comment on a line (or lines, or file) of a PR diff.
type ReviewComment struct {
	ID              int64
	PR              int
	ReviewID        int64
	User            string
	Path            string
	Line, StartLine int
	Side, StartSide string
	Position        int
	SubjectType     string
	CommitID        string
	Body            string
	InReplyTo       int64
	Reactions       []Reaction
	CreatedAt       time.Time
}

// IssueComment is a comment in a PR's (or issue's) conversation.
type IssueComment struct {
	ID        int64
	Issue     int
	User      string
	Body      string
	Reactions []Reaction
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Reaction is an emoji reaction by a user.
type Reaction struct {
	ID      int64
	User    string
	Content string
}

// Commit is a commit with GitHub's signature verification verdict.
type Commit struct {
	SHA       string
	Message   string
	Author    Person
	Committer Person
	Parents   []string
	Verified  bool
	Reason    string // "valid" or "unsigned"
}

// Person is a commit's author or committer.
type Person struct {
	Name, Email string
	Date        time.Time
}

// JSON shapes. GitHub's objects are large; these carry what go-github
// decodes and what the app reads, with GitHub's field names and types.

func (s *Server) userJSON(login string) map[string]any {
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	for _, inst := range s.installations {
		if inst.Account == login {
			typ = "Organization"
		}
	}
	id := s.userID(login)
	return map[string]any{
		"login": login, "id": id, "node_id": fmt.Sprintf("U_%d", id), "type": typ, "site_admin": false,
		"url":        s.APIURL() + "users/" + login,
		"html_url":   s.URL() + "/" + login,
		"avatar_url": s.URL() + "/avatars/" + login,
	}
}

func (s *Server) repoJSON(r *Repo) map[string]any {
	return map[string]any{
		"id": r.ID, "node_id": fmt.Sprintf("R_%d", r.ID), "name": r.Name, "full_name": r.FullName(),
		"owner": s.userJSON(r.Owner), "private": r.Private, "fork": r.forkOf != nil, "archived": false, "disabled": false,
		"default_branch": r.DefaultBranch, "visibility": map[bool]string{true: "private", false: "public"}[r.Private],
		"html_url":    s.URL() + "/" + r.FullName(),
		"url":         s.APIURL() + "repos/" + r.FullName(),
		"clone_url":   s.GitURL(r.Owner, r.Name),
		"git_url":     "git://" + strings.TrimPrefix(s.URL(), "http://") + "/" + r.FullName() + ".git",
		"permissions": map[string]any{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
	}
}

func (s *Server) installationJSON(inst *Installation) map[string]any {
	return map[string]any{
		"id": inst.ID, "account": s.userJSON(inst.Account), "app_id": s.AppID, "app_slug": s.AppSlug,
		"target_id": s.userID(inst.Account), "target_type": "Organization", "repository_selection": "selected",
		"access_tokens_url": s.APIURL() + fmt.Sprintf("app/installations/%d/access_tokens", inst.ID),
		"repositories_url":  s.APIURL() + "installation/repositories",
		"html_url":          s.URL() + "/settings/installations/" + fmt.Sprint(inst.ID),
		"permissions":       appPermissions(),
		"events":            []string{"push", "pull_request", "issue_comment", "pull_request_review_comment", "check_suite", "check_run"},
		"created_at":        timestamp(s.Clock.Now()), "updated_at": timestamp(s.Clock.Now()),
		"single_file_name": nil, "suspended_at": nil, "suspended_by": nil,
	}
}

func appPermissions() map[string]string {
	return map[string]string{"contents": "write", "pull_requests": "write", "checks": "write", "issues": "write", "metadata": "read"}
}

func (s *Server) prJSON(r *Repo, pr *PullRequest) map[string]any {
	baseSHA, _ := r.branch(pr.Base)
	labels := []any{}
	for _, l := range pr.Labels {
		labels = append(labels, labelJSON(l))
	}
	var closedAt any
	if pr.State == "closed" {
		closedAt = timestamp(pr.UpdatedAt)
	}
	apiURL := s.APIURL() + fmt.Sprintf("repos/%s/pulls/%d", r.FullName(), pr.Number)
	return map[string]any{
		"id": pr.ID, "node_id": fmt.Sprintf("PR_%d", pr.ID), "number": pr.Number, "state": pr.State,
		"title": pr.Title, "body": pr.Body, "draft": pr.Draft, "locked": false, "merged": false,
		"maintainer_can_modify": pr.MaintainerCanModify,
		"user":                  s.userJSON(pr.Author), "labels": labels,
		"head": s.headJSON(r, pr),
		"base": map[string]any{"ref": pr.Base, "sha": baseSHA.String(), "label": r.Owner + ":" + pr.Base, "repo": s.repoJSON(r), "user": s.userJSON(r.Owner)},
		"url":  apiURL, "html_url": s.URL() + fmt.Sprintf("/%s/pull/%d", r.FullName(), pr.Number),
		"issue_url":  s.APIURL() + fmt.Sprintf("repos/%s/issues/%d", r.FullName(), pr.Number),
		"created_at": timestamp(pr.CreatedAt), "updated_at": timestamp(pr.UpdatedAt), "closed_at": closedAt, "merged_at": nil,
	}
}

func labelJSON(name string) map[string]any {
	return map[string]any{"name": name, "color": "ededed", "default": false, "description": nil}
}

func reactionsJSON(rs []Reaction) map[string]any {
	out := map[string]any{"total_count": len(rs)}
	for _, c := range reactionContents {
		out[c] = 0
	}
	for _, r := range rs {
		out[r.Content] = out[r.Content].(int) + 1
	}
	return out
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func (s *Server) issueCommentJSON(r *Repo, c *IssueComment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID), "body": c.Body, "user": s.userJSON(c.User),
		"url":        s.APIURL() + fmt.Sprintf("repos/%s/issues/comments/%d", r.FullName(), c.ID),
		"html_url":   s.URL() + fmt.Sprintf("/%s/pull/%d#issuecomment-%d", r.FullName(), c.Issue, c.ID),
		"issue_url":  s.APIURL() + fmt.Sprintf("repos/%s/issues/%d", r.FullName(), c.Issue),
		"created_at": timestamp(c.CreatedAt), "updated_at": timestamp(c.UpdatedAt),
		"author_association": s.association(r, c.User), "reactions": reactionsJSON(c.Reactions),
	}
}

func (s *Server) association(r *Repo, login string) string {
	switch {
	case login == r.Owner:
		return "OWNER"
	case r.perms[login] != "":
		return "COLLABORATOR"
	}
	return "NONE"
}

func (s *Server) reviewCommentJSON(r *Repo, c *ReviewComment) map[string]any {
	m := map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("PRRC_%d", c.ID), "pull_request_review_id": c.ReviewID,
		"path": c.Path, "body": c.Body, "commit_id": c.CommitID, "original_commit_id": c.CommitID,
		"user": s.userJSON(c.User), "side": c.Side, "subject_type": c.SubjectType,
		"diff_hunk": "", "author_association": s.association(r, c.User),
		"url":              s.APIURL() + fmt.Sprintf("repos/%s/pulls/comments/%d", r.FullName(), c.ID),
		"html_url":         s.URL() + fmt.Sprintf("/%s/pull/%d#discussion_r%d", r.FullName(), c.PR, c.ID),
		"pull_request_url": s.APIURL() + fmt.Sprintf("repos/%s/pulls/%d", r.FullName(), c.PR),
		"created_at":       timestamp(c.CreatedAt), "updated_at": timestamp(c.CreatedAt),
		"reactions": reactionsJSON(c.Reactions),
		"_links":    map[string]any{},
	}
	if c.Line > 0 {
		m["line"], m["original_line"] = c.Line, c.Line
	}
	if c.StartLine > 0 {
		m["start_line"], m["original_start_line"], m["start_side"] = c.StartLine, c.StartLine, c.StartSide
	}
	if c.Position > 0 {
		m["position"], m["original_position"] = c.Position, c.Position
	}
	if c.InReplyTo != 0 {
		m["in_reply_to_id"] = c.InReplyTo
	}
	return m
}

func (s *Server) checkRunJSON(r *Repo, cr *CheckRun) map[string]any {
	var completed any
	if !cr.CompletedAt.IsZero() {
		completed = timestamp(cr.CompletedAt)
	}
	var conclusion any
	if cr.Conclusion != "" {
		conclusion = cr.Conclusion
	}
	return map[string]any{
		"id": cr.ID, "node_id": fmt.Sprintf("CR_%d", cr.ID), "name": cr.Name, "head_sha": cr.HeadSHA,
		"status": cr.Status, "conclusion": conclusion, "external_id": cr.ExternalID, "details_url": cr.DetailsURL,
		"started_at": timestamp(cr.StartedAt), "completed_at": completed,
		"url":      s.APIURL() + fmt.Sprintf("repos/%s/check-runs/%d", r.FullName(), cr.ID),
		"html_url": s.URL() + fmt.Sprintf("/%s/runs/%d", r.FullName(), cr.ID),
		"output": map[string]any{
			"title": cr.Title, "summary": cr.Summary, "text": cr.Text, "annotations_count": len(cr.Annotations),
			"annotations_url": s.APIURL() + fmt.Sprintf("repos/%s/check-runs/%d/annotations", r.FullName(), cr.ID),
		},
		"app":           map[string]any{"id": s.AppID, "slug": s.AppSlug, "name": s.AppSlug},
		"check_suite":   map[string]any{"id": cr.ID + 1},
		"pull_requests": []any{},
	}
}

func (s *Server) headJSON(r *Repo, pr *PullRequest) map[string]any {
	hr := r
	if pr.headRepo != nil {
		hr = pr.headRepo
	}
	return map[string]any{"ref": pr.Head, "sha": pr.HeadSHA, "label": hr.Owner + ":" + pr.Head, "repo": s.repoJSON(hr), "user": s.userJSON(hr.Owner)}
}
