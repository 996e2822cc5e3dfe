package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/pipeline"
	"github.com/dockopt/dockopt/patcher/build"
)

// analyzeOptions are the flags of `dockopt analyze`.
type analyzeOptions struct {
	format    string
	fix       bool
	out       string
	apply     string
	mode      string
	diff      bool
	config    string
	threshold string
	color     string
	buildkit  string
	compose   bool
}

// analyzeMemoryLimit is the soft memory limit of `dockopt analyze`
// (GOMEMLIMIT overrides it).
const analyzeMemoryLimit = 384 << 20

// exit codes of `dockopt analyze`.
const (
	exitClean    = 0
	exitFindings = 1
	exitUsage    = 2
)

func analyzeFlags(o *analyzeOptions, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.format, "format", "text", "output format: text, json, sarif or markdown")
	fs.BoolVar(&o.fix, "fix", false, "write the changes in place")
	fs.StringVar(&o.out, "out", "", "write changed and created files, and REPORT.md, under `DIR` (originals untouched)")
	fs.StringVar(&o.apply, "apply", "", "which fixes to apply: safe or review (both); default from config, else review")
	fs.StringVar(&o.mode, "mode", "", "in-place (rewrite Dockerfiles) or sibling (write Dockerfile.optimized next to each)")
	fs.BoolVar(&o.diff, "diff", false, "print the changes as a unified diff")
	fs.StringVar(&o.config, "config", "", "configuration `FILE` (default: .github/dockopt.yml or .dockopt.yml in the analyzed directory)")
	fs.StringVar(&o.threshold, "failure-threshold", "", "lowest severity that makes the exit code 1: error, warning, info or none (default from config, else warning)")
	fs.StringVar(&o.color, "color", "auto", "colour in text output: auto, always or never")
	fs.BoolVar(&o.compose, "harden-compose", false, "also harden the docker-compose services that build these Dockerfiles (a review change)")
	fs.StringVar(&o.buildkit, "buildkit", "", "BuildKit `ADDR` (unix:///run/buildkit/buildkitd.sock, tcp://…) to build original and optimized images")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dockopt analyze [flags] [PATH…]\n\nPATH is a directory (searched for Dockerfiles) or a Dockerfile; default \".\".\nExit status: 0 nothing at or above the failure threshold, 1 findings, 2 usage or unreadable input.\n\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

// run holds one invocation's inputs and results.
type analysisRun struct {
	opts     analyzeOptions
	analyzer *analyzer.Analyzer
	// roots are the analyzed arguments, each with its own file system.
	roots []analyzedRoot
}

type analyzedRoot struct {
	arg string
	dir string
	// root confines every read of the analyzed folder and every write of
	// --fix to it; fsys is its file system.
	root *os.Root
	fsys fs.FS
	cfg  *analyzer.Config
	// targets is the one Dockerfile named on the command line, or nil
	// for a directory.
	targets []analyzer.Target
	prefix  string
	out     *pipeline.Output
}

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o analyzeOptions
	fset := analyzeFlags(&o, stderr)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitClean
		}
		return exitUsage
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "dockopt analyze: %v\n", err)
		return exitUsage
	}
	paths := fset.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Analysis makes garbage as it goes (a model per fix tried); a
		// soft limit has the collector work harder before the heap nears
		// the 512 MiB an analysis is budgeted, rather than let it double.
		debug.SetMemoryLimit(analyzeMemoryLimit)
	}
	run := &analysisRun{opts: o, analyzer: analyzer.New(rules.All())}
	defer run.close()
	for _, p := range paths {
		root, err := run.analyzePath(p)
		if err != nil {
			if root.root != nil {
				root.root.Close()
			}
			fmt.Fprintf(stderr, "dockopt analyze: %v\n", err)
			return exitUsage
		}
		for _, w := range root.cfg.Warnings {
			fmt.Fprintf(stderr, "dockopt analyze: warning: %s\n", w)
		}
		if len(paths) > 1 {
			root.prefix = filepath.ToSlash(filepath.Clean(p))
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				root.prefix = filepath.ToSlash(filepath.Dir(filepath.Clean(p)))
			}
		}
		run.roots = append(run.roots, root)
	}
	if code, err := run.runPipeline(ctx, stderr); err != nil {
		return stopped(ctx, stderr, code, err)
	}
	if code, err := run.applyChanges(ctx, stdout, stderr); err != nil {
		return stopped(ctx, stderr, code, err)
	}
	if err := run.render(stdout, isTerminal(stdout)); err != nil {
		fmt.Fprintf(stderr, "dockopt analyze: %v\n", err)
		return exitUsage
	}
	return run.exitCode()
}

