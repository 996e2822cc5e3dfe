package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/app/clone"
	"github.com/dockopt/dockopt/app/commands"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/leases"
	"github.com/dockopt/dockopt/app/prbase"
	"github.com/dockopt/dockopt/app/review"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/templates"
)

// maxPRFiles is how many files pulls/list-files returns at most (GitHub
// stops at 3,000); dockopt reads that many and reviews what it saw.
const maxPRFiles = 3000

// prRequest is a request to review a person's pull request.
type prRequest struct {
	inst        int64
	owner, repo string
	number      int
	headSHA     string
	headRef     string
	baseRef     string
	// headRepo is "owner/name" of the repository the head branch lives
	// in; it differs from the base repository for a fork.
	headRepo string
	fork     bool
	// always analyzes even when the pull request touches nothing dockopt
	// looks at (/dockopt rerun asked for it).
	always bool
}

// prOutcome says what a review did, for the answer to a command.
type prOutcome struct {
	skipped    string // why nothing was analyzed
	sha        string
	conclusion string
	posted     int // new suggestions in the review
	summarised int // new suggestions beyond the cap, in the review body
	known      int // suggestions already on the pull request
	deleted    int // dockopt's comments that no longer apply
	elsewhere  int // findings left to the annotations
}

func (w *Worker) analyzePR(ctx context.Context, j jobs.AnalyzePR) error {
	_, err := w.reviewPR(ctx, prRequest{inst: j.InstallationID, owner: j.Owner, repo: j.Repo, number: j.Number,
		headSHA: j.HeadSHA, headRef: j.HeadRef, baseRef: j.BaseRef, headRepo: j.HeadRepoFullName, fork: j.Fork})
	return err
}

// prLocks serializes the work on one pull request within this process: a
// review and a /dockopt rerun racing would both see no earlier comment
// and post the same suggestions twice.
var prLocks sync.Map // key → *sync.Mutex

