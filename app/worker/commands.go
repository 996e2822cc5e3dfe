package worker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/commands"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/publish"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/review"
	"github.com/dockopt/dockopt/app/waivers"
)

// answerMarker tags dockopt's answers to commands, so that a flood of
// identical commands can tell which ones an answer already covered.
const answerMarker = "<!-- dockopt:answer -->"

// maxCommentPages bounds the conversation read to coalesce commands.
const maxCommentPages = 10

// command runs one comment command. Every comment that addresses dockopt
// gets a reaction on receipt and then a visible answer: the result, a
// polite refusal, or what to do instead. Intake already dropped edited
// comments and dockopt's own.
func (w *Worker) command(ctx context.Context, j jobs.Command) error {
	if strings.EqualFold(j.AuthorType, "Bot") || strings.EqualFold(j.Author, w.BotLogin) {
		return nil
	}
	res := w.parser().Parse(j.Body)
	if _, ok := res.(commands.NotACommand); ok {
		w.log().Info("comment mentions dockopt without a command", "repository", j.Owner+"/"+j.Repo, "comment", j.CommentID)
		return nil
	}
	inst, err := w.GitHub.Installation(j.InstallationID)
	if err != nil {
		return queue.Permanent(err)
	}
	c := &cmdRun{w: w, gh: inst.Client, wr: writersFor(inst.Client, j.Owner, j.Repo), j: j, perms: map[string]bool{}}
	// A retry of a job whose answer landed before its process died: the
	// command is done, and a second answer would repeat it.
	if done, err := c.wr.replies.Answered(ctx, c.thread()); err != nil || done {
		if done {
			w.log().Info("command already answered", "repository", c.repoName(), "comment", j.CommentID)
		}
		return err
	}
	if err := c.react(ctx, "eyes"); err != nil {
		return err
	}
	switch r := res.(type) {
	case commands.Usage:
		return c.answer(ctx, r.Line, r.Problem+"\n\n"+commands.HelpText(w.parser().Mention), nil)
	case commands.Run:
		return c.run(ctx, r.Command)
	}
	return nil
}

func (w *Worker) parser() commands.Parser {
	return commands.Parser{Mention: commands.MentionOf(w.BotLogin)}
}

// cmdRun is one command being handled.
type cmdRun struct {
	w     *Worker
	gh    *github.Client // reads
	wr    writers
	j     jobs.Command
	perms map[string]bool // login → may change state
}

func (c *cmdRun) repoName() string { return c.j.Owner + "/" + c.j.Repo }

// thread is the comment that gave the command.
func (c *cmdRun) thread() publish.Thread {
	return publish.Thread{Issue: c.j.IssueNumber, CommentID: c.j.CommentID, Review: c.j.CommentKind == jobs.CommentReview}
}

func (c *cmdRun) react(ctx context.Context, content string) error {
	return c.wr.replies.React(ctx, c.thread(), content)
}

// mayChange asks GitHub for a user's permission: write, maintain (which
// the API reports as write) and admin may run state-changing commands.
// author_association is not used: it hides private org members.
func (c *cmdRun) mayChange(ctx context.Context, login string) (bool, error) {
	if ok, seen := c.perms[login]; seen {
		return ok, nil
	}
	p, _, err := c.gh.Repositories.GetPermissionLevel(ctx, c.j.Owner, c.j.Repo, login)
	if err != nil {
		return false, fmt.Errorf("reading %s's permission: %w", login, err)
	}
	ok := p.GetPermission() == "admin" || p.GetPermission() == "write"
	c.perms[login] = ok
	return ok, nil
}

