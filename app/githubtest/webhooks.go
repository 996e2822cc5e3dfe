package githubtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

//go:embed data/webhooks/*.json
var webhookExamples embed.FS

// WebhookAckDeadline is how long GitHub waits for a 2XX before it drops
// the connection and marks the delivery failed (github.com; GHES: 30 s).
const WebhookAckDeadline = 10 * time.Second

// Webhook is an event ready to deliver.
type Webhook struct {
	Event   string         // X-GitHub-Event
	Payload map[string]any // modify freely before delivery
}

// Delivery is one webhook delivery attempt.
type Delivery struct {
	ID     string
	Event  string
	Action string
	URL    string
	Status int // 0 if the request failed
}

// Deliveries lists the webhook deliveries made so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Send delivers w with a new delivery GUID.
func (s *Server) Send(ctx context.Context, url string, w Webhook) (*http.Response, error) {
	return s.Deliver(ctx, url, w.Event, w.Payload)
}

// Deliver POSTs payload to url as GitHub delivers an App's webhook, with a
// new delivery GUID.
func (s *Server) Deliver(ctx context.Context, url, event string, payload any) (*http.Response, error) {
	return s.DeliverWithID(ctx, url, event, NewDeliveryID(), payload)
}

// DeliverWithID delivers with a given X-GitHub-Delivery, as a redelivery
// does (GitHub reuses the GUID).
func (s *Server) DeliverWithID(ctx context.Context, url, event, deliveryID string, payload any) (*http.Response, error) {
	body, ok := payload.([]byte)
	if !ok {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/githubtest")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", deliveryID)
	h.Set("X-GitHub-Hook-ID", "1")
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", fmt.Sprint(s.AppID))
	h.Set("X-Hub-Signature", "sha1="+mac(sha1.New, s.WebhookSecret, body))
	h.Set("X-Hub-Signature-256", Sign(s.WebhookSecret, body))
	client := &http.Client{Timeout: WebhookAckDeadline}
	resp, err := client.Do(req)
	d := Delivery{ID: deliveryID, Event: event, URL: url}
	var probe struct{ Action string }
	_ = json.Unmarshal(body, &probe)
	d.Action = probe.Action
	if resp != nil {
		d.Status = resp.StatusCode
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	return resp, err
}

// Sign is the X-Hub-Signature-256 value of body under secret.
func Sign(secret string, body []byte) string { return "sha256=" + mac(sha256.New, secret, body) }

func mac(h func() hash.Hash, secret string, body []byte) string {
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// NewDeliveryID makes a GUID like GitHub's X-GitHub-Delivery.
func NewDeliveryID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func example(name string) map[string]any {
	raw, err := webhookExamples.ReadFile("data/webhooks/" + name)
	if err != nil {
		panic(err) // the names below are fixed, and the files embedded
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	isoTimes(m)
	return m
}

// isoTimes rewrites "2018-04-25 20:42:10" timestamps, which some examples
// carry from GitHub's docs, to the ISO 8601 form GitHub sends; go-github
// refuses the former.
func isoTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = isoTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = isoTimes(e)
		}
	case string:
		if t, err := time.Parse(time.DateTime, x); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// overlay writes src into dst, merging nested objects so that fields the
// fake does not model keep the example's values.
func overlay(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				dst[k] = overlay(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func (s *Server) common(m map[string]any, r *Repo, sender string) map[string]any {
	if r != nil {
		m["repository"] = overlay(mapOr(m["repository"]), s.repoJSON(r))
		m["installation"] = map[string]any{"id": r.inst.ID, "node_id": fmt.Sprintf("I_%d", r.inst.ID)}
		if _, ok := m["organization"]; ok {
			m["organization"] = overlay(mapOr(m["organization"]), s.userJSON(r.Owner))
		}
	}
	m["sender"] = overlay(mapOr(m["sender"]), s.userJSON(sender))
	return m
}

func mapOr(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// PushEvent is the push of branch from before to after (a zero before,
// 40 zeros, means the branch was created) by pusher.
func (s *Server) PushEvent(r *Repo, branch, before, after, pusher string) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.common(example("push.event.0.json"), r, pusher)
	zero := plumbing.ZeroHash.String()
	commits := []any{}
	var head any
	if after != zero {
		h := plumbing.NewHash(after)
		for i := 0; i < 20 && h.String() != before; i++ {
			c, err := r.commitObject(h)
			if err != nil {
				break
			}
			cj := map[string]any{
				"id": c.Hash.String(), "tree_id": c.TreeHash.String(), "distinct": true, "message": c.Message,
				"timestamp": timestamp(c.Author.When), "url": s.URL() + "/" + r.FullName() + "/commit/" + c.Hash.String(),
				"author":    map[string]any{"name": c.Author.Name, "email": c.Author.Email},
				"committer": map[string]any{"name": c.Committer.Name, "email": c.Committer.Email},
				"added":     []any{}, "removed": []any{}, "modified": []any{},
			}
			commits = append([]any{cj}, commits...)
			if head == nil {
				head = cj
			}
			if len(c.ParentHashes) == 0 {
				break
			}
			h = c.ParentHashes[0]
		}
	}
	overlay(m, map[string]any{
		"ref": "refs/heads/" + branch, "before": before, "after": after,
		"created": before == zero, "deleted": after == zero, "forced": false, "base_ref": nil,
		"compare": fmt.Sprintf("%s/%s/compare/%s...%s", s.URL(), r.FullName(), before[:12], after[:12]),
		"pusher":  map[string]any{"name": pusher, "email": pusher + "@users.noreply.github.com"},
	})
	m["commits"], m["head_commit"] = commits, head
	return Webhook{Event: "push", Payload: m}
}

// InstallationCreatedEvent is the App being installed on inst's account.
func (s *Server) InstallationCreatedEvent(inst *Installation, sender string) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.common(example("installation.created.1.json"), nil, sender)
	m["installation"] = overlay(mapOr(m["installation"]), s.installationJSON(inst))
	m["repositories"] = shortRepos(inst.repos)
	return Webhook{Event: "installation", Payload: m}
}

// InstallationReposAddedEvent is repositories being added to inst.
func (s *Server) InstallationReposAddedEvent(inst *Installation, sender string, added ...*Repo) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.common(example("installation_repositories.added.0.json"), nil, sender)
	m["installation"] = overlay(mapOr(m["installation"]), s.installationJSON(inst))
	m["repositories_added"], m["repositories_removed"] = shortRepos(added), []any{}
	m["repository_selection"] = "selected"
	return Webhook{Event: "installation_repositories", Payload: m}
}

func shortRepos(rs []*Repo) []any {
	out := []any{}
	for _, r := range rs {
		out = append(out, map[string]any{"id": r.ID, "node_id": fmt.Sprintf("R_%d", r.ID), "name": r.Name, "full_name": r.FullName(), "private": r.Private})
	}
	return out
}

// PullRequestEvent is a pull_request event (opened, closed, reopened,
// edited, …) for the pull request's current state. For "synchronize" use
// SynchronizeEvent.
func (s *Server) PullRequestEvent(r *Repo, number int, action, sender string) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.mustPull(r, number)
	m := s.common(example("pull_request.opened.0.json"), r, sender)
	m["action"], m["number"] = action, number
	m["pull_request"] = overlay(mapOr(m["pull_request"]), s.prJSON(r, pr))
	return Webhook{Event: "pull_request", Payload: m}
}

// SynchronizeEvent is a push to a pull request's head branch, moving it
// from before to its current head.
func (s *Server) SynchronizeEvent(r *Repo, number int, before, sender string) Webhook {
	w := s.PullRequestEvent(r, number, "synchronize", sender)
	pr := w.Payload["pull_request"].(map[string]any)
	w.Payload["before"] = before
	w.Payload["after"] = pr["head"].(map[string]any)["sha"]
	return w
}

// IssueCommentEvent is an issue_comment event ("created" or "edited"; for
// edited, previous is the body before the edit) on a pull request.
func (s *Server) IssueCommentEvent(r *Repo, commentID int64, action, previous string) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	ic := r.issueComment(commentID)
	if ic == nil {
		s.t.Fatalf("githubtest: no issue comment %d in %s", commentID, r.FullName())
	}
	pr := r.pull(int64(ic.Issue))
	name := "issue_comment.created.0.json"
	if action == "edited" {
		name = "issue_comment.edited.7.json"
	}
	m := s.common(example(name), r, ic.User)
	m["action"] = action
	prj := s.prJSON(r, pr)
	m["issue"] = overlay(mapOr(m["issue"]), map[string]any{
		"id": pr.ID, "number": pr.Number, "title": pr.Title, "body": pr.Body, "state": pr.State, "user": prj["user"],
		"labels": prj["labels"], "url": prj["issue_url"], "html_url": prj["html_url"],
		"pull_request": map[string]any{"url": prj["url"], "html_url": prj["html_url"], "diff_url": nil, "patch_url": nil},
	})
	m["comment"] = overlay(mapOr(m["comment"]), s.issueCommentJSON(r, ic))
	if action == "edited" {
		m["changes"] = map[string]any{"body": map[string]any{"from": previous}}
	}
	return Webhook{Event: "issue_comment", Payload: m}
}

