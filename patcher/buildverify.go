package patcher

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/patcher/build"
)

// BuildReport is the real build of one Dockerfile before and after.
type BuildReport struct {
	Path      string
	Original  build.Result
	Optimized build.Result
	// Retried says how the patch was narrowed to make it build, if it was.
	Retried string
	// Err is set when the builder could not be used at all.
	Err error
}

// maxContextCopy bounds the build context dockopt copies to build the
// optimized variant next to the generated files.
const maxContextCopy = 512 << 20

// VerifyBuilds builds the original and optimized version of every changed
// Dockerfile of res, whose build contexts are under rootDir on disk. When the
// optimized build fails where the original builds, the file is patched again
// without review fixes; if that still fails, the remaining fixes are
// narrowed down one rule at a time until it builds, so that no change that
// breaks a build is proposed. res is updated in place.
func VerifyBuilds(ctx context.Context, b *build.Builder, rootDir string, a *analyzer.Analyzer, res *Result, cfg *analyzer.Config, opts Options) []BuildReport {
	opts = opts.withDefaults()
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
		orig, err := b.Build(ctx, build.Request{ContextDir: filepath.Join(rootDir, contextDir), Dockerfile: filepath.Join(rootDir, f.Path), NoCache: true})
		if err != nil {
			rep.Err = err
			reports = append(reports, rep)
			continue
		}
		rep.Original = orig
		opt, err := buildPatched(ctx, b, rootDir, contextDir, f)
		if err != nil {
			rep.Err = err
			reports = append(reports, rep)
			continue
		}
		rep.Optimized = opt
		if orig.OK && !opt.OK {
			nf, nres, how := narrow(ctx, b, rootDir, contextDir, a, f, cfg, opts)
			if nf != nil {
				res.Files[i] = nf
				rep.Optimized, rep.Retried = nres, how
			}
		}
		reports = append(reports, rep)
	}
	res.Changes = changesFromDisk(rootDir, res.Files, opts)
	return reports
}

// narrow re-patches f with fewer fixes until the optimized image builds.
func narrow(ctx context.Context, b *build.Builder, rootDir, contextDir string, a *analyzer.Analyzer, f *File, cfg *analyzer.Config, opts Options) (*File, build.Result, string) {
	failed := f
	safeOnly := opts
	safeOnly.Apply = analyzer.Safe
	nf := PatchFile(a, f.Before, cfg, safeOnly)
	if r, err := buildPatched(ctx, b, rootDir, contextDir, nf); err == nil && r.OK {
		markDropped(nf, failed)
		return nf, r, "review fixes dropped: the optimized image did not build with them"
	}
	// Still failing: drop rules one at a time, first applied first.
	skip := map[string]bool{}
	for k, v := range opts.Skip {
		skip[k] = v
	}
	current := nf
	for _, ap := range nf.Applied {
		if skip[ap.Rule] {
			continue
		}
		skip[ap.Rule] = true
		o := safeOnly
		o.Skip = skip
		cand := PatchFile(a, f.Before, cfg, o)
		if r, err := buildPatched(ctx, b, rootDir, contextDir, cand); err == nil && r.OK {
			markDropped(cand, failed)
			return cand, r, fmt.Sprintf("fixes of %s dropped: the optimized image did not build with them", strings.Join(keys(skip), ", "))
		}
		current = cand
	}
	current.Patched, current.After = current.Original, current.Before
	current.Generated, current.Applied, current.Rewrite = nil, nil, nil
	markDropped(current, failed) // nothing is kept: every fix of the failed patch is dropped
	return current, build.Result{}, "every fix dropped: the optimized image did not build"
}

// markDropped records, on nf, the fixes of failed that nf no longer applies.
func markDropped(nf, failed *File) {
	kept := map[string]bool{}
	for _, a := range nf.Applied {
		kept[a.Rule+"\x00"+a.Message] = true
	}
	for _, a := range failed.Applied {
		if !kept[a.Rule+"\x00"+a.Message] {
			nf.Dropped = append(nf.Dropped, Dropped{Rule: a.Rule, Message: a.Message, Safety: a.Safety, Line: a.Line, Reason: ReasonBuildFailure})
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	return out
}

// buildPatched builds the patched Dockerfile in a copy of its context that
// also holds the files the fixes generate.
func buildPatched(ctx context.Context, b *build.Builder, rootDir, contextDir string, f *File) (build.Result, error) {
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
	return b.Build(ctx, build.Request{ContextDir: tmp, Dockerfile: df, NoCache: true})
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

func changesFromDisk(rootDir string, files []*File, opts Options) []Change {
	return changes(os.DirFS(rootDir), files, opts)
}
