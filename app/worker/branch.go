package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/app/baselines"
	"github.com/dockopt/dockopt/app/budget"
	"github.com/dockopt/dockopt/app/clone"
	"github.com/dockopt/dockopt/app/commands"
	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/leases"
	"github.com/dockopt/dockopt/app/publish"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/app/verdict"
)

// analyzePush analyzes a push to the default branch.
func (w *Worker) analyzePush(ctx context.Context, j jobs.AnalyzePush) error {
	_, err := w.analyzeBranch(ctx, branchJob{inst: j.InstallationID, owner: j.Owner, repo: j.Repo, branch: j.Branch, sha: j.SHA})
	return err
}

// analyzeRepo analyzes the default branch of a repository the app was
// just given.
func (w *Worker) analyzeRepo(ctx context.Context, j jobs.AnalyzeRepo) error {
	_, err := w.analyzeBranch(ctx, branchJob{inst: j.InstallationID, owner: j.Owner, repo: j.Repo})
	return err
}

// branchJob is a request to analyze a branch head and propose changes.
type branchJob struct {
	inst        int64
	owner, repo string
	branch, sha string
	force       bool // /dockopt recreate
	openPR      bool // the "Open fix PR" button in check-only mode
	// asked: a person asked for this run (a re-run, a command), so it runs
	// even when another job has just analyzed the same commit.
	asked bool
}

// permanentError is reported on the check run, not retried.
type permanentError struct{ title, summary string }

func (e *permanentError) Error() string { return e.title + ": " + e.summary }

// analyzeBranch analyzes a branch head, reports on its commit and
// proposes the changes; the outcome says what became of the proposal. A
// repository whose configuration opts out gets nothing, not even a check
// run, so the configuration is read before the check run starts.
func (w *Worker) analyzeBranch(ctx context.Context, j branchJob) (publish.Outcome, error) {
	inst, repo, err := w.repository(ctx, j.inst, j.owner, j.repo)
	if err != nil {
		return publish.Outcome{}, err
	}
	if j.branch == "" {
		j.branch = repo.GetDefaultBranch()
	}
	if j.branch != repo.GetDefaultBranch() {
		w.log().Info("push not to the default branch; nothing to do", "repository", repo.GetFullName(), "branch", j.branch)
		return publish.Outcome{}, nil
	}
	var outcome publish.Outcome
	err = w.holdBranch(ctx, j.owner, j.repo, j.branch, func(ctx context.Context, l *leases.Lease) error {
		var err error
		outcome, err = w.analyzeHeld(ctx, inst, repo, j, l)
		return err
	})
	return outcome, err
}

// analyzeHeld is analyzeBranch once the job holds the branch's lease l.
func (w *Worker) analyzeHeld(ctx context.Context, inst *ghclient.Installation, repo *github.Repository, j branchJob, l *leases.Lease) (publish.Outcome, error) {
	gh := inst.Client
	if j.sha == "" {
		ref, _, err := gh.Git.GetRef(ctx, j.owner, j.repo, "heads/"+j.branch)
		if err != nil {
			return publish.Outcome{}, fmt.Errorf("reading %s: %w", j.branch, err)
		}
		j.sha = ref.GetObject().GetSHA()
	}
	if !j.asked && alreadyDone(ctx, l, j.sha) {
		w.log().Info("another job analyzed this commit after this one was queued; nothing to do", "repository", repo.GetFullName(), "branch", j.branch, "sha", j.sha)
		return publish.Outcome{}, nil
	}
	outcome, err := w.publishBranch(ctx, inst, repo, j)
	if err == nil && l != nil {
		err = l.Finish(ctx, j.sha)
	}
	return outcome, err
}

