// Package pipeline runs dockopt's engine over one folder from start to
// end: analyze, patch, build the original and the optimized Dockerfiles
// when a builder is given, and gather what the report templates render.
// `dockopt analyze` and the GitHub App's worker both call Run, so what a
// person sees on the command line and on a pull request cannot drift
// apart. Nothing here talks to GitHub or writes files.
package pipeline

import (
	"context"
	"io/fs"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/patcher/build"
	"github.com/dockopt/dockopt/templates"
)

// Request is one run over one folder.
type Request struct {
	Analyzer *analyzer.Analyzer
	// FS is the folder the analyzer and patcher read; Dir is the same
	// folder on disk, where BuildKit reads the build contexts.
	FS  fs.FS
	Dir string
	// Config is the folder's configuration, rules already resolved.
	Config *analyzer.Config
	// Targets, when set, are the Dockerfiles to analyze; otherwise every
	// Dockerfile under FS is found and analyzed.
	Targets []analyzer.Target
	// Fix, when set, patches the findings with these options; nil stops
	// after the analysis, which then keeps only what it reports of each
	// file, not its syntax model (analyzer.Configured.ReleasingModels).
	Fix *patcher.Options
	// Builder, when set, builds every Dockerfile the patch changes, before
	// and after.
	Builder *build.Builder
	// Title names the folder in the report ("acme/shop", "examples/monorepo").
	Title string
	// StreamFixes, with Fix, patches each file as soon as its analysis
	// is done and then lets go of its syntax models, the original's and
	// the patched version's, instead of holding every file's until all are
	// patched: for a caller that reads the findings and the changes (JSON
	// output) but not the report, whose templates read the models; the
	// patched version's File.After keeps its findings, not its Dockerfile.
	// It is ignored with a Builder or compose hardening, which read them
	// after the patch.
	StreamFixes bool
	// Remaining, with StreamFixes, keeps the findings of each patched
	// version (File.After), for a caller that reports what remains after
	// the fixes (--fix); without it File.After is dropped once its file is
	// patched, since the changes and the fixes not applied are all the
	// JSON output writes of a patch.
	Remaining bool
}

// Output is what a run found and changed.
type Output struct {
	Result *analyzer.Result
	// Patch is nil when the request asked for no fixes.
	Patch *patcher.Result
	// Builds has one report per changed Dockerfile when a builder was
	// given; a report whose Err is set means the builder could not be used.
	Builds []patcher.BuildReport
	// Report is the input of the report, pull-request body and check-run
	// templates. Callers add what only they know: the waivers in force,
	// where the optimized files were written.
	Report templates.Input
}

// FixOptions are the patch options a folder's configuration asks for.
func FixOptions(cfg *analyzer.Config) patcher.Options {
	opts := patcher.Options{Apply: cfg.Fixes.Apply, HardenCompose: cfg.Compose.Harden}
	if cfg.Output.Mode == "sibling" {
		opts.Mode = "sibling"
	}
	return opts
}

// Run analyzes, patches and builds as the request says. The error is the
// analysis's: the folder cannot be read, or the configuration cannot be
// used; or ctx's, when it is canceled before the run ends. Builds that
// fail are reported in Output.Builds, not returned.
func Run(ctx context.Context, r Request) (*Output, error) {
	out := &Output{}
	c, err := r.Analyzer.Configure(r.Config)
	if err != nil {
		return nil, err
	}
	stream := r.Fix != nil && r.StreamFixes && r.Builder == nil && !r.Fix.HardenCompose
	if r.Fix == nil || stream {
		// Nothing will patch these files after their analysis: their
		// models need not outlive it.
		c = c.ReleasingModels()
	}
	var patches *patcher.Stream
	if stream {
		patches = patcher.NewStream(r.Analyzer, r.Config, *r.Fix)
		c = c.Each(func(i int, fr *analyzer.FileResult) error {
			f, err := patches.Add(ctx, i, fr)
			if f != nil && f.After != nil && f.After != f.Before {
				// The patched version is reported by its findings, if
				// at all, and by its bytes (File.Patched): its
				// instructions, which a released model keeps for the
				// report, go (a tenth of the corpus's peak memory).
				if r.Remaining {
					f.After.ReleaseAllButFindings()
					f.After.Dockerfile = nil
				} else {
					f.After = nil
				}
			}
			if f != nil {
				// A streamed run builds nothing, so the patch of this
				// file is final: the findings take the rewrite's note
				// now, and its account, which only the report reads,
				// goes.
				f.NoteRewrite()
				f.Rewrite = nil
			}
			// Every file is done with once patched, the original too:
			// a run that streams renders no report.
			fr.ReleaseAllButFindings()
			return err
		})
	}
	if r.Targets != nil {
		out.Result, err = c.AnalyzeTargets(ctx, r.FS, r.Targets)
	} else {
		out.Result, err = c.Analyze(ctx, r.FS, ".")
	}
	if err != nil {
		return nil, err
	}
	if stream {
		out.Patch = patches.Result(r.FS)
	} else if r.Fix != nil {
		out.Patch, err = patcher.Patch(ctx, r.Analyzer, r.FS, out.Result, r.Config, *r.Fix)
		if err != nil {
			return nil, err
		}
		if r.Builder != nil {
			out.Builds = patcher.VerifyBuilds(ctx, r.Builder, r.Dir, r.Analyzer, out.Patch, r.Config, *r.Fix)
			if err := ctx.Err(); err != nil {
				// Builds cut short are no verdict on the fixes.
				return nil, err
			}
		}
	}
	// The findings are final only now that the patch is.
	out.Patch.NoteRewrites()
	out.Report = templates.Input{
		Title:    r.Title,
		Analyzer: r.Analyzer,
		Result:   out.Result,
		Patch:    out.Patch,
		Policy:   r.Config.Fixes.Apply,
		Builds:   measured(out.Builds),
	}
	return out, nil
}

// measured converts the builds that ran for the templates, keyed by
// Dockerfile path.
func measured(reports []patcher.BuildReport) map[string]templates.BuildPair {
	var out map[string]templates.BuildPair
	for _, r := range reports {
		if r.Err != nil {
			continue
		}
		if out == nil {
			out = map[string]templates.BuildPair{}
		}
		out[r.Path] = templates.BuildPairOf(r)
	}
	return out
}