// stopped reports an error that ended the run, and the exit status. A
// run stopped by a signal (its context canceled) says so: nothing was
// written, since writing starts only after the analysis is complete.
func stopped(ctx context.Context, stderr io.Writer, code int, err error) int {
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "dockopt analyze: stopped before the analysis was complete; nothing was written")
		return exitUsage
	}
	fmt.Fprintf(stderr, "dockopt analyze: %v\n", err)
	return code
}

func (r *analysisRun) close() {
	for _, root := range r.roots {
		root.root.Close()
	}
}

func (o *analyzeOptions) validate() error {
	switch o.format {
	case "text", "json", "sarif", "markdown":
	default:
		return fmt.Errorf("unknown --format %q (want text, json, sarif or markdown)", o.format)
	}
	switch o.apply {
	case "", "safe", "review":
	default:
		return fmt.Errorf("unknown --apply %q (want safe or review)", o.apply)
	}
	switch o.mode {
	case "", "in-place", "sibling":
	default:
		return fmt.Errorf("unknown --mode %q (want in-place or sibling)", o.mode)
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("unknown --color %q (want auto, always or never)", o.color)
	}
	if o.threshold != "" && o.threshold != "none" {
		if _, err := analyzer.ParseSeverity(o.threshold); err != nil {
			return fmt.Errorf("--failure-threshold: %v", err)
		}
	}
	if o.fix && o.out != "" {
		return errors.New("--fix and --out both say where to write; choose one")
	}
	return nil
}

// analyzePath prepares the analysis of a directory or a single
// Dockerfile: its folder and configuration.
func (r *analysisRun) analyzePath(p string) (analyzedRoot, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return analyzedRoot{}, fmt.Errorf("cannot read %s: %v", p, errors.Unwrap(err))
	}
	dir := p
	if !fi.IsDir() {
		dir = filepath.Dir(p)
	}
	rt, err := os.OpenRoot(dir)
	if err != nil {
		return analyzedRoot{}, fmt.Errorf("cannot read %s: %v", p, errors.Unwrap(err))
	}
	root := analyzedRoot{arg: p, dir: dir, root: rt, fsys: rt.FS()}
	root.cfg, err = r.loadConfig(root.fsys)
	if err != nil {
		return root, err
	}
	if !fi.IsDir() {
		root.targets = []analyzer.Target{{Path: filepath.Base(p), Context: "."}}
	}
	return root, nil
}

// runPipeline analyzes every root, and patches and builds them when the
// flags ask for changes.
func (r *analysisRun) runPipeline(ctx context.Context, stderr io.Writer) (int, error) {
	for i := range r.roots {
		root := &r.roots[i]
		req := pipeline.Request{Analyzer: r.analyzer, FS: root.fsys, Dir: root.dir, Config: root.cfg, Targets: root.targets,
			Title: filepath.ToSlash(root.arg)}
		if r.needsPatch() {
			opts := pipeline.FixOptions(root.cfg)
			if r.opts.mode != "" {
				opts.Mode = r.opts.mode
			}
			opts.HardenCompose = opts.HardenCompose || r.opts.compose
			req.Fix = &opts
		}
		if req.Fix != nil && r.opts.buildkit != "" {
			req.Builder = &build.Builder{Addr: r.opts.buildkit}
			if err := req.Builder.Ping(ctx); err != nil {
				return exitUsage, fmt.Errorf("--buildkit %s: %v", r.opts.buildkit, err)
			}
			fmt.Fprintf(stderr, "dockopt: building original and optimized images on %s…\n", r.opts.buildkit)
		}
		out, err := pipeline.Run(ctx, req)
		if err != nil && root.targets == nil {
			return exitUsage, fmt.Errorf("cannot read %s: %v", root.arg, err)
		}
		if err != nil {
			return exitUsage, err
		}
		for _, rep := range out.Builds {
			if rep.Err != nil {
				return exitUsage, fmt.Errorf("building %s: %v", rep.Path, rep.Err)
			}
		}
		root.out = out
	}
	return 0, nil
}