// publishBranch analyzes the branch head j.sha, reports on it and
// proposes the changes.
func (w *Worker) publishBranch(ctx context.Context, inst *ghclient.Installation, repo *github.Repository, j branchJob) (publish.Outcome, error) {
	gh := inst.Client
	wr := writersFor(gh, j.owner, j.repo)
	wr.checks = w.tracked(wr.checks, strings.ToLower(j.owner+"/"+j.repo), "branch:"+j.branch)
	src, err := w.checkout(ctx, inst, repo, j)
	if src != nil {
		defer src.co.Close()
	}
	var perm *permanentError
	switch {
	case errors.As(err, &perm):
	case err != nil:
		if lastAttempt(ctx) {
			if run, serr := startCheck(ctx, wr.checks, j.sha); serr == nil {
				run.failOnLastAttempt(ctx, err, "analysis", "Comment `/dockopt rerun` on the pull request, or re-run this check, to try again.")
			}
		}
		return publish.Outcome{}, err
	case !src.cfg.IsEnabled():
		w.log().Info("dockopt is switched off for this repository", "repository", repo.GetFullName(), "configuration", strings.Join(src.cfg.Sources, ", "))
		return publish.Outcome{}, nil
	}
	run, err := startCheck(ctx, wr.checks, j.sha)
	if err != nil {
		return publish.Outcome{}, err
	}
	if perm != nil {
		return publish.Outcome{}, run.fail(ctx, perm.title, perm.summary)
	}
	outcome, err := w.runBranch(ctx, repo, wr, run, j, src)
	if errors.As(err, &perm) {
		return outcome, run.fail(ctx, perm.title, perm.summary)
	}
	if err != nil {
		run.failOnLastAttempt(ctx, err, "analysis", "Comment `/dockopt rerun` on the pull request, or re-run this check, to try again.")
	}
	return outcome, err
}

// source is a branch head checked out with the configuration it asks for.
type source struct {
	co  *clone.Checkout
	cfg *analyzer.Config
}

// checkout clones the branch head and reads its configuration over the
// organization's defaults. Problems the repository must fix are
// *permanentError; src is set whenever the clone succeeded.
func (w *Worker) checkout(ctx context.Context, inst *ghclient.Installation, repo *github.Repository, j branchJob) (*source, error) {
	if repo.GetSize() > w.maxRepoKB() {
		return nil, &permanentError{"Repository too large", fmt.Sprintf("GitHub reports %s at %d MB; dockopt analyzes repositories up to %d MB. Raise the limit of your dockopt installation or exclude large files from the repository.",
			repo.GetFullName(), repo.GetSize()/1024, w.maxRepoKB()/1024)}
	}
	token, err := inst.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("installation token: %w", err)
	}
	co, err := clone.Clone(ctx, clone.Request{URL: repo.GetCloneURL(), Token: token, Branch: j.branch, SHA: j.sha}, w.Clone)
	if errors.Is(err, clone.ErrTooLarge) {
		return nil, &permanentError{"Repository too large", err.Error()}
	}
	if err != nil {
		return nil, err
	}
	src := &source{co: co}
	cfg, err := analyzer.LoadConfig(co.FS())
	if err != nil {
		return src, &permanentError{"Configuration error", "dockopt could not use the repository's configuration:\n\n```\n" + err.Error() + "\n```\n\nFix the file and push again; until then nothing is analyzed."}
	}
	if cfg, err = w.layered(ctx, inst.Client, j.owner, cfg); err != nil {
		return src, err
	}
	if _, err := cfg.ResolveRules(w.Analyzer); err != nil {
		return src, &permanentError{"Configuration error", "dockopt could not use the repository's configuration (" + strings.Join(cfg.Sources, ", ") + "):\n\n```\n" + err.Error() + "\n```\n\nFix the file and push again; until then nothing is analyzed."}
	}
	src.cfg = cfg
	return src, nil
}

func lastAttempt(ctx context.Context) bool {
	info, ok := queue.Info(ctx)
	return ok && info.Attempt >= info.MaxAttempts
}

