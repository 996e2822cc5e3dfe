// Package worker processes queued jobs: one job is one repository at one
// commit. It fetches the commit, runs the pure engine (analyze, patch,
// verify, render) and publishes the result on GitHub.
package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/app/clone"
	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/publish"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/waivers"
	"github.com/dockopt/dockopt/internal/pipeline"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/patcher/build"
	"github.com/dockopt/dockopt/templates"
)

// ReportPath is where the full report is committed on the bot branch when
// it does not fit in the pull-request body.
const ReportPath = ".dockopt/REPORT.md"

// Worker runs the app's jobs: Handlers gives the queue one handler per
// kind.
type Worker struct {
	GitHub   *ghclient.Factory
	Analyzer *analyzer.Analyzer
	// Builder, when set, builds original and optimized images.
	Builder *build.Builder
	// BotLogin is the app's bot account ("dockopt[bot]").
	BotLogin string
	Clone    clone.Limits
	// MaxRepoKB refuses repositories GitHub reports as larger (default 1 GiB).
	MaxRepoKB int
	Log       *slog.Logger
	// Waivers keeps the rules waived by `/dockopt ignore`; without it the
	// command only answers with the configuration to add.
	Waivers WaiverStore
}

// WaiverStore is where `/dockopt ignore` waivers live.
type WaiverStore interface {
	List(ctx context.Context, repo string) ([]waivers.Waiver, error)
	Add(ctx context.Context, w waivers.Waiver) (added bool, err error)
}

// Config is what a worker needs from the program that runs it.
type Config struct {
	// GitHub makes the clients of each installation.
	GitHub *ghclient.Factory
	// BotLogin is the app's bot account ("dockopt[bot]").
	BotLogin string
	// BuildKitAddr, when set, is where original and optimized images are
	// built; without it the changes are checked without building.
	BuildKitAddr string
	Logger       *slog.Logger
	Waivers      WaiverStore
}

// New returns a worker with dockopt's rule catalog.
func New(cfg Config) *Worker {
	w := &Worker{
		GitHub:   cfg.GitHub,
		Analyzer: analyzer.New(rules.All()),
		BotLogin: cfg.BotLogin,
		Log:      cfg.Logger,
		Waivers:  cfg.Waivers,
	}
	if cfg.BuildKitAddr != "" {
		w.Builder = &build.Builder{Addr: cfg.BuildKitAddr, Timeout: 10 * time.Minute}
	}
	return w
}

// Handlers run each kind of job; give them to the queue (or the server).
// A new kind of job needs its handler added here.
func (w *Worker) Handlers() []queue.Handler {
	return []queue.Handler{
		queue.Handle(w.analyzePush),
		queue.Handle(w.analyzeRepo),
		queue.Handle(w.analyzePR),
		queue.Handle(w.command),
		queue.Handle(w.rerun),
	}
}