func (c *cmdRun) run(ctx context.Context, cmd commands.Command) error {
	allowed := true
	if cmd.Name.ChangesState() {
		var err error
		if allowed, err = c.mayChange(ctx, c.j.Author); err != nil {
			return err
		}
	}
	newer, covered, err := c.identical(ctx, cmd, allowed)
	if err != nil {
		return err
	}
	if newer {
		// A newer identical request with the same verdict is queued or done;
		// its answer covers this one. Answering each of a flood would spend
		// GitHub's content-creation budget on noise.
		c.w.log().Info("command coalesced with a newer identical one", "repository", c.repoName(), "comment", c.j.CommentID, "command", cmd.Name)
		return nil
	}
	if !allowed {
		return c.answer(ctx, cmd.Line, fmt.Sprintf("`/dockopt %s` changes what dockopt publishes, so it needs write access to %s, which you do not have. Nothing was changed. Someone with write access can run it, and `/dockopt explain RULE` and `/dockopt help` work for everyone.",
			cmd.Name, c.repoName()), covered)
	}
	switch cmd.Name {
	case commands.Help:
		return c.answer(ctx, cmd.Line, commands.HelpText(c.w.parser().Mention), covered)
	case commands.Explain:
		rules := c.w.Analyzer.Lookup(cmd.Rule)
		if len(rules) == 0 {
			return c.answer(ctx, cmd.Line, fmt.Sprintf("dockopt has no rule %s. Rule IDs look like `apt-no-install-recommends`; hadolint, BuildKit and Trivy IDs (`DL3015`) work too. `dockopt rules` lists them all.", commands.Code(cmd.Rule)), covered)
		}
		var parts []string
		for _, r := range rules {
			parts = append(parts, commands.ExplainText(r))
		}
		return c.answer(ctx, cmd.Line, strings.Join(parts, "\n---\n\n"), covered)
	case commands.Ignore:
		return c.ignore(ctx, cmd, covered)
	case commands.Rerun:
		return c.rerun(ctx, cmd, covered, false, "")
	case commands.Recreate:
		return c.rerun(ctx, cmd, covered, true, "")
	}
	return c.answer(ctx, cmd.Line, commands.HelpText(c.w.parser().Mention), covered)
}