func (w *Worker) runBranch(ctx context.Context, repo *github.Repository, wr writers, run *checkRun, j branchJob, src *source) (publish.Outcome, error) {
	co, cfg := src.co, src.cfg
	cfg, err := w.withWaivers(ctx, repo.GetFullName(), cfg)
	if err != nil {
		return publish.Outcome{}, err
	}
	base, err := w.baseline(ctx, repo.GetFullName(), j.branch, co.SHA)
	if err != nil {
		return publish.Outcome{}, err
	}
	out, err := w.engine(ctx, co.Dir, co.FS(), &sandbox.Request{Title: repo.GetFullName(), Config: cfg, Push: &base,
		ReportURL: reportURL(j.owner, j.repo, publish.BranchName(j.branch))})
	if err != nil {
		return publish.Outcome{}, err
	}
	if err := w.record(ctx, repo.GetFullName(), j.branch, co.SHA, out.Fingerprints); err != nil {
		return publish.Outcome{}, err
	}
	annotations, checkOut := out.Check.Annotations, out.Check.Output
	pulls, err := wr.proposals.Pulls(ctx, j.branch)
	if err != nil {
		return publish.Outcome{}, err
	}
	existing := pulls.Open
	if j.openPR {
		// A person asked for the pull request: one closed earlier does
		// not stand in the way.
		pulls.Closed = nil
	}
	files := w.proposedFiles(co.Root, out.Changes)
	var outcome publish.Outcome
	var actions []*github.CheckRunAction
	pc := paced{w: w, inst: j.inst, repo: repo.GetFullName(), asked: j.force || j.openPR}
	switch {
	case len(files) == 0 && existing != nil:
		msg := "dockopt found nothing left to change on " + commands.Code(j.branch) + " at " + co.SHA[:12] + ", so this pull request is closed and its branch deleted."
		if err := wr.proposals.Withdraw(budget.WithClass(ctx, budget.Proposals), existing, msg); err != nil {
			return publish.Outcome{}, err
		}
		if err := w.forget(ctx, j.inst, repo.GetFullName(), j.branch); err != nil {
			return publish.Outcome{}, err
		}
	case len(files) == 0:
		if err := w.forget(ctx, j.inst, repo.GetFullName(), j.branch); err != nil {
			return publish.Outcome{}, err
		}
	case cfg.Output.Mode == "check-only" && !j.openPR:
		actions = []*github.CheckRunAction{{Label: "Open fix PR", Identifier: "open-fix-pr", Description: "Open a pull request with the fixes"}}
	default:
		if existing != nil && w.Pacer != nil {
			if err := w.Pacer.Track(ctx, j.inst, repo.GetFullName(), j.branch, existing.GetNumber()); err != nil {
				return publish.Outcome{}, err
			}
		}
		if existing == nil {
			d, err := pc.admit(ctx, j.branch, co.SHA, run.id, out.Priority)
			if err != nil {
				return publish.Outcome{}, err
			}
			if !d.Admitted {
				w.log().Info("pull request waits for its turn", "repository", repo.GetFullName(), "position", d.Position, "waiting", d.Waiting, "because", d.Because)
				checkOut.Summary = strings.TrimRight(checkOut.Summary, "\n") + "\n\n" + w.waitingLine(d) + "\n"
				break
			}
		}
		var line string
		outcome, line, err = w.propose(ctx, wr, j, co, cfg, out, files, pulls)
		if err != nil {
			return publish.Outcome{}, err
		}
		if existing == nil {
			if err := pc.settle(ctx, j.branch, outcome); err != nil {
				return publish.Outcome{}, err
			}
		}
		if line != "" {
			checkOut.Summary = strings.TrimRight(checkOut.Summary, "\n") + "\n\n" + line + "\n"
		}
	}
	return outcome, run.finish(ctx, out.Check.Conclusion, checkOut, annotations, actions)
}

// propose pushes the branch's changes and opens or updates the pull
// request; line is what the check run's summary says about it. Its writes
// spend the budget of pull requests, never the part kept for check runs.
func (w *Worker) propose(ctx context.Context, wr writers, j branchJob, co *clone.Checkout, cfg *analyzer.Config, out *sandbox.Result, files []publish.File, pulls publish.Pulls) (publish.Outcome, string, error) {
	ctx = budget.WithClass(ctx, budget.Proposals)
	if out.Truncated {
		files = append(files, publish.File{Path: ReportPath, Content: []byte(out.Report)})
	}
	outcome, err := wr.proposals.Propose(ctx, publish.Proposal{
		Base: j.branch, BaseSHA: co.SHA, BaseTree: co.TreeSHA, Files: files,
		Title:    out.Title,
		Body:     out.Body,
		Commit:   out.Commit,
		BotLogin: w.BotLogin, Labels: cfg.PullRequest.Labels, Reviewers: cfg.PullRequest.Reviewers, Draft: cfg.PullRequest.Draft,
		Force: j.force,
	}, pulls)
	if err != nil {
		return publish.Outcome{}, "", err
	}
	w.log().Info("pull request", "repository", j.owner+"/"+j.repo, "action", outcome.Action, "number", outcome.Number)
	line, err := explain(ctx, wr.notices, outcome, j.branch, co.SHA)
	return outcome, line, err
}

// forget tells the pacer a branch has nothing to propose any more.
func (w *Worker) forget(ctx context.Context, inst int64, repo, branch string) error {
	if w.Pacer == nil {
		return nil
	}
	return w.Pacer.Forget(ctx, inst, repo, branch)
}

// baseline is what a branch head is judged against: the commit of that
// branch analyzed before it, when one was.
func (w *Worker) baseline(ctx context.Context, repo, branch, sha string) (verdict.Baseline, error) {
	if w.Baselines == nil {
		return verdict.Baseline{}, nil
	}
	prev, found, err := w.Baselines.Against(ctx, repo, branch, sha)
	if err != nil || !found {
		return verdict.Baseline{}, err
	}
	return verdict.Baseline{Known: true, Fingerprints: prev.Fingerprints,
		Against: fmt.Sprintf("%s at `%s`, the commit dockopt analyzed before", commands.Code(branch), short(prev.SHA))}, nil
}