// ReviewCommentEvent is pull_request_review_comment.created.
func (s *Server) ReviewCommentEvent(r *Repo, commentID int64) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rc *ReviewComment
	for _, x := range r.reviewComments {
		if x.ID == commentID {
			rc = x
		}
	}
	if rc == nil {
		s.t.Fatalf("githubtest: no review comment %d in %s", commentID, r.FullName())
	}
	m := s.common(example("pull_request_review_comment.created.0.json"), r, rc.User)
	m["comment"] = overlay(mapOr(m["comment"]), s.reviewCommentJSON(r, rc))
	m["pull_request"] = overlay(mapOr(m["pull_request"]), s.prJSON(r, r.pull(int64(rc.PR))))
	return Webhook{Event: "pull_request_review_comment", Payload: m}
}

// CheckRunEvent is check_run.rerequested, or check_run.requested_action
// when identifier is not empty (a click on that action's button).
func (s *Server) CheckRunEvent(r *Repo, runID int64, sender, identifier string) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := r.checkRun(runID)
	if cr == nil {
		s.t.Fatalf("githubtest: no check run %d in %s", runID, r.FullName())
	}
	name, action := "check_run.rerequested.7.json", "rerequested"
	if identifier != "" {
		name, action = "check_run.requested_action.6.json", "requested_action"
	}
	m := s.common(example(name), r, sender)
	m["action"] = action
	crj := s.checkRunJSON(r, cr)
	crj["check_suite"] = map[string]any{"id": cr.ID + 1, "head_sha": cr.HeadSHA, "head_branch": s.branchOf(r, cr.HeadSHA), "app": crj["app"]}
	m["check_run"] = overlay(mapOr(m["check_run"]), crj)
	if identifier != "" {
		m["requested_action"] = map[string]any{"identifier": identifier}
	}
	return Webhook{Event: "check_run", Payload: m}
}

// CheckSuiteRerequestedEvent is a "Re-run all checks" click on the suite
// for sha.
func (s *Server) CheckSuiteRerequestedEvent(r *Repo, sha, sender string) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.common(example("check_suite.rerequested.7.json"), r, sender)
	m["check_suite"] = overlay(mapOr(m["check_suite"]), map[string]any{
		"head_sha": sha, "head_branch": s.branchOf(r, sha), "status": "completed",
		"app": map[string]any{"id": s.AppID, "slug": s.AppSlug, "name": s.AppSlug}, "pull_requests": []any{},
	})
	return Webhook{Event: "check_suite", Payload: m}
}

func (s *Server) branchOf(r *Repo, sha string) any {
	for name, h := range r.branches() {
		if h.String() == sha {
			return name
		}
	}
	return nil
}
