package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/cli"
	"github.com/dockopt/dockopt/internal/nonet"
	"github.com/dockopt/dockopt/internal/pipeline"
	"github.com/dockopt/dockopt/internal/rootfs"
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
	noFail    bool
	color     string
	buildkit  string
	compose   bool
	// context is the build context of a Dockerfile read from standard
	// input (PATH "-"); empty when none was given.
	context string
	// stdin is set when PATH is "-".
	stdin bool
}

// analyzeMemoryLimit is the soft memory limit of `dockopt analyze`
// (GOMEMLIMIT overrides it).
const analyzeMemoryLimit = 384 << 20

// gcHeapTarget is the heap size `dockopt analyze` lets a collection wait
// for, as long as that is more than twice what the last collection found
// live. An analysis keeps little (the findings of each file) and makes much
// short-lived garbage (syntax trees, BuildKit's conversions); with the
// default GOGC of 100 its small heap was collected every few MiB
// allocated, and the collector took a third of the CPU time of a folder's
// analysis.
//
// The target trades collections against memory first touched, and a page
// touched for the first time is not free (13 µs in the kernel of the 2-core
// VM this was first tuned on, where 14-18 MiB was best for a run that only
// analyzes). Measured again on 2026-12-04 over the 793-file benchmark
// corpus (scripts/bench-paired.sh, 15 paired rounds against 16 MiB for
// text and 24 MiB for a run that patches): 28 MiB is 9-10 % faster in wall
// time for text and 5 % for json, for 2,500 more page faults in text
// (9,800) and none in json, where the results kept dominate; peak RSS 55
// MiB for text (45 before) and 58 MiB for json (unchanged). 32 MiB was
// faster again but peaked at 62 MiB, too near the 64 MiB the benchmark
// allows. Since 2026-12-05 the heap it grows into is backed by huge pages
// (adviseHugePages), which took most of those faults away; measured again
// then, 20 MiB cost 10 % more CPU for json than 28 for 4-6 MiB less peak.
const gcHeapTarget = 28 << 20

// patchingHeapTarget is gcHeapTarget for a run that patches. Since such a
// run keeps only what its output writes of each file (pipeline.Request's
// StreamFixes and Remaining), 8 MiB live at the end of the 1,211-file
// corpus instead of 16, 24 MiB leaves the collector as much room as 28
// did: measured on 2026-12-05, a json run peaked at 59-60 MiB against
// 61-64 at 28 MiB (72 before the release), for 1.4 % more instructions
// than 28 and 5.5 % fewer than before (callgrind, one core).
const patchingHeapTarget = 24 << 20

var startGCTuner sync.Once

// tuneGC sets GOGC after every collection so that the next one comes when
// the heap reaches target, or when it has doubled if that is later: a
// small heap is collected less often, a large one (a big repository, the
// patch of every file) as with the default, and the heap peaks near
// max(target, 2 × live) either way. A finalizer on an object allocated
// anew each cycle runs once per collection.
func tuneGC(target uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := func() {
		metrics.Read(sample)
		debug.SetGCPercent(gcPercent(sample[0].Value.Uint64(), target))
	}
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
			set()
			arm()
		})
	}
	set()
	arm()
}

// gcSentinel holds a pointer so that it is not a tiny allocation (whose
// finalizer may never run).
type gcSentinel struct {
	_ *byte
	_ [8]byte
}

// gcPercent is the GOGC that puts the next collection at target, and
// never below the default 100. The runtime's goal is the larger of
// live × (1 + GOGC/100) and its 4 MiB minimum heap × GOGC/100, so both
// are kept at or under target.
func gcPercent(live, target uint64) int {
	const minHeap = 4 << 20
	live = max(live, 1<<20)
	if target <= 2*live {
		return 100
	}
	return int(max(100, min((target-live)*100/live, target*100/minHeap)))
}

