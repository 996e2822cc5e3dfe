package webhook

import (
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/jobs"
)

// mapped is what one event turns into: jobs, or the reason there are none.
type mapped struct {
	action       string
	installation int64
	repository   string
	jobs         []jobs.Args
	ignored      string
}

func ignore(reason string) mapped { return mapped{ignored: reason} }

// route maps a parsed event to jobs. Events and actions not listed here are
// ignored: GitHub adds new actions over time (platform-facts §3.2).
func (h *Handler) route(event any, delivery string) mapped {
	var m mapped
	switch e := event.(type) {
	case *github.PushEvent:
		m = h.push(e, delivery)
		m.action = "push"
	case *github.InstallationEvent:
		m = installation(e.GetAction(), e.GetInstallation().GetID(), e.Repositories, delivery)
		m.action = e.GetAction()
		m.installation = e.GetInstallation().GetID()
	case *github.InstallationRepositoriesEvent:
		if e.GetAction() == "added" {
			m = installation("created", e.GetInstallation().GetID(), e.RepositoriesAdded, delivery)
		} else {
			m = ignore("repositories removed")
		}
		m.action = e.GetAction()
		m.installation = e.GetInstallation().GetID()
	case *github.PullRequestEvent:
		m = h.pullRequest(e, delivery)
	case *github.IssueCommentEvent:
		m = h.issueComment(e, delivery)
	case *github.PullRequestReviewCommentEvent:
		m = h.reviewComment(e, delivery)
	case *github.CheckSuiteEvent:
		m = checkSuite(e, delivery)
	case *github.CheckRunEvent:
		m = checkRun(e, delivery)
	default:
		return ignore("event not handled")
	}
	return m
}

// repoOf returns the owner and name of a repository from its full name,
// which every payload carries, unlike owner.login.
func repoOf(fullName string) (owner, name string, ok bool) {
	owner, name, ok = strings.Cut(fullName, "/")
	return owner, name, ok && owner != "" && name != ""
}

// withRepo fills the fields common to the events on one repository, or
// reports why the event cannot be used.
func withRepo(action string, inst *github.Installation, fullName string) (mapped, string, string, bool) {
	m := mapped{action: action, installation: inst.GetID(), repository: fullName}
	owner, name, ok := repoOf(fullName)
	switch {
	case m.installation == 0:
		m.ignored = "not sent to an installation"
		return m, "", "", false
	case !ok:
		m.ignored = "no repository"
		return m, "", "", false
	}
	return m, owner, name, true
}

func (h *Handler) push(e *github.PushEvent, delivery string) mapped {
	m, owner, name, ok := withRepo("push", e.Installation, e.GetRepo().GetFullName())
	if !ok {
		return m
	}
	branch, isBranch := strings.CutPrefix(e.GetRef(), "refs/heads/")
	defaultBranch := e.GetRepo().GetDefaultBranch()
	switch {
	case !isBranch:
		m.ignored = "not a branch"
	case e.GetDeleted() || strings.Trim(e.GetAfter(), "0") == "":
		m.ignored = "branch deleted"
	case strings.HasPrefix(branch, BotBranchPrefix):
		m.ignored = "dockopt's own branch"
	case h.isBot(e.GetPusher().GetName()) || h.isBot(e.GetSender().GetLogin()):
		m.ignored = "pushed by dockopt"
	case branch != defaultBranch:
		m.ignored = "not the default branch"
	default:
		m.jobs = []jobs.Args{jobs.AnalyzePush{
			InstallationID: m.installation,
			Owner:          owner,
			Repo:           name,
			Branch:         branch,
			SHA:            e.GetAfter(),
			DefaultBranch:  defaultBranch,
			DeliveryID:     delivery,
		}}
	}
	return m
}

// installation queues an analysis of every repository the app was given.
func installation(action string, id int64, repos []*github.Repository, delivery string) mapped {
	m := mapped{action: action, installation: id}
	if action != "created" {
		m.ignored = "installation " + action
		return m
	}
	for _, r := range repos {
		if owner, name, ok := repoOf(r.GetFullName()); ok {
			m.jobs = append(m.jobs, jobs.AnalyzeRepo{InstallationID: id, Owner: owner, Repo: name, DeliveryID: delivery})
		}
	}
	if len(m.jobs) == 0 {
		m.ignored = "no repositories"
	}
	return m
}

var prActions = map[string]bool{"opened": true, "reopened": true, "synchronize": true, "ready_for_review": true}