// identical reads the conversation around an issue comment: newer reports
// a later comment with the same command and the same verdict on its
// author (then that comment's job answers both); covered lists the authors
// of earlier identical commands this answer also covers (those after
// dockopt's last answer).
func (c *cmdRun) identical(ctx context.Context, cmd commands.Command, allowed bool) (newer bool, covered []string, err error) {
	if c.j.CommentKind != jobs.CommentIssue {
		return false, nil, nil
	}
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var all []*github.IssueComment
	for page := 0; page < maxCommentPages; page++ {
		cs, resp, err := c.gh.Issues.ListComments(ctx, c.j.Owner, c.j.Repo, c.j.IssueNumber, opts)
		if err != nil {
			return false, nil, fmt.Errorf("listing comments on #%d: %w", c.j.IssueNumber, err)
		}
		all = append(all, cs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	var boundary int64
	for _, ic := range all {
		if strings.EqualFold(ic.GetUser().GetLogin(), c.w.BotLogin) && strings.Contains(ic.GetBody(), answerMarker) && ic.GetID() < c.j.CommentID {
			boundary = max(boundary, ic.GetID())
		}
	}
	seen := map[string]bool{}
	for _, ic := range all {
		id, login := ic.GetID(), ic.GetUser().GetLogin()
		if id == c.j.CommentID || id <= boundary || ic.GetUser().GetType() == "Bot" || strings.EqualFold(login, c.w.BotLogin) {
			continue
		}
		r, ok := c.w.parser().Parse(ic.GetBody()).(commands.Run)
		if !ok || r.Command.Key() != cmd.Key() {
			continue
		}
		verdict := true
		if cmd.Name.ChangesState() {
			if verdict, err = c.mayChange(ctx, login); err != nil {
				return false, nil, err
			}
		}
		if verdict != allowed {
			continue
		}
		if id > c.j.CommentID {
			return true, nil, nil
		}
		if !seen[login] && !strings.EqualFold(login, c.j.Author) {
			covered = append(covered, login)
		}
		seen[login] = true
	}
	return false, covered, nil
}

// answer replies to the command where it was given: in the review thread
// for a review comment, in the conversation otherwise.
func (c *cmdRun) answer(ctx context.Context, line, text string, covered []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s\n\n@%s %s\n", line, c.j.Author, strings.TrimSpace(text))
	if len(covered) > 0 {
		fmt.Fprintf(&b, "\nThis also answers the same request from @%s.\n", strings.Join(covered, ", @"))
	}
	b.WriteString("\n" + answerMarker)
	body := b.String()
	if len(body) > 65000 {
		body = body[:64000] + "\n\n(cut to fit GitHub's comment limit)\n\n" + answerMarker
	}
	return c.wr.replies.Answer(ctx, c.thread(), body)
}

// isBotPR reports dockopt's own pull requests: a dockopt/ branch of the
// repository itself (a fork's branch of that name is a person's).
func isBotPR(pr *github.PullRequest) bool {
	return strings.HasPrefix(pr.GetHead().GetRef(), publish.BranchPrefix) &&
		strings.EqualFold(pr.GetHead().GetRepo().GetFullName(), pr.GetBase().GetRepo().GetFullName())
}

// target is what a command on an issue or pull request acts on.
type target struct {
	pr     *github.PullRequest // nil on an issue
	botPR  bool
	branch string // the base branch of dockopt's work
}

func (c *cmdRun) target(ctx context.Context) (target, error) {
	if c.j.IsPR {
		pr, _, err := c.gh.PullRequests.Get(ctx, c.j.Owner, c.j.Repo, c.j.IssueNumber)
		if err != nil {
			return target{}, fmt.Errorf("reading pull request #%d: %w", c.j.IssueNumber, err)
		}
		if isBotPR(pr) {
			return target{pr: pr, botPR: true, branch: pr.GetBase().GetRef()}, nil
		}
		return target{pr: pr, branch: pr.GetBase().GetRef()}, nil
	}
	repo, _, err := c.gh.Repositories.Get(ctx, c.j.Owner, c.j.Repo)
	if err != nil {
		return target{}, fmt.Errorf("reading %s: %w", c.repoName(), err)
	}
	return target{branch: repo.GetDefaultBranch()}, nil
}

// rerun analyzes again: a person's pull request is reviewed; dockopt's own
// pull request, or an issue, re-runs the default branch's flow. recreate
// rebuilds dockopt's branch over people's commits.
// note, when set, leads the answer (the waiver an ignore command recorded).
func (c *cmdRun) rerun(ctx context.Context, cmd commands.Command, covered []string, recreate bool, note string) error {
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	if t.pr != nil && !t.botPR && !recreate {
		if t.pr.GetState() != "open" {
			return c.answer(ctx, cmd.Line, note+"this pull request is closed; dockopt reviews open pull requests only.", covered)
		}
		out, err := c.w.reviewPR(ctx, prRequestOf(c.j.InstallationID, c.j.Owner, c.j.Repo, t.pr, true))
		if err != nil {
			return err
		}
		return c.answer(ctx, cmd.Line, note+prAnswer(out), covered)
	}
	ref, _, err := c.gh.Git.GetRef(ctx, c.j.Owner, c.j.Repo, "heads/"+t.branch)
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.branch, err)
	}
	sha := ref.GetObject().GetSHA()
	outcome, err := c.w.analyzeBranch(ctx, branchJob{inst: c.j.InstallationID, owner: c.j.Owner, repo: c.j.Repo, branch: t.branch, sha: sha, force: recreate, asked: true})
	if err != nil {
		return err
	}
	return c.answer(ctx, cmd.Line, note+c.branchAnswer(ctx, t.branch, sha, recreate, outcome), covered)
}

func prAnswer(o prOutcome) string {
	if o.skipped != "" {
		return "dockopt did not analyze this pull request: " + o.skipped + "."
	}
	s := fmt.Sprintf("dockopt analyzed `%s` again with the base branch's configuration; the check run concluded **%s**. ", short(o.sha), o.conclusion)
	switch {
	case o.posted > 0:
		s += fmt.Sprintf("The new review has %d suggestions on changed lines", o.posted)
		if o.summarised > 0 {
			s += fmt.Sprintf(" and lists %d more", o.summarised)
		}
		s += "."
	case o.known > 0:
		s += fmt.Sprintf("Its %d suggestions on changed lines are already on this pull request; nothing new.", o.known)
	default:
		s += "Nothing to suggest on the lines this pull request changes."
	}
	if o.deleted > 0 {
		s += fmt.Sprintf(" %d earlier suggestions no longer apply and were removed.", o.deleted)
	}
	return s
}