// exit codes of `dockopt analyze`.
const (
	exitClean    = 0
	exitFindings = 1
	exitUsage    = 2
)

// analyzeUsage heads `dockopt analyze -h`.
const analyzeUsage = `usage: dockopt analyze [flags] [PATH…]
       dockopt analyze [flags] [--context DIR] - < Dockerfile

PATH is a directory (searched for Dockerfiles) or a Dockerfile; default ".".
PATH "-" reads one Dockerfile from standard input; --context DIR names its
build context (.dockerignore, lockfiles), else the context is taken as empty.

--fix applies the safe fixes (no change of behaviour expected) and prints the
findings that remain; --apply review also applies those a person should look at.

Exit status: 0 nothing at or above the failure threshold; 1 findings at or
above it; 2 usage errors, no Dockerfile found, or a Dockerfile that cannot be
read or parsed (empty, binary, not valid for BuildKit).
`

func analyzeFlags(o *analyzeOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.StringVar(&o.format, "format", "text", "output format: text, json, sarif or markdown")
	fs.BoolVar(&o.fix, "fix", false, "write the changes in place (safe fixes only, unless --apply review)")
	fs.StringVar(&o.out, "out", "", "write changed and created files, and REPORT.md, under `DIR` (originals untouched)")
	fs.StringVar(&o.apply, "apply", "", "which fixes to apply: safe or review (both); default safe with --fix, else from config, else review")
	fs.StringVar(&o.mode, "mode", "", "how --fix or --out writes: in-place (rewrite Dockerfiles) or sibling (write Dockerfile.optimized next to each, never touching the originals or .dockerignore)")
	fs.BoolVar(&o.diff, "diff", false, "print the changes as a unified diff (with --format json: in each change's \"diff\")")
	fs.StringVar(&o.config, "config", "", "configuration `FILE` (default: .github/dockopt.yml or .dockopt.yml in the analyzed directory)")
	fs.StringVar(&o.threshold, "failure-threshold", "", "lowest severity that makes the exit code 1: "+thresholdValues+"; as in hadolint, style is info, and ignore and none fail on any finding (default from config, else warning)")
	fs.BoolVar(&o.noFail, "no-fail", false, "exit 0 whatever the findings, as hadolint's --no-fail (2 still says a Dockerfile could not be analyzed)")
	fs.StringVar(&o.color, "color", "auto", "colour in text output: auto, always or never")
	fs.BoolVar(&o.compose, "harden-compose", false, "also harden the docker-compose services that build these Dockerfiles (a review change)")
	fs.StringVar(&o.buildkit, "buildkit", "", "BuildKit `ADDR` (unix:///run/buildkit/buildkitd.sock, tcp://…) to build original and optimized images")
	fs.StringVar(&o.context, "context", "", "build context `DIR` of the Dockerfile read from standard input (PATH -)")
	return fs
}

