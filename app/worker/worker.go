// Package worker runs the app's jobs, one handler per kind: one job is one
// repository at one commit. It fetches the commit, has it analyzed (the
// pure pipeline: analyze, patch, verify, render) in a child process under
// memory and time limits (app/sandbox), and publishes the child's result
// on GitHub through package publish. It never parses the repository's
// Dockerfiles itself.
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/app/baselines"
	"github.com/dockopt/dockopt/app/budget"
	"github.com/dockopt/dockopt/app/clone"
	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/leases"
	"github.com/dockopt/dockopt/app/openruns"
	"github.com/dockopt/dockopt/app/pacing"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/app/waivers"
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
	// Baselines remembers each branch's last analyzed findings; without
	// it every push is judged as a branch's first.
	Baselines BaselineStore
	// Pacer decides when new pull requests are opened; without it they
	// are opened at once.
	Pacer *pacing.Pacer
	// Queue takes the jobs the worker starts itself (the pace job).
	Queue Enqueuer
	// Recheck is the longest a waiting job sleeps (DefaultRecheck).
	Recheck time.Duration
	// Clock is the clock of the budget and the pacing (time.Now).
	Clock func() time.Time
	// Leases serialize the jobs of one branch; without it they are not
	// serialized.
	Leases *leases.Store
	// OpenRuns remembers the check runs jobs have open, so that a retry
	// completes its earlier attempt's run and none is left in progress;
	// without it nothing is remembered.
	OpenRuns OpenRunStore
	// Sandbox, when set, runs the analysis of each checkout in a child
	// process under its limits, and the worker publishes the child's
	// result; a checkout over them is reported. `dockopt-app serve` always
	// sets it; without it (unit tests) the analysis runs in process.
	Sandbox *sandbox.Runner
	// BranchWait is the first wait of a job whose branch another job is
	// working on (DefaultBranchWait).
	BranchWait time.Duration

	orgs orgConfigs
}

// BaselineStore is where the findings of each branch's last analyzed
// commit are kept (app/baselines).
type BaselineStore interface {
	Against(ctx context.Context, repo, branch, sha string) (baselines.Commit, bool, error)
	Record(ctx context.Context, repo, branch string, c baselines.Commit) error
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
	Baselines    BaselineStore
	Pacer        *pacing.Pacer
	Queue        Enqueuer
	// Pacing limits the pull requests of each installation; Budget its
	// content-creating requests. Zero values are the defaults.
	Pacing PacingLimits
	Budget BudgetLimits
	// Recheck and Clock: see Worker.
	Recheck time.Duration
	Clock   func() time.Time
	// BranchLease is how long a branch stays blocked when the job working
	// on it dies without a word (leases.DefaultTTL); BranchWait: see Worker.
	BranchLease time.Duration
	BranchWait  time.Duration
	// Sandbox: see Worker.
	Sandbox *sandbox.Runner
}

// PacingLimits are the pull requests an installation may have: MaxOpen at
// once, PerHour new ones in any hour (defaults: pacing.DefaultMaxOpen and
// pacing.DefaultPerHour).
type PacingLimits struct{ MaxOpen, PerHour int }

// BudgetLimits are the content-creating requests an installation may make
// in any hour and any minute, and the part of the hour kept for check runs
// (defaults in app/budget).
type BudgetLimits struct{ PerHour, PerMinute, Reserve int }

// New returns a worker with dockopt's rule catalog.
func New(cfg Config) *Worker {
	w := &Worker{
		GitHub:   cfg.GitHub,
		Analyzer: analyzer.New(rules.All()),
		BotLogin: cfg.BotLogin,
		Log:      cfg.Logger,
		Waivers:  cfg.Waivers,

		Baselines: cfg.Baselines,
		Pacer:     cfg.Pacer,
		Queue:     cfg.Queue,
		Recheck:   cfg.Recheck,
		Clock:     cfg.Clock,

		BranchWait: cfg.BranchWait,
		Sandbox:    cfg.Sandbox,
	}
	if cfg.BuildKitAddr != "" {
		w.Builder = &build.Builder{Addr: cfg.BuildKitAddr, Timeout: 10 * time.Minute}
	}
	return w
}

