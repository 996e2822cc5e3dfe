// Package worker runs the app's jobs, one handler per kind: one job is one
// repository at one commit. It fetches the commit, runs the pure pipeline
// (analyze, patch, verify, render) and publishes the result on GitHub
// through package publish.
package worker

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/app/baselines"
	"github.com/dockopt/dockopt/app/clone"
	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/waivers"
	"github.com/dockopt/dockopt/internal/pipeline"
	"github.com/dockopt/dockopt/patcher/build"
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
}

// New returns a worker with dockopt's rule catalog.
func New(cfg Config) *Worker {
	w := &Worker{
		GitHub:   cfg.GitHub,
		Analyzer: analyzer.New(rules.All()),
		BotLogin: cfg.BotLogin,
		Log:      cfg.Logger,
		Waivers:  cfg.Waivers,

		Baselines: cfg.Baselines,
	}
	if cfg.BuildKitAddr != "" {
		w.Builder = &build.Builder{Addr: cfg.BuildKitAddr, Timeout: 10 * time.Minute}
	}
	return w
}

// Open makes a worker whose stores keep their tables in the queue's
// database, shared by every replica: the waivers of `/dockopt ignore` and
// each branch's last analyzed findings. `dockopt serve`, the demo and the
// tests put the App together here.
func Open(ctx context.Context, cfg Config, db *queue.Database) (*Worker, error) {
	ws, err := waivers.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	bs, err := baselines.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	cfg.Waivers, cfg.Baselines = ws, bs
	return New(cfg), nil
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