// branchAnswer reports the default-branch flow's result from what it
// published: the check run on the commit and dockopt's pull request, or
// why there is none.
func (c *cmdRun) branchAnswer(ctx context.Context, branch, sha string, recreate bool, o publish.Outcome) string {
	var s string
	runs, _, err := c.gh.Checks.ListCheckRunsForRef(ctx, c.j.Owner, c.j.Repo, sha, &github.ListCheckRunsOptions{CheckName: github.String(publish.CheckName), Filter: github.String("latest")})
	if err == nil && runs.GetTotal() > 0 && len(runs.CheckRuns) > 0 {
		run := runs.CheckRuns[0]
		s = fmt.Sprintf("dockopt analyzed %s at `%s` again: **%s** (%s).", commands.Code(branch), short(sha), run.GetOutput().GetTitle(), run.GetConclusion())
	} else {
		s = fmt.Sprintf("dockopt analyzed %s at `%s` again.", commands.Code(branch), short(sha))
	}
	switch {
	case o.Action == publish.Declined:
		return s + fmt.Sprintf(" Its changes are those of #%d, which was closed without merging, so no pull request was opened; comment `/dockopt recreate` to have them proposed again.", o.Number)
	case o.Action == publish.Blocked && o.Number == 0:
		return s + fmt.Sprintf(" %s holds commits someone else pushed and no pull request is open, so it was left alone; comment `/dockopt recreate` to rebuild it.", commands.Code(publish.BranchName(branch)))
	}
	pulls, err := c.wr.proposals.Pulls(ctx, branch)
	pr := pulls.Open
	switch {
	case err != nil:
	case pr == nil:
		s += " Nothing is left to change, so there is no dockopt pull request."
	case recreate:
		s += fmt.Sprintf(" %s was rebuilt from scratch on %s; commits people had made on it were replaced. See #%d.", commands.Code(publish.BranchName(branch)), commands.Code(branch), pr.GetNumber())
	default:
		s += fmt.Sprintf(" The fixes are in #%d.", pr.GetNumber())
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// ignore waives a rule for the repository. The waiver is recorded in
// dockopt's database (every later run, on any replica, honours it and the
// report lists it), the analysis runs again at once, and the answer also
// gives the YAML that makes the waiver part of the repository's own
// configuration. A worker without a waiver store only gives the YAML.
func (c *cmdRun) ignore(ctx context.Context, cmd commands.Command, covered []string) error {
	rules := c.w.Analyzer.Lookup(cmd.Rule)
	if len(rules) == 0 {
		return c.answer(ctx, cmd.Line, fmt.Sprintf("dockopt has no rule %s, so there is nothing to ignore. `/dockopt explain RULE` takes the same IDs; `dockopt rules` lists them.", commands.Code(cmd.Rule)), covered)
	}
	id := rules[0].ID
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	where := "everywhere"
	if cmd.Path != "" {
		where = "under " + commands.Code(cmd.Path)
	}
	yaml := commands.IgnoreYAML(id, cmd.Path, fmt.Sprintf("waived by @%s", c.j.Author))
	if c.w.Waivers != nil {
		if _, err := c.w.Waivers.Add(ctx, waivers.Waiver{Repo: c.repoName(), Rule: id, Path: cmd.Path, Author: c.j.Author, At: time.Now().UnixMilli()}); err != nil {
			return fmt.Errorf("recording the waiver: %w", err)
		}
		note := fmt.Sprintf("`%s` is waived %s for this repository from now on (recorded by dockopt; every run honours it and the report lists it). "+
			"To keep it in the repository's own configuration too, add to `.github/dockopt.yml` on %s:\n\n%syaml\n%s%s\n\n", id, where, commands.Code(t.branch), review.Fence(yaml), yaml, review.Fence(yaml))
		return c.rerun(ctx, cmd, covered, false, note)
	}
	text := fmt.Sprintf("to stop reporting `%s` %s, add this entry to `.github/dockopt.yml` on %s (merge it with an existing `ignore:` list):\n\n%syaml\n%s%s\n\n"+
		"dockopt reads its configuration from %s, so that a pull request cannot switch its own checks off; from the first run after the change, the rule is no longer reported and the report counts it as waived.",
		id, where, commands.Code(t.branch), review.Fence(yaml), yaml, review.Fence(yaml), commands.Code(t.branch))
	return c.answer(ctx, cmd.Line, text, covered)
}