// Open makes a worker whose stores keep their tables in the queue's
// database, shared by every replica: the waivers of `/dockopt ignore`,
// each branch's last analyzed findings and its lease, the check runs
// jobs have open, each
// installation's pull-request pacing and its budget of content-creating
// requests, which every GitHub client of cfg.GitHub then spends from. The pace job is queued on q.
// `dockopt-app serve`, the demo and the tests put the App together here.
func Open(ctx context.Context, cfg Config, q *queue.Queue) (*Worker, error) {
	db := q.Database()
	ws, err := waivers.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	bs, err := baselines.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	ledger, err := budget.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	pacer, err := pacing.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	branches, err := leases.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	branches.TTL = cfg.BranchLease
	runs, err := openruns.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	if cfg.Clock != nil {
		ledger.Now, pacer.Now = cfg.Clock, cfg.Clock
	}
	b := cfg.Budget
	ledger.PerHour = cmp.Or(b.PerHour, ledger.PerHour)
	ledger.PerMinute = cmp.Or(b.PerMinute, ledger.PerMinute)
	// New pull requests may use two thirds of the hour.
	ledger.Reserve = ledger.PerHour / 3
	if b.Reserve > 0 {
		ledger.Reserve = min(b.Reserve, ledger.PerHour)
	}
	pacer.MaxOpen = cmp.Or(cfg.Pacing.MaxOpen, pacer.MaxOpen)
	pacer.PerHour = cmp.Or(cfg.Pacing.PerHour, pacer.PerHour)
	pacer.Room = func(ctx context.Context, inst int64) (int, time.Time, error) {
		units, err := ledger.Available(ctx, inst, budget.Proposals)
		if err != nil || units >= proposalCost {
			return units / proposalCost, time.Time{}, err
		}
		_, at, err := ledger.Fits(ctx, inst, proposalCost, budget.Proposals)
		return 0, at, err
	}
	if cfg.GitHub != nil {
		cfg.GitHub.Limit.Budget = ledger
	}
	cfg.Waivers, cfg.Baselines, cfg.Pacer, cfg.Queue = ws, bs, pacer, q
	w := New(cfg)
	w.Leases, w.OpenRuns = branches, runs
	return w, nil
}

