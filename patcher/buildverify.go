package patcher

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/rootfs"
	"github.com/dockopt/dockopt/patcher/build"
)

// BuildReport is the real build of one Dockerfile before and after, and
// what starting each image showed.
type BuildReport struct {
	Path      string
	Original  build.Result
	Optimized build.Result
	// Rejected is the optimized image with every fix, when it did not
	// build, start or become healthy where the original did, so fixes
	// were dropped; Optimized is then what remains.
	Rejected *build.Result
	// Retried says how the patch was narrowed, if it was.
	Retried string
	// Err is set when the builder could not be used at all.
	Err error
}

// maxContextCopy bounds the build context dockopt copies to build the
// optimized variant next to the generated files.
const maxContextCopy = 512 << 20

// VerifyBuilds builds the original and optimized version of every changed
// Dockerfile of res, whose build contexts are under rootDir on disk, and
// starts each image (see build.SmokeOptions). When the optimized image
// fails to build, to start or to become healthy where the original did,
// the file is patched again without review fixes; if that still fails,
// the remaining fixes are narrowed down one rule at a time until it
// passes, so that no change that breaks a build or a start is proposed.
// When the original itself does not start, starting proves nothing and
// no fix is blamed for it. res is updated in place.
func VerifyBuilds(ctx context.Context, b *build.Builder, rootDir string, a *analyzer.Analyzer, res *Result, cfg *analyzer.Config, opts Options) []BuildReport {
	opts = opts.withDefaults()
	// The builder resolves a relative Dockerfile against its context.
	if abs, err := filepath.Abs(rootDir); err == nil {
		rootDir = abs
	}
	var reports []BuildReport
	for i, f := range res.Files {
		if !f.Changed() {
			continue
		}
		rep := BuildReport{Path: f.Path}
		contextDir := f.Before.Context
		if contextDir == "" {
			contextDir = path.Dir(f.Path)
		}
		v := newVerifier(ctx, b, rootDir, contextDir)
		orig, err := v.build(build.Request{ContextDir: filepath.Join(rootDir, contextDir), Dockerfile: filepath.Join(rootDir, f.Path)})
		if err != nil {
			rep.Err = err
			reports = append(reports, rep)
			continue
		}
		rep.Original = orig
		v.built[variantKey(f.Original, nil)] = orig
		opt, err := v.buildPatched(f)
		if err != nil {
			rep.Err = err
			reports = append(reports, rep)
			continue
		}
		rep.Optimized = opt
		if failed := compare(orig, opt); orig.OK && failed != nil {
			rejected := opt
			rep.Rejected = &rejected
			nf, nres, how := v.narrow(a, f, cfg, opts, orig, failed)
			res.Files[i] = nf
			rep.Optimized, rep.Retried = nres, how
		}
		reports = append(reports, rep)
	}
	res.Changes = changesFromDisk(rootDir, res.Files, opts)
	return reports
}

// failure is why a candidate image is worse than the original.
type failure struct {
	// reason is the Dropped reason of the fixes it held.
	reason string
	// what completes "the optimized image … with them".
	what string
}

var (
	failedBuild     = &failure{ReasonBuildFailure, "did not build"}
	failedStart     = &failure{ReasonStartFailure, "did not start"}
	failedHealth    = &failure{ReasonUnhealthy, "did not become healthy"}
	failedUnchecked = &failure{ReasonStartUnchecked, "could not be started to check it"}
)

// compare says how cand is worse than orig, or nil. Starting is compared
// only when the original started: an image that needs a database or
// arguments fails alike with or without any fix. A health check that
// never passes counts against cand when the original either passed its
// own or had none, since a fix may be what added it. A health check that
// could not be probed at all (no busybox for the driver) is not held
// against a fix: it is reported as not checked.
func compare(orig, cand build.Result) *failure {
	o, c := orig.Smoke, cand.Smoke
	switch {
	case !cand.OK:
		return failedBuild
	case !o.Ran || !o.Started:
		return nil
	case !c.Ran:
		return failedUnchecked
	case !c.Started:
		return failedStart
	case c.Healthcheck && !c.Healthy && c.HealthSkipped == "" && (!o.Healthcheck || o.Healthy):
		return failedHealth
	}
	return nil
}

// verifier builds and starts one Dockerfile's variants within the
// per-file smoke budget.
type verifier struct {
	ctx                 context.Context
	b                   *build.Builder
	rootDir, contextDir string
	smoke               build.SmokeOptions
	// left is what remains of the per-file smoke budget. A run is started
	// only when a whole run still fits, so none is cut short and judged
	// on less time than the others.
	left time.Duration
	// built holds the result of every variant built so far, by content:
	// narrowing meets the same variant again (a safe-only patch with no
	// review fix in it, a candidate that leaves every fix out).
	built map[[sha256.Size]byte]build.Result
}