func (r *analysisRun) loadConfig(fsys fs.FS) (*analyzer.Config, error) {
	var cfg *analyzer.Config
	var err error
	if r.opts.config != "" {
		b, rerr := os.ReadFile(r.opts.config)
		if rerr != nil {
			return nil, fmt.Errorf("--config: %v", rerr)
		}
		base := filepath.Base(r.opts.config)
		if strings.HasPrefix(base, ".hadolint") || strings.HasPrefix(base, "hadolint") {
			cfg, err = analyzer.ParseHadolintConfig(r.opts.config, b)
		} else {
			cfg, err = analyzer.ParseConfig(r.opts.config, b)
		}
	} else {
		cfg, err = analyzer.LoadConfig(fsys)
	}
	if err != nil {
		return nil, fmt.Errorf("configuration: %v", err)
	}
	if _, err := cfg.ResolveRules(r.analyzer); err != nil {
		return nil, fmt.Errorf("configuration %s: %v", strings.Join(cfg.Sources, ", "), err)
	}
	if r.opts.apply != "" {
		cfg.Fixes.Apply = analyzer.Safety(r.opts.apply)
	}
	return cfg, nil
}

// threshold returns the severity at or above which the exit code is 1, and
// false when nothing should fail.
func (r *analysisRun) threshold(cfg *analyzer.Config) (analyzer.Severity, bool) {
	switch r.opts.threshold {
	case "none":
		return 0, false
	case "":
		return cfg.Threshold(), cfg.Threshold() != analyzer.SeverityOff
	}
	s, _ := analyzer.ParseSeverity(r.opts.threshold)
	return s, s != analyzer.SeverityOff
}

func (r *analysisRun) exitCode() int {
	code := exitClean
	for _, root := range r.roots {
		limit, ok := r.threshold(root.cfg)
		if !ok {
			continue
		}
		for _, f := range root.out.Result.Files {
			if f.Error != "" && limit >= analyzer.SeverityError {
				code = exitFindings
			}
			for _, fd := range f.Findings {
				if fd.Severity <= limit {
					code = exitFindings
				}
			}
		}
	}
	return code
}

// notLeftOut is what the analysis of every root did not cover, with
// paths as they should be printed: files not read, files not analyzed
// (unread ones and Dockerfiles with an error), and limits.
type notCovered struct {
	unread  []analyzer.Skipped
	skipped []analyzer.Skipped
	limits  []analyzer.Limit
}

func (r *analysisRun) notCovered() notCovered {
	var n notCovered
	for _, root := range r.roots {
		res := root.out.Result
		for _, s := range res.Unread {
			n.unread = append(n.unread, analyzer.Skipped{Path: root.join(s.Path), Reason: s.Reason})
		}
		for _, s := range res.Skipped() {
			n.skipped = append(n.skipped, analyzer.Skipped{Path: root.join(s.Path), Reason: s.Reason})
		}
		for _, l := range res.Limits() {
			if l.Path != "" {
				l.Path = root.join(l.Path)
			} else if len(r.roots) > 1 {
				l.Message = root.arg + ": " + l.Message
			}
			n.limits = append(n.limits, l)
		}
	}
	return n
}

// files returns every file result with paths as they should be printed.
func (r *analysisRun) files() []*analyzer.FileResult {
	var out []*analyzer.FileResult
	for _, root := range r.roots {
		groups := map[*analyzer.FindingGroup]*analyzer.FindingGroup{}
		for _, f := range root.out.Result.Files {
			if root.prefix != "" && root.prefix != "." {
				cp := *f
				cp.Path = root.prefix + "/" + f.Path
				cp.Findings = append([]analyzer.Finding(nil), f.Findings...)
				for i := range cp.Findings {
					cp.Findings[i].Path = cp.Path
					if g := cp.Findings[i].Group; g != nil {
						if groups[g] == nil {
							groups[g] = g.Under(root.prefix)
						}
						cp.Findings[i].Group = groups[g]
					}
				}
				f = &cp
			}
			out = append(out, f)
		}
	}
	return out
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