// Handlers run each kind of job; give them to the queue (or the server).
// A new kind of job needs its handler added here.
func (w *Worker) Handlers() []queue.Handler {
	return []queue.Handler{
		queue.Handle(spentToSnooze(w, w.analyzePush)),
		queue.Handle(spentToSnooze(w, w.analyzeRepo)),
		queue.Handle(spentToSnooze(w, w.analyzePR)),
		queue.Handle(spentToSnooze(w, w.command)),
		queue.Handle(spentToSnooze(w, w.rerun)),
		queue.Handle(spentToSnooze(w, w.pace)),
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

// repository opens an installation's client and reads one of its
// repositories. An installation the app cannot act for fails the job for
// good.
func (w *Worker) repository(ctx context.Context, inst int64, owner, name string) (*ghclient.Installation, *github.Repository, error) {
	in, err := w.GitHub.Installation(inst)
	if err != nil {
		return nil, nil, queue.Permanent(err)
	}
	repo, _, err := in.Client.Repositories.Get(ctx, owner, name)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s/%s: %w", owner, name, err)
	}
	return in, repo, nil
}

func (w *Worker) maxRepoKB() int {
	if w.MaxRepoKB > 0 {
		return w.MaxRepoKB
	}
	return 1 << 20
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// engine analyzes the checkout in dir as req says and returns what to
// publish. With a sandbox the analysis runs in a child process under its
// limits and this process only reads the child's result: it never parses
// the repository's Dockerfiles itself. A checkout whose analysis goes over
// the memory or time budget, or kills its process, is reported as a
// *permanentError (its check run says why; the job is not retried, the
// next push tries again). Without a sandbox (unit tests) the same
// analysis runs in process.
func (w *Worker) engine(ctx context.Context, dir string, fsys fs.FS, req *sandbox.Request) (*sandbox.Result, error) {
	req.Version = sandbox.Version
	if req.ReportPath == "" {
		req.ReportPath = ReportPath
	}
	if w.Builder != nil {
		req.BuildKitAddr, req.BuildTimeout = w.Builder.Addr, w.Builder.Timeout
	}
	if w.Sandbox == nil {
		return sandbox.Analyze(ctx, dir, fsys, req)
	}
	res, err := w.Sandbox.Analyze(ctx, dir, req, sandbox.MaxResult(w.cloneMaxBytes()))
	var over *sandbox.Exceeded
	var crashed *sandbox.Crashed
	switch {
	case errors.As(err, &over) && over.Output > 0:
		w.log().Warn("analysis result over its bound", "repository", req.Title, "error", err.Error())
		return nil, &permanentError{"Analysis stopped: over its budget", fmt.Sprintf("dockopt analyzes each commit in a separate process, whose result may be at most %d MiB. ", over.Output>>20) +
			"The result of this commit's analysis was larger, so nothing was published for it. It is not retried; the next push is analyzed again. " +
			"Very large or numerous Dockerfiles are the usual cause: exclude generated ones with `ignore_paths` in `.github/dockopt.yml`."}
	case errors.As(err, &over):
		w.log().Warn("analysis over its budget", "repository", req.Title, "error", err.Error())
		what := fmt.Sprintf("more than %d MiB of memory", over.Limits.MemoryMiB)
		if !over.Memory {
			what = "longer than " + over.Limits.Timeout.String()
		}
		return nil, &permanentError{"Analysis stopped: over its budget", "dockopt analyzes each commit in a separate process with a budget of " +
			fmt.Sprintf("%d MiB and %s. ", over.Limits.MemoryMiB, over.Limits.Timeout) + "The analysis of this commit needed " + what +
			", so it was stopped and nothing was published for it." + workingOn(over.Working) + " It is not retried; the next push is analyzed again. " +
			"Very large or numerous Dockerfiles are the usual cause: exclude generated ones with `ignore_paths` in `.github/dockopt.yml`, or ask the App's operator to raise the budget."}
	case errors.As(err, &crashed):
		w.log().Warn("analysis process died", "repository", req.Title, "error", err.Error())
		return nil, &permanentError{"Analysis failed", "dockopt's analysis of this commit stopped with an error (" + crashed.State + "), so nothing was published for it." + workingOn(crashed.Working) + " It is not retried; the next push is analyzed again.\n\n```\n" +
			crashed.Detail + "\n```"}
	case err != nil:
		return nil, err
	}
	w.log().Info("analysis within its budget", "repository", req.Title, "dockerfiles", res.Dockerfiles, "elapsed_ms", res.Elapsed.Milliseconds(), "peak_rss_mib", res.PeakRSSKiB>>10, "memory_limit", res.MemoryLimit)
	return res, nil
}

// workingOn says which files a stopped analysis was working on, as a
// sentence of a check run's summary, or "" when it is not known.
func workingOn(files []sandbox.Work) string {
	if len(files) == 0 {
		return ""
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = templates.CodeSpan(f.Path) + " (" + f.Phase + ")"
	}
	return " When it was stopped it was working on " + strings.Join(quoted, ", ") + "."
}

// cloneMaxBytes is the largest checkout the worker clones.
func (w *Worker) cloneMaxBytes() int64 {
	return cmp.Or(w.Clone.MaxBytes, 512<<20)
}