// variantKey identifies a variant by the files it proposes.
func variantKey(dockerfile []byte, generated []analyzer.GeneratedFile) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s", len(dockerfile), dockerfile)
	for _, g := range generated {
		fmt.Fprintf(h, "%d\x00%s%d\x00%s%d\x00%s", len(g.Path), g.Path, len(g.Merge), g.Merge, len(g.Content), g.Content)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func newVerifier(ctx context.Context, b *build.Builder, rootDir, contextDir string) *verifier {
	smoke := b.Smoke.WithDefaults()
	return &verifier{ctx: ctx, b: b, rootDir: rootDir, contextDir: contextDir, smoke: smoke, left: smoke.PerFile,
		built: map[[sha256.Size]byte]build.Result{}}
}

// build builds req from scratch and starts the image while the budget
// lasts.
func (v *verifier) build(req build.Request) (build.Result, error) {
	req.NoCache = true
	req.Smoke = !v.smoke.Off && v.left >= v.smoke.Timeout
	r, err := v.b.Build(v.ctx, req)
	v.left -= r.Smoke.Duration
	if r.OK && !req.Smoke && !v.smoke.Off {
		r.Smoke.Skipped = fmt.Sprintf("the %s of smoke runs allowed per Dockerfile were spent", v.smoke.PerFile)
	}
	return r, err
}

// narrow re-patches f with fewer fixes until the optimized image is no
// worse than orig. failed is why the full patch was rejected.
func (v *verifier) narrow(a *analyzer.Analyzer, f *File, cfg *analyzer.Config, opts Options, orig build.Result, failed *failure) (*File, build.Result, string) {
	// why records, per fix, the failure of the last candidate that held
	// it before a narrower one left it out.
	why := map[string]*failure{}
	blame := func(rejected, next *File, fl *failure) {
		kept := appliedKeys(next)
		for _, ap := range rejected.Applied {
			if k := ap.Rule + "\x00" + ap.Message; !kept[k] && why[k] == nil {
				why[k] = fl
			}
		}
	}
	safeOnly := opts
	safeOnly.Apply = analyzer.Safe
	nf, err := PatchFile(v.ctx, a, f.Before, cfg, safeOnly)
	if err != nil {
		return f, orig, err.Error() // canceled: the caller returns ctx's error
	}
	blame(f, nf, failed)
	r, err := v.buildPatched(nf)
	if fl := compare(orig, r); err == nil && fl == nil {
		markDropped(nf, f, why, failed)
		return nf, r, narrowed(nf, "review fixes", failed)
	} else if err == nil {
		failed = fl
	}
	// Still failing. Usually one rule is to blame: leave each out alone,
	// first applied first, so the others' fixes are kept, review fixes
	// included when they pass without it.
	withSkip := func(base Options, rules ...string) Options {
		o := base
		o.Skip = map[string]bool{}
		for rule, on := range opts.Skip {
			o.Skip[rule] = on
		}
		for _, rule := range rules {
			o.Skip[rule] = true
		}
		return o
	}
	safeFailed := failed
	tried := map[string]bool{}
	for _, ap := range nf.Applied {
		if tried[ap.Rule] || opts.Skip[ap.Rule] {
			continue
		}
		tried[ap.Rule] = true
		cand, err := PatchFile(v.ctx, a, f.Before, cfg, withSkip(safeOnly, ap.Rule))
		if err != nil {
			return f, orig, err.Error()
		}
		r, err := v.buildPatched(cand)
		if fl := compare(orig, r); err != nil || fl != nil {
			continue
		}
		// The review fixes were dropped with the culprit, not for
		// themselves: try them again without it.
		full, err := PatchFile(v.ctx, a, f.Before, cfg, withSkip(opts, ap.Rule))
		if err != nil {
			return f, orig, err.Error()
		}
		if rf, err := v.buildPatched(full); err == nil && compare(orig, rf) == nil {
			clear(why)
			blame(f, full, safeFailed)
			markDropped(full, f, why, safeFailed)
			return full, rf, narrowed(full, "fixes of "+ap.Rule, safeFailed)
		}
		blame(nf, cand, safeFailed)
		markDropped(cand, f, why, safeFailed)
		return cand, r, narrowed(cand, "fixes of "+ap.Rule, safeFailed)
	}
	// More than one is: drop rules cumulatively, first applied first.
	skip := map[string]bool{}
	for rule, on := range opts.Skip {
		skip[rule] = on
	}
	current := nf
	for _, ap := range nf.Applied {
		if skip[ap.Rule] {
			continue
		}
		skip[ap.Rule] = true
		o := safeOnly
		o.Skip = skip
		cand, err := PatchFile(v.ctx, a, f.Before, cfg, o)
		if err != nil {
			return f, orig, err.Error()
		}
		blame(current, cand, failed)
		r, err := v.buildPatched(cand)
		fl := compare(orig, r)
		if err == nil && fl == nil {
			markDropped(cand, f, why, failed)
			return cand, r, narrowed(cand, "fixes of "+strings.Join(keys(skip), ", "), failed)
		}
		if err == nil {
			failed = fl
		}
		current = cand
	}
	current.Patched, current.After = current.Original, current.Before
	current.Generated, current.Applied, current.Rewrite = nil, nil, nil
	markDropped(current, f, why, failed) // nothing is kept: every fix of the failed patch is dropped
	// What is proposed is the original, as it was built and started.
	return current, orig, "every fix dropped: the optimized image " + failed.what
}

// narrowed says what narrowing kept out of nf and why.
func narrowed(nf *File, what string, failed *failure) string {
	if !nf.Changed() {
		return "every fix dropped: the optimized image " + failed.what
	}
	return what + " dropped: the optimized image " + failed.what + " with them"
}

func appliedKeys(f *File) map[string]bool {
	kept := map[string]bool{}
	for _, a := range f.Applied {
		kept[a.Rule+"\x00"+a.Message] = true
	}
	return kept
}

// markDropped records, on nf, the fixes of failed that nf no longer
// applies, each with the failure of the last candidate that held it.
func markDropped(nf, failed *File, why map[string]*failure, last *failure) {
	kept := appliedKeys(nf)
	// Narrower candidates are patched safe-only, so they record the
	// review fixes as dropped by policy; the policy did allow them, and
	// the real reason follows.
	wasApplied := appliedKeys(failed)
	own := nf.Dropped[:0]
	for _, d := range nf.Dropped {
		if !wasApplied[d.Rule+"\x00"+d.Message] {
			own = append(own, d)
		}
	}
	nf.Dropped = own
	for _, a := range failed.Applied {
		k := a.Rule + "\x00" + a.Message
		if kept[k] {
			continue
		}
		fl := why[k]
		if fl == nil {
			fl = last
		}
		nf.Dropped = append(nf.Dropped, Dropped{Rule: a.Rule, Message: a.Message, Safety: a.Safety, Line: a.Line, Reason: fl.reason})
	}
}

// keys lists the set members of m in order, for a stable message.
func keys(m map[string]bool) []string {
	var out []string
	for k, on := range m {
		if on {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// buildPatched builds the patched Dockerfile in a copy of its context that
// also holds the files the fixes generate.
func (v *verifier) buildPatched(f *File) (build.Result, error) {
	key := variantKey(f.Patched, f.Generated)
	if r, ok := v.built[key]; ok {
		return r, nil
	}
	r, err := v.buildVariant(f)
	if err == nil {
		v.built[key] = r
	}
	return r, err
}

func (v *verifier) buildVariant(f *File) (build.Result, error) {
	rootDir, contextDir := v.rootDir, v.contextDir
	tmp, err := os.MkdirTemp("", "dockopt-build-")
	if err != nil {
		return build.Result{}, err
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(filepath.Join(rootDir, contextDir), tmp, maxContextCopy); err != nil {
		return build.Result{}, fmt.Errorf("copying the build context: %w", err)
	}
	for _, g := range f.Generated {
		rel, ok := strings.CutPrefix(g.Path, contextDir+"/")
		if contextDir == "." {
			rel, ok = g.Path, true
		}
		if !ok {
			continue
		}
		dst := filepath.Join(tmp, filepath.FromSlash(rel))
		existing, _ := os.ReadFile(dst)
		content := g.Content
		if g.Merge == "append-lines" && existing != nil {
			content = analyzer.AppendMissingLines(string(existing), g.Content)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return build.Result{}, err
		}
		if err := os.WriteFile(dst, []byte(content), 0o644); err != nil {
			return build.Result{}, err
		}
	}
	df := filepath.Join(tmp, ".dockopt.Dockerfile")
	if err := os.WriteFile(df, f.Patched, 0o644); err != nil {
		return build.Result{}, err
	}
	return v.build(build.Request{ContextDir: tmp, Dockerfile: df})
}

// copyTree copies a folder, refusing to copy more than limit bytes and
// skipping symlinks, which a hostile repository could point anywhere.
func copyTree(src, dst string, limit int64) error {
	var total int64
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		if total > limit {
			return fmt.Errorf("build context is larger than %d MB", limit>>20)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// changesFromDisk is changes, reading the files the fixes merge into from
// rootDir as the analysis read it: through an os.Root (no link out of the
// folder is followed) and non-blocking (a FIFO is refused, not waited on).
func changesFromDisk(rootDir string, files []*File, opts Options) []Change {
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return changes(unreadableFS{err}, files, opts)
	}
	defer root.Close()
	fsys := rootfs.New(root)
	defer fsys.Close()
	return changes(fsys, files, opts)
}

// unreadableFS is a folder that cannot be opened: every read fails with err.
type unreadableFS struct{ err error }

func (u unreadableFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: u.err}
}