func (h *Handler) pullRequest(e *github.PullRequestEvent, delivery string) mapped {
	m, owner, name, ok := withRepo(e.GetAction(), e.Installation, e.GetRepo().GetFullName())
	if !ok {
		return m
	}
	pr := e.GetPullRequest()
	headRepo := pr.GetHead().GetRepo().GetFullName()
	// A fork's repository may have been deleted, leaving head.repo null.
	fork := !strings.EqualFold(headRepo, pr.GetBase().GetRepo().GetFullName())
	switch {
	case !prActions[e.GetAction()]:
		m.ignored = "pull request " + e.GetAction()
	case !fork && strings.HasPrefix(pr.GetHead().GetRef(), BotBranchPrefix):
		m.ignored = "dockopt's own pull request"
	default:
		m.jobs = []jobs.Args{jobs.AnalyzePR{
			InstallationID:   m.installation,
			Owner:            owner,
			Repo:             name,
			Number:           pr.GetNumber(),
			HeadSHA:          pr.GetHead().GetSHA(),
			HeadRef:          pr.GetHead().GetRef(),
			BaseRef:          pr.GetBase().GetRef(),
			HeadRepoFullName: headRepo,
			Fork:             fork,
			Action:           e.GetAction(),
			DeliveryID:       delivery,
		}}
	}
	return m
}

// addressed reports whether a comment speaks to dockopt. Intake only
// filters; the worker parses the command.
func (h *Handler) addressed(body string) bool {
	lower := strings.ToLower(body)
	return strings.Contains(lower, "/dockopt") || strings.Contains(lower, h.mention)
}

func (h *Handler) isBot(login string) bool {
	return login != "" && strings.EqualFold(login, h.bot)
}

func (h *Handler) issueComment(e *github.IssueCommentEvent, delivery string) mapped {
	m, owner, name, ok := withRepo(e.GetAction(), e.Installation, e.GetRepo().GetFullName())
	if !ok {
		return m
	}
	return h.comment(m, "comment", e.GetAction(), e.GetComment().GetUser(), e.GetComment().GetBody(), jobs.Command{
		Owner: owner, Repo: name, IssueNumber: e.GetIssue().GetNumber(), IsPR: e.GetIssue().IsPullRequest(),
		CommentID: e.GetComment().GetID(), CommentKind: jobs.CommentIssue, DeliveryID: delivery,
	})
}

func (h *Handler) reviewComment(e *github.PullRequestReviewCommentEvent, delivery string) mapped {
	m, owner, name, ok := withRepo(e.GetAction(), e.Installation, e.GetRepo().GetFullName())
	if !ok {
		return m
	}
	return h.comment(m, "review comment", e.GetAction(), e.GetComment().GetUser(), e.GetComment().GetBody(), jobs.Command{
		Owner: owner, Repo: name, IssueNumber: e.GetPullRequest().GetNumber(), IsPR: true,
		CommentID: e.GetComment().GetID(), CommentKind: jobs.CommentReview, DeliveryID: delivery,
	})
}

// comment turns a newly created comment addressed to dockopt into a
// Command job. A command edited into an old comment does nothing, by
// design: only new comments are commands.
func (h *Handler) comment(m mapped, what, action string, user *github.User, body string, cmd jobs.Command) mapped {
	switch {
	case action != "created":
		m.ignored = what + " " + action
	case h.isBot(user.GetLogin()):
		m.ignored = "dockopt's own comment"
	case !h.addressed(body):
		m.ignored = "not addressed to dockopt"
	default:
		cmd.InstallationID = m.installation
		cmd.Author, cmd.AuthorType, cmd.Body = user.GetLogin(), user.GetType(), body
		m.jobs = []jobs.Args{cmd}
	}
	return m
}

func prNumbers(prs []*github.PullRequest) []int {
	var ns []int
	for _, pr := range prs {
		ns = append(ns, pr.GetNumber())
	}
	return ns
}

func checkSuite(e *github.CheckSuiteEvent, delivery string) mapped {
	m, owner, name, ok := withRepo(e.GetAction(), e.Installation, e.GetRepo().GetFullName())
	if !ok {
		return m
	}
	if e.GetAction() != "rerequested" {
		m.ignored = "check suite " + e.GetAction()
		return m
	}
	s := e.GetCheckSuite()
	m.jobs = []jobs.Args{jobs.Rerun{
		InstallationID: m.installation,
		Owner:          owner,
		Repo:           name,
		HeadSHA:        s.GetHeadSHA(),
		HeadBranch:     s.GetHeadBranch(),
		PRNumbers:      prNumbers(s.PullRequests),
		DeliveryID:     delivery,
	}}
	return m
}

func checkRun(e *github.CheckRunEvent, delivery string) mapped {
	m, owner, name, ok := withRepo(e.GetAction(), e.Installation, e.GetRepo().GetFullName())
	if !ok {
		return m
	}
	if e.GetAction() != "rerequested" && e.GetAction() != "requested_action" {
		m.ignored = "check run " + e.GetAction()
		return m
	}
	r := e.GetCheckRun()
	action := ""
	if e.RequestedAction != nil {
		action = e.RequestedAction.Identifier
	}
	m.jobs = []jobs.Args{jobs.Rerun{
		InstallationID:  m.installation,
		Owner:           owner,
		Repo:            name,
		HeadSHA:         r.GetHeadSHA(),
		HeadBranch:      r.GetCheckSuite().GetHeadBranch(),
		CheckRunID:      r.GetID(),
		RequestedAction: action,
		PRNumbers:       prNumbers(r.PullRequests),
		DeliveryID:      delivery,
	}}
	return m
}