func lockPR(inst int64, owner, repo string, number int) func() {
	key := fmt.Sprintf("%d/%s/%s#%d", inst, strings.ToLower(owner), strings.ToLower(repo), number)
	m, _ := prLocks.LoadOrStore(key, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// reviewPR analyzes a pull request's head with the configuration of its
// base branch and publishes a check run on the head commit and one review
// with suggestions on the lines the pull request changes. It never pushes:
// the head may be a fork dockopt must not write to.
func (w *Worker) reviewPR(ctx context.Context, r prRequest) (prOutcome, error) {
	defer lockPR(r.inst, r.owner, r.repo, r.number)()
	// Replicas serialize on the pull request's lease as branch jobs do on
	// the branch's (a review and a re-run on two replicas).
	var out prOutcome
	err := w.holdLease(ctx, prKey(r.owner, r.repo, r.number), r.owner+"/"+r.repo, func(ctx context.Context, _ *leases.Lease) error {
		var err error
		out, err = w.reviewHeld(ctx, r)
		return err
	})
	return out, err
}

// reviewHeld is reviewPR once the job holds the pull request's lease.
func (w *Worker) reviewHeld(ctx context.Context, r prRequest) (prOutcome, error) {
	inst, repo, err := w.repository(ctx, r.inst, r.owner, r.repo)
	if err != nil {
		return prOutcome{}, err
	}
	gh := inst.Client
	changes, diff, err := prDiff(ctx, gh, r)
	if err != nil {
		return prOutcome{}, err
	}
	if repo.GetSize() > w.maxRepoKB() {
		return prOutcome{skipped: "the repository is larger than dockopt's limit"}, nil
	}
	token, err := inst.Token(ctx)
	if err != nil {
		return prOutcome{}, fmt.Errorf("installation token: %w", err)
	}
	co, err := clone.Clone(ctx, clone.Request{URL: headCloneURL(repo, r.headRepo), Token: token, Branch: r.headRef, SHA: r.headSHA}, w.Clone)
	if errors.Is(err, clone.ErrTooLarge) {
		return prOutcome{skipped: err.Error()}, nil
	}
	if err != nil {
		return prOutcome{}, err
	}
	defer co.Close()
	fsys := co.FS()
	wr := writersFor(gh, r.owner, r.repo)
	// The pull request's lease makes this job the only one on it.
	wr.checks = w.tracked(wr.checks, strings.ToLower(r.owner+"/"+r.repo), "pull:"+strconv.Itoa(r.number))

	// The base branch's configuration over the organization's defaults:
	// a pull request, from a fork or not, must not be able to switch its
	// own checks off.
	cfg, cfgErr := w.baseConfig(ctx, gh, r.owner, r.repo, r.baseRef)
	if cfgErr == nil {
		cfg, cfgErr = w.layered(ctx, gh, r.owner, cfg)
	}
	if cfgErr == nil && !cfg.IsEnabled() {
		w.log().Info("dockopt is switched off for this repository", "repository", repo.GetFullName(), "number", r.number)
		return prOutcome{skipped: "dockopt is switched off for this repository (`enabled: false` in " + strings.Join(cfg.Sources, ", ") + ")"}, nil
	}
	if cfgErr == nil {
		_, cfgErr = cfg.ResolveRules(w.Analyzer)
	}
	if cfgErr == nil {
		cfg, cfgErr = w.withWaivers(ctx, r.owner+"/"+r.repo, cfg)
	}
	var perm *permanentError
	if cfgErr != nil && !errors.As(cfgErr, &perm) {
		return prOutcome{}, cfgErr
	}
	if cfgErr == nil && !r.always {
		// Finding the Dockerfiles reads the repository's compose files:
		// the analysis does it.
		// A discovery over the budget is reported on the check run below.
		found, err := w.engine(ctx, co.Dir, fsys, &sandbox.Request{Title: fmt.Sprintf("%s#%d", repo.GetFullName(), r.number), Config: cfg, Discover: true})
		if err != nil && !errors.As(err, &perm) {
			return prOutcome{}, err
		}
		var targets []analyzer.Target
		if found != nil {
			targets = found.Targets
		}
		if perm == nil && !relevant(changes, targets) {
			w.log().Info("pull request touches no Dockerfile, build context or dockopt configuration", "repository", repo.GetFullName(), "number", r.number)
			out := prOutcome{skipped: "this pull request changes no Dockerfile, build context or dockopt configuration", sha: co.SHA}
			if len(targets) == 0 {
				return out, nil
			}
			// The repository has Dockerfiles, so people look for the
			// check: it says why there is nothing to judge.
			run, err := startCheck(ctx, wr.checks, co.SHA)
			if err != nil {
				return out, err
			}
			out.conclusion = "neutral"
			return out, run.finish(ctx, out.conclusion, templates.CheckOutput{Title: "Nothing Docker-related changed",
				Summary: "This pull request changes no Dockerfile, build context, compose file or dockopt configuration, so it cannot add findings, and dockopt did not analyze it. " +
					"Findings already on " + commands.Code(r.baseRef) + " are reported on that branch's commits."}, nil, nil)
		}
	}
	out := prOutcome{sha: co.SHA}
	run, err := startCheck(ctx, wr.checks, co.SHA)
	if err != nil {
		return out, err
	}
	if perm != nil {
		out.conclusion = "failure"
		return out, run.fail(ctx, perm.title, perm.summary)
	}
	err = w.publishReview(ctx, gh, wr, run, r, co.Dir, fsys, cfg, changes, diff, repo.GetFullName(), &out)
	if errors.As(err, &perm) {
		out.conclusion = "failure"
		return out, run.fail(ctx, perm.title, perm.summary)
	}
	if err != nil {
		run.failOnLastAttempt(ctx, err, "review", "Comment `/dockopt rerun` on the pull request to try again.")
	}
	return out, err
}

func (w *Worker) publishReview(ctx context.Context, gh *github.Client, wr writers, run *checkRun, r prRequest, dir string, fsys fs.FS, cfg *analyzer.Config, changes []prbase.Change, diff review.Diff, title string, out *prOutcome) error {
	// The analysis judges the head against its base, rebuilt from the
	// head and the diff, and writes the review's comments.
	eng, err := w.engine(ctx, dir, fsys, &sandbox.Request{Title: fmt.Sprintf("%s#%d", title, r.number), Config: cfg,
		PullRequest: &sandbox.PullRequest{Number: r.number, BaseRef: r.baseRef, Changes: changes, Diff: diff}})
	if err != nil {
		return err
	}
	annotations := eng.Check.Annotations
	want, elsewhere := eng.Review.Comments, eng.Review.Elsewhere
	existing, err := listReviewComments(ctx, gh, r.owner, r.repo, r.number)
	if err != nil {
		return err
	}
	plan := review.NewPlan(want, existing, w.BotLogin, elsewhere)
	out.elsewhere = elsewhere
	out.known = len(want) - len(plan.Post) - len(plan.Summarised)
	out.deleted, err = wr.reviews.Apply(ctx, r.number, out.sha, plan)
	if err != nil {
		return err
	}
	if len(plan.Post) > 0 {
		out.posted, out.summarised = len(plan.Post), len(plan.Summarised)
	}
	checkOut := eng.Check.Output
	checkOut.Summary = strings.TrimRight(checkOut.Summary, "\n") + "\n\n" + reviewLine(*out) + "\n"
	out.conclusion = eng.Check.Conclusion
	if err := run.finish(ctx, out.conclusion, checkOut, annotations, nil); err != nil {
		return err
	}
	w.log().Info("pull request reviewed", "repository", title, "number", r.number, "suggestions", out.posted, "known", out.known, "deleted", out.deleted)
	return nil
}

func reviewLine(o prOutcome) string {
	switch {
	case o.posted > 0:
		s := fmt.Sprintf("Review: %d new suggestions on lines this pull request changes", o.posted)
		if o.summarised > 0 {
			s += fmt.Sprintf(", %d more listed in the review", o.summarised)
		}
		return s + "."
	case o.known > 0:
		return fmt.Sprintf("Review: the %d suggestions on this pull request's lines are already there; nothing new to add.", o.known)
	}
	return "Review: nothing to suggest on the lines this pull request changes."
}

// prDiff lists the pull request's files: what each change is, with its
// patch, and the lines of each new version a comment may target.
func prDiff(ctx context.Context, gh *github.Client, r prRequest) ([]prbase.Change, review.Diff, error) {
	var changes []prbase.Change
	diff := review.Diff{}
	opts := &github.ListOptions{PerPage: 100}
	for seen := 0; seen < maxPRFiles; {
		files, resp, err := gh.PullRequests.ListFiles(ctx, r.owner, r.repo, r.number, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("listing the files of #%d: %w", r.number, err)
		}
		for _, f := range files {
			changes = append(changes, prbase.Change{Path: f.GetFilename(), Previous: f.GetPreviousFilename(), Status: f.GetStatus(), Patch: f.GetPatch()})
			if f.GetStatus() != "removed" && f.GetPatch() != "" {
				diff[f.GetFilename()] = review.ParsePatch(f.GetPatch())
			}
		}
		seen += len(files)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return changes, diff, nil
}

// relevant reports whether a change can alter dockopt's findings: a
// Dockerfile, an ignore file, a compose file, dockopt's or hadolint's
// configuration, or any file inside a build context, under its new name
// or its old one.
func relevant(changes []prbase.Change, targets []analyzer.Target) bool {
	var changed []string
	for _, c := range changes {
		changed = append(changed, c.Path)
		if c.Previous != "" {
			changed = append(changed, c.Previous)
		}
	}
	for _, p := range changed {
		base := path.Base(p)
		if analyzer.IsDockerfileName(base) || strings.HasSuffix(base, ".dockerignore") || isConfigPath(p) ||
			strings.Contains(strings.ToLower(base), "compose") {
			return true
		}
		for _, t := range targets {
			if t.Context == "." || t.Context == "" || p == t.Context || strings.HasPrefix(p, t.Context+"/") {
				return true
			}
		}
	}
	return false
}

func isConfigPath(p string) bool {
	for _, c := range append(append([]string(nil), analyzer.ConfigPaths...), analyzer.HadolintConfigPaths...) {
		if p == c {
			return true
		}
	}
	return false
}

// headCloneURL is the clone URL of the head repository: the base's for a
// branch of the same repository, the fork's otherwise (GitHub's clone URLs
// are <host>/<owner>/<name>.git). A fork that was deleted leaves no name;
// the base repository then serves nothing either, and the clone fails.
func headCloneURL(base *github.Repository, headRepo string) string {
	url := base.GetCloneURL()
	if headRepo == "" || strings.EqualFold(headRepo, base.GetFullName()) {
		return url
	}
	if i := strings.LastIndex(strings.ToLower(url), strings.ToLower(base.GetFullName())); i >= 0 {
		return url[:i] + headRepo + url[i+len(base.GetFullName()):]
	}
	return url
}

// baseConfig reads dockopt's and hadolint's configuration files from the
// head of the base branch through the Git Data and contents APIs: the
// root tree, the .github and .config trees when present, and only the
// configuration files that exist.
func (w *Worker) baseConfig(ctx context.Context, gh *github.Client, owner, repo, branch string) (*analyzer.Config, error) {
	ref, _, err := gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		return nil, fmt.Errorf("reading the base branch %s: %w", branch, err)
	}
	sha := ref.GetObject().GetSHA()
	wanted := map[string]bool{}
	dirs := map[string]bool{}
	for _, p := range append(append([]string(nil), analyzer.ConfigPaths...), analyzer.HadolintConfigPaths...) {
		wanted[p] = true
		if d := path.Dir(p); d != "." {
			dirs[d] = true
		}
	}
	var present []string
	root, _, err := gh.Git.GetTree(ctx, owner, repo, sha, false)
	if err != nil {
		return nil, fmt.Errorf("reading the base branch's tree: %w", err)
	}
	for _, e := range root.Entries {
		switch {
		case e.GetType() == "blob" && wanted[e.GetPath()]:
			present = append(present, e.GetPath())
		case e.GetType() == "tree" && dirs[e.GetPath()]:
			sub, _, err := gh.Git.GetTree(ctx, owner, repo, e.GetSHA(), false)
			if err != nil {
				return nil, fmt.Errorf("reading %s on the base branch: %w", e.GetPath(), err)
			}
			for _, se := range sub.Entries {
				if p := e.GetPath() + "/" + se.GetPath(); se.GetType() == "blob" && wanted[p] {
					present = append(present, p)
				}
			}
		}
	}
	fsys := fstest.MapFS{}
	for _, p := range present {
		fc, _, _, err := gh.Repositories.GetContents(ctx, owner, repo, p, &github.RepositoryContentGetOptions{Ref: sha})
		if err != nil {
			return nil, fmt.Errorf("reading %s on the base branch: %w", p, err)
		}
		text, err := fc.GetContent()
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", p, err)
		}
		fsys[p] = &fstest.MapFile{Data: []byte(text)}
	}
	cfg, err := analyzer.LoadConfig(fsys)
	if err != nil {
		return nil, &permanentError{"Configuration error", "dockopt could not use the configuration of the base branch " + commands.Code(branch) + ":\n\n" + review.Fence(err.Error()) + "\n" + err.Error() + "\n" + review.Fence(err.Error()) + "\n\nPull requests are checked with the base branch's configuration; fix it there."}
	}
	return cfg, nil
}

func listReviewComments(ctx context.Context, gh *github.Client, owner, repo string, number int) ([]review.Existing, error) {
	var out []review.Existing
	opts := &github.PullRequestListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		cs, resp, err := gh.PullRequests.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("listing review comments on #%d: %w", number, err)
		}
		for _, c := range cs {
			out = append(out, review.Existing{ID: c.GetID(), User: c.GetUser().GetLogin(), Body: c.GetBody(), InReplyTo: c.GetInReplyTo()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