// withWaivers adds the repository's recorded waivers to its configuration.
func (w *Worker) withWaivers(ctx context.Context, repo string, cfg *analyzer.Config) (*analyzer.Config, error) {
	if w.Waivers == nil {
		return cfg, nil
	}
	ws, err := w.Waivers.List(ctx, repo)
	if err != nil || len(ws) == 0 {
		return cfg, err
	}
	out := *cfg
	out.Ignore = append([]analyzer.IgnoreEntry(nil), cfg.Ignore...)
	for _, x := range ws {
		out.Ignore = append(out.Ignore, analyzer.IgnoreEntry{Rule: x.Rule, Path: x.Path, Reason: "waived by @" + x.Author + " with /dockopt ignore"})
	}
	return &out, nil
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// analyzePush analyzes a push to the default branch.
func (w *Worker) analyzePush(ctx context.Context, j jobs.AnalyzePush) error {
	return w.analyzeBranch(ctx, branchJob{inst: j.InstallationID, owner: j.Owner, repo: j.Repo, branch: j.Branch, sha: j.SHA})
}

// analyzeRepo analyzes the default branch of a repository the app was
// just given.
func (w *Worker) analyzeRepo(ctx context.Context, j jobs.AnalyzeRepo) error {
	return w.analyzeBranch(ctx, branchJob{inst: j.InstallationID, owner: j.Owner, repo: j.Repo})
}

// branchJob is a request to analyze a branch head and propose changes.
type branchJob struct {
	inst        int64
	owner, repo string
	branch, sha string
	force       bool // /dockopt recreate
	openPR      bool // the "Open fix PR" button in check-only mode
}

// repoTooLarge is reported on the check run, not retried.
type permanentError struct{ title, summary string }

func (e *permanentError) Error() string { return e.title + ": " + e.summary }

func (w *Worker) analyzeBranch(ctx context.Context, j branchJob) error {
	inst, err := w.GitHub.Installation(j.inst)
	if err != nil {
		return queue.Permanent(err)
	}
	gh := inst.Client
	repo, _, err := gh.Repositories.Get(ctx, j.owner, j.repo)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", j.owner, j.repo, err)
	}
	if j.branch == "" {
		j.branch = repo.GetDefaultBranch()
	}
	if j.branch != repo.GetDefaultBranch() {
		w.log().Info("push not to the default branch; nothing to do", "repository", repo.GetFullName(), "branch", j.branch)
		return nil
	}
	if j.sha == "" {
		ref, _, err := gh.Git.GetRef(ctx, j.owner, j.repo, "heads/"+j.branch)
		if err != nil {
			return fmt.Errorf("reading %s: %w", j.branch, err)
		}
		j.sha = ref.GetObject().GetSHA()
	}
	checks := &publish.Checks{Client: gh, Owner: j.owner, Repo: j.repo}
	checkID, err := checks.Start(ctx, j.sha)
	if err != nil {
		return err
	}
	err = w.runBranch(ctx, inst, repo, checks, checkID, j)
	var perm *permanentError
	if errors.As(err, &perm) {
		if ferr := checks.Fail(ctx, checkID, "failure", perm.title, perm.summary); ferr != nil {
			return ferr
		}
		return nil
	}
	if err != nil {
		if info, ok := queue.Info(ctx); ok && info.Attempt >= info.MaxAttempts {
			_ = checks.Fail(ctx, checkID, "failure", "dockopt could not finish", "The analysis failed after several attempts: "+err.Error()+"\n\nComment `/dockopt rerun` on the pull request, or re-run this check, to try again.")
		}
	}
	return err
}

func (w *Worker) maxRepoKB() int {
	if w.MaxRepoKB > 0 {
		return w.MaxRepoKB
	}
	return 1 << 20
}