// record keeps a branch head's findings as the branch's newest.
func (w *Worker) record(ctx context.Context, repo, branch, sha string, fingerprints []string) error {
	if w.Baselines == nil {
		return nil
	}
	return w.Baselines.Record(ctx, repo, branch, baselines.Commit{SHA: sha, Fingerprints: fingerprints})
}

// explain tells people why a proposal was not pushed: on the pull
// request, once, when there is one to comment on. It returns the line the
// check run's summary adds about the pull request.
func explain(ctx context.Context, n notices, o publish.Outcome, base, sha string) (string, error) {
	branch := publish.BranchName(base)
	switch {
	case o.Action == publish.Blocked && o.Number == 0:
		return commands.Code(branch) + " holds commits someone else pushed and no pull request is open, so dockopt leaves the branch alone. " +
			"Comment `/dockopt recreate` on an issue or pull request of this repository to rebuild it from dockopt's newest result (the commits on it will be replaced), or delete the branch.", nil
	case o.Action == publish.Blocked:
		msg := "Someone pushed to " + commands.Code(branch) + ", so dockopt no longer updates this branch and your commits are safe. dockopt's newest result differs from what the branch holds; comment `/dockopt recreate` to rebuild the branch from scratch (your commits on it will be replaced)."
		if err := n.Comment(ctx, o.Number, "blocked-"+sha, msg); err != nil {
			return "", err
		}
	case o.Action == publish.Declined:
		msg := "This pull request was closed without merging, so dockopt will not open it again for the same changes: pushes that leave its proposal as it is open nothing, and a proposal that changes gets a new pull request. To have these changes proposed again now, comment `/dockopt recreate` here."
		if err := n.Comment(ctx, o.Number, "declined", msg); err != nil {
			return "", err
		}
		return fmt.Sprintf("These changes were proposed in #%d, which was closed without merging, so dockopt does not propose them again. Comment `/dockopt recreate` on #%d to ask again.", o.Number, o.Number), nil
	}
	if o.URL == "" {
		return "", nil
	}
	return fmt.Sprintf("Fixes: pull request #%d.", o.Number), nil
}

// proposedFiles are the changes dockopt may push: never workflow files,
// which need a permission dockopt does not ask for. A change to a path
// the repository holds through a symbolic link lands on the file the link
// names, so the pull request never replaces a link with a file; one whose
// link leads out of the repository is dropped (the analysis never read
// it either).
func (w *Worker) proposedFiles(root *os.Root, changes []sandbox.Change) []publish.File {
	var out []publish.File
	for _, c := range changes {
		name, ok := throughLinks(root, c.Path)
		if !ok {
			w.log().Warn("a change through a symbolic link leading out of the repository is dropped", "path", c.Path)
			continue
		}
		if strings.HasPrefix(name, ".github/workflows/") {
			continue
		}
		out = append(out, publish.File{Path: name, Content: c.Content})
	}
	return out
}

// maxLinkHops bounds the links followed for one path (as Linux's 40).
const maxLinkHops = 40

// throughLinks resolves the symbolic links along a slash-separated path
// of the repository, component by component; ok is false when one leads
// outside it or the chain is too long. A missing tail is a new file.
func throughLinks(root *os.Root, name string) (string, bool) {
	parts := strings.Split(name, "/")
	for hops := 0; hops <= maxLinkHops; hops++ {
		resolved := true
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			fi, err := root.Lstat(prefix)
			if err != nil {
				break
			}
			if fi.Mode()&fs.ModeSymlink == 0 {
				continue
			}
			target, err := root.Readlink(prefix)
			if err != nil || path.IsAbs(target) {
				return "", false
			}
			next := path.Join(path.Dir(prefix), target)
			if next == "." || !fs.ValidPath(next) {
				return "", false
			}
			parts = append(strings.Split(next, "/"), parts[i+1:]...)
			resolved = false
			break
		}
		if resolved {
			return strings.Join(parts, "/"), true
		}
	}
	return "", false
}

// reportURL is the full report's address on dockopt's branch: a
// pull-request description resolves no relative link.
func reportURL(owner, repo, branch string) string {
	segs := strings.Split(branch, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "https://github.com/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/blob/" + strings.Join(segs, "/") + "/" + ReportPath
}