// thresholdValues are the values of --failure-threshold, as the help and
// every error spell them.
const thresholdValues = "error, warning, info, style, ignore or none"

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
	// rootFS is root's rootfs, which fsys reads through (with standard
	// input beside it for -); close releases both.
	rootFS rootfs.FS
	cfg    *analyzer.Config
	// targets is the one Dockerfile named on the command line, or nil
	// for a directory.
	targets []analyzer.Target
	prefix  string
	out     *pipeline.Output
	// fixed is set once --fix has written the changes; sibling when they
	// went to Dockerfile.optimized files.
	fixed, sibling bool
}

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o analyzeOptions
	fset := analyzeFlags(&o)
	if code, done := cli.Parse(fset, analyzeUsage, args, stdout, stderr); done {
		return code
	}
	paths := fset.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for _, p := range paths {
		o.stdin = o.stdin || p == "-"
	}
	if err := o.validate(len(paths)); err != nil {
		fmt.Fprintf(stderr, "dockopt analyze: %v\n", err)
		return exitUsage
	}
	if ownProcess && !build.NeedsInternet(o.buildkit) {
		// Nothing else analyze does needs the internet, and BuildKit's
		// conversion would connect to the git hosts an ADD names
		// (analyzer/gitscan.go). Where this cannot be done, conversions
		// that could connect run on a restricted thread instead, or are
		// refused.
		if err := nonet.RestrictProcess(); err != nil && runtime.GOOS == "linux" {
			fmt.Fprintf(stderr, "dockopt analyze: warning: the network stays on (%v); an ADD variable that expands to a git remote over SSH may still have its host looked up\n", err)
		}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Analysis makes garbage as it goes (a model per fix tried); a
		// soft limit has the collector work harder before the heap nears
		// the 512 MiB an analysis is budgeted, rather than let it double.
		debug.SetMemoryLimit(analyzeMemoryLimit)
	}
	run := &analysisRun{opts: o, analyzer: analyzer.New(rules.All())}
	defer run.close()
	if os.Getenv("GOGC") == "" {
		startGCTuner.Do(func() {
			target := gcHeapTarget
			if run.needsPatch() {
				target = patchingHeapTarget
			}
			adviseHugePages(target)
			tuneGC(uint64(target))
		})
	}
	for _, p := range paths {
		var root analyzedRoot
		var err error
		if p == "-" {
			root, err = run.analyzeStdin(os.Stdin, stderr)
		} else {
			root, err = run.analyzePath(p)
		}
		if err != nil {
			root.close()
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
	if err := run.foundDockerfiles(); err != nil {
		// A CI job must not go green on nothing.
		fmt.Fprintf(stderr, "dockopt analyze: %v\n", err)
		if len(fset.Args()) == 0 && !isTerminal(os.Stdin) {
			fmt.Fprintln(stderr, "dockopt analyze: standard input is read only with PATH -: dockopt analyze - < Dockerfile")
		}
		return exitUsage
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
		root.close()
	}
}

// close releases the folder's descriptors, once the run is done with it.
func (r analyzedRoot) close() {
	r.rootFS.Close()
	if r.root != nil {
		r.root.Close()
	}
}

// validate refuses values it does not know and flags that cannot work
// together, before anything is read.
func (o *analyzeOptions) validate(npaths int) error {
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
	if o.threshold != "" {
		if _, err := parseThreshold(o.threshold); err != nil {
			return err
		}
	}
	if o.fix && o.out != "" {
		return errors.New("--fix and --out both say where to write; choose one")
	}
	if o.mode != "" && !o.fix && o.out == "" {
		return fmt.Errorf("--mode %s says how --fix or --out writes, and neither was given; nothing would be written", o.mode)
	}
	if o.diff && (o.format == "sarif" || o.format == "markdown") {
		return fmt.Errorf("--diff prints a unified diff in text or in --format json, not in --format %s", o.format)
	}
	if o.context != "" && !o.stdin {
		return errors.New("--context names the build context of a Dockerfile read from standard input (PATH -); a PATH's context is its own folder")
	}
	if o.stdin {
		switch {
		case npaths > 1:
			return errors.New("- (standard input) must be the only PATH")
		case o.fix:
			return errors.New("--fix cannot write back to standard input; --diff shows the changes")
		case o.out != "":
			return errors.New("--out cannot name the files of a Dockerfile read from standard input; --diff shows the changes")
		case o.buildkit != "":
			return errors.New("--buildkit builds from a folder on disk; give the Dockerfile's PATH, not -")
		case o.compose:
			return errors.New("--harden-compose needs the compose files of a folder; give its PATH, not -")
		}
	}
	return nil
}

// parseThreshold reads a --failure-threshold value the way hadolint does,
// so that a flag copied from a hadolint job keeps its meaning: style is
// info, and ignore and none sit below every severity, so any finding
// fails (as failure-threshold in .hadolint.yaml does here). --no-fail is
// how nothing fails.
func parseThreshold(s string) (sev analyzer.Severity, err error) {
	switch strings.ToLower(s) {
	case "error", "warning", "info", "style":
		sev, _ = analyzer.ParseSeverity(s)
		return sev, nil
	case "ignore", "none":
		return analyzer.SeverityInfo, nil
	}
	return 0, fmt.Errorf("unknown --failure-threshold %q (want %s)", s, thresholdValues)
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
	rfs := rootfs.New(rt)
	root := analyzedRoot{arg: p, dir: dir, root: rt, fsys: rfs, rootFS: rfs}
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
			// JSON reports findings and changes, which outlive the
			// models; the report (REPORT.md with --out) reads them.
			req.StreamFixes = r.opts.format == "json" && r.opts.out == ""
			// --fix reports the findings that remain in what it wrote.
			req.Remaining = r.opts.fix
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
	switch {
	case r.opts.apply != "":
		cfg.Fixes.Apply = analyzer.Safety(r.opts.apply)
	case r.opts.fix:
		// Writing in place, only what changes no behaviour, unless asked.
		cfg.Fixes.Apply = analyzer.Safe
	}
	return cfg, nil
}

// threshold returns the severity at or above which the exit code is 1, and
// false when nothing should fail.
func (r *analysisRun) threshold(cfg *analyzer.Config) (analyzer.Severity, bool) {
	if r.opts.noFail {
		return 0, false
	}
	if r.opts.threshold == "" {
		return cfg.Threshold(), cfg.Threshold() != analyzer.SeverityOff
	}
	s, _ := parseThreshold(r.opts.threshold)
	return s, s != analyzer.SeverityOff
}

// exitCode is 2 when a Dockerfile could not be read or parsed, whatever
// the threshold; else 1 when a finding that remains is at or above it. A
// template need not read as a Dockerfile: BuildKit never reads it.
func (r *analysisRun) exitCode() int {
	code := exitClean
	for _, root := range r.roots {
		for _, f := range root.reported() {
			if f.Error != "" && !f.Template {
				return exitUsage
			}
		}
	}
	for _, root := range r.roots {
		limit, ok := r.threshold(root.cfg)
		if !ok {
			continue
		}
		for _, f := range root.reported() {
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
		for _, f := range root.reported() {
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

// foundDockerfiles returns an error naming the first PATH in which no
// Dockerfile was found.
func (r *analysisRun) foundDockerfiles() error {
	for _, root := range r.roots {
		if len(root.out.Result.Files) == 0 && len(root.out.Result.Unread) == 0 {
			return fmt.Errorf("no Dockerfile found in %s (looked for Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile)", root.arg)
		}
	}
	return nil
}

// reported is what a run reports for a root: the analysis of each
// Dockerfile, or after --fix wrote, the analysis of what was written,
// so that the findings shown are those that remain.
func (root *analyzedRoot) reported() []*analyzer.FileResult {
	if !root.fixed || root.out.Patch == nil {
		return root.out.Result.Files
	}
	after := map[string]*analyzer.FileResult{}
	for _, pf := range root.out.Patch.Files {
		if pf.After != nil && !bytes.Equal(pf.Original, pf.Patched) {
			after[pf.Path] = pf.After
		}
	}
	out := make([]*analyzer.FileResult, 0, len(root.out.Result.Files))
	for _, f := range root.out.Result.Files {
		a, ok := after[f.Path]
		if !ok {
			out = append(out, f)
			continue
		}
		cp := *a
		cp.Path, cp.Context = f.Path, f.Context
		if root.sibling {
			// The original is untouched; what remains is in its sibling.
			cp.Path = f.Path + ".optimized"
		}
		cp.Findings = append([]analyzer.Finding(nil), a.Findings...)
		for i := range cp.Findings {
			cp.Findings[i].Path = cp.Path
		}
		out = append(out, &cp)
	}
	return out
}