func (w *Worker) runBranch(ctx context.Context, inst *ghclient.Installation, repo *github.Repository, checks *publish.Checks, checkID int64, j branchJob) error {
	if repo.GetSize() > w.maxRepoKB() {
		return &permanentError{"Repository too large", fmt.Sprintf("GitHub reports %s at %d MB; dockopt analyzes repositories up to %d MB. Raise the limit of your dockopt installation or exclude large files from the repository.",
			repo.GetFullName(), repo.GetSize()/1024, w.maxRepoKB()/1024)}
	}
	token, err := inst.Token(ctx)
	if err != nil {
		return fmt.Errorf("installation token: %w", err)
	}
	co, err := clone.Clone(ctx, clone.Request{URL: repo.GetCloneURL(), Token: token, Branch: j.branch, SHA: j.sha}, w.Clone)
	if errors.Is(err, clone.ErrTooLarge) {
		return &permanentError{"Repository too large", err.Error()}
	}
	if err != nil {
		return err
	}
	defer co.Close()
	fsys := os.DirFS(co.Dir)
	cfg, err := analyzer.LoadConfig(fsys)
	if err == nil {
		_, err = cfg.ResolveRules(w.Analyzer)
	}
	if err != nil {
		return &permanentError{"Configuration error", "dockopt could not use the repository's configuration:\n\n```\n" + err.Error() + "\n```\n\nFix the file and push again; until then nothing is analyzed."}
	}
	if cfg, err = w.withWaivers(ctx, repo.GetFullName(), cfg); err != nil {
		return err
	}
	out, err := w.engine(ctx, co.Dir, fsys, cfg, repo.GetFullName())
	if err != nil {
		return err
	}
	conclusion := publish.Conclusion(out.Result, cfg.Threshold())
	checkOut, err := templates.CheckRun(out.Report)
	if err != nil {
		return err
	}
	branches := &publish.Branches{Client: inst.Client, Owner: repo.GetOwner().GetLogin(), Repo: repo.GetName()}
	existing, err := branches.Open(ctx, j.branch)
	if err != nil {
		return err
	}
	files := proposedFiles(out.Patch)
	var actions []*github.CheckRunAction
	switch {
	case len(files) == 0 && existing != nil:
		msg := "dockopt found nothing left to change on `" + j.branch + "` at " + co.SHA[:12] + ", so this pull request is closed and its branch deleted."
		if err := branches.Withdraw(ctx, existing, msg); err != nil {
			return err
		}
	case len(files) == 0:
	case cfg.Output.Mode == "check-only" && !j.openPR:
		actions = []*github.CheckRunAction{{Label: "Open fix PR", Identifier: "open-fix-pr", Description: "Open a pull request with the fixes"}}
	default:
		body, truncated, err := templates.PullRequestBody(out.Report, ReportPath)
		if err != nil {
			return err
		}
		if truncated {
			report, err := templates.Report(out.Report)
			if err != nil {
				return err
			}
			files = append(files, publish.File{Path: ReportPath, Content: []byte(report)})
		}
		outcome, err := branches.Propose(ctx, publish.Proposal{
			Base: j.branch, BaseSHA: co.SHA, BaseTree: co.TreeSHA, Files: files,
			Title:    prTitle(out.Patch),
			Body:     body,
			Commit:   commitMessage(out.Patch),
			BotLogin: w.BotLogin, Labels: cfg.PullRequest.Labels, Reviewers: cfg.PullRequest.Reviewers, Draft: cfg.PullRequest.Draft,
			Force: j.force,
		}, existing)
		if err != nil {
			return err
		}
		w.log().Info("pull request", "repository", repo.GetFullName(), "action", outcome.Action, "number", outcome.Number)
		if outcome.Action == "blocked" {
			msg := "Someone pushed to `" + publish.BranchName(j.branch) + "`, so dockopt no longer updates this branch and your commits are safe. dockopt's newest result differs from what the branch holds; comment `/dockopt recreate` to rebuild the branch from scratch (your commits on it will be replaced)."
			if err := branches.Comment(ctx, outcome.Number, "blocked-"+co.SHA, msg); err != nil {
				return err
			}
		}
		if outcome.URL != "" {
			checkOut.Summary = strings.TrimRight(checkOut.Summary, "\n") + fmt.Sprintf("\n\nFixes: pull request #%d.\n", outcome.Number)
		}
	}
	return checks.Finish(ctx, checkID, conclusion, checkOut, publish.Annotations(out.Result), actions)
}

// proposedFiles are the changes dockopt may push: never workflow files,
// which need a permission dockopt does not ask for.
func proposedFiles(p *patcher.Result) []publish.File {
	var out []publish.File
	for _, c := range p.Changes {
		if strings.HasPrefix(c.Path, ".github/workflows/") {
			continue
		}
		out = append(out, publish.File{Path: c.Path, Content: c.Content})
	}
	return out
}

func prTitle(p *patcher.Result) string {
	n := 0
	for _, f := range p.Files {
		if f.Changed() {
			n++
		}
	}
	if n == 1 {
		for _, f := range p.Files {
			if f.Changed() {
				return "Optimize " + f.Path + " for production"
			}
		}
	}
	return fmt.Sprintf("Optimize %d Dockerfiles for production", n)
}

func commitMessage(p *patcher.Result) string {
	var b strings.Builder
	b.WriteString(prTitle(p) + "\n\n")
	for _, f := range p.Files {
		if !f.Changed() {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", f.Path)
		for _, a := range f.Applied {
			fmt.Fprintf(&b, "- %s (%s)\n", a.Message, a.Rule)
		}
	}
	return b.String()
}

// engine runs the pure pipeline exactly as the CLI does, and lists the
// waivers in force in the report.
func (w *Worker) engine(ctx context.Context, dir string, fsys fs.FS, cfg *analyzer.Config, title string) (*pipeline.Output, error) {
	opts := pipeline.FixOptions(cfg)
	out, err := pipeline.Run(ctx, pipeline.Request{Analyzer: w.Analyzer, FS: fsys, Dir: dir, Config: cfg, Fix: &opts, Builder: w.Builder, Title: title})
	if err != nil {
		return nil, fmt.Errorf("analyzing: %w", err)
	}
	out.Report.Waived = cfg.Ignore
	return out, nil
}
