package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockopt/dockopt/internal/cli"
	"github.com/dockopt/dockopt/patcher/build"
	"github.com/dockopt/dockopt/templates"
)

// needsPatch reports whether this invocation shows or writes changes.
func (r *analysisRun) needsPatch() bool {
	o := r.opts
	return o.fix || o.out != "" || o.diff || o.format == "json" || o.format == "markdown" || o.buildkit != ""
}

// applyChanges writes or prints the patches as the flags ask. Every write
// is checked before the first one is made (see write.go).
func (r *analysisRun) applyChanges(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	if !r.needsPatch() {
		return 0, nil
	}
	if r.opts.diff && r.opts.format == "text" {
		for _, root := range r.roots {
			for _, c := range root.out.Patch.Changes {
				fmt.Fprint(stdout, unifiedDiff(root.join(c.Path), c.Original, c.Content))
			}
		}
		// The diff is all stdout shows: a file that could not be
		// analyzed, which fails the run, must say so somewhere.
		for _, root := range r.roots {
			for _, f := range root.reported() {
				if f.Error != "" && !f.Template {
					fmt.Fprintf(stderr, "dockopt analyze: %s: %s\n", root.join(f.Path), f.Error)
				}
			}
		}
	}
	var plans []plannedWrite
	var outputs []outputFile
	switch {
	case r.opts.fix:
		for _, root := range r.roots {
			for _, c := range root.out.Patch.Changes {
				pw, err := planWrite(root.root, c.Path, c.Content, root.join(c.Path))
				if err != nil {
					return exitUsage, err
				}
				plans = append(plans, pw)
			}
		}
	case r.opts.out != "":
		for _, root := range r.roots {
			for _, c := range root.out.Patch.Changes {
				outputs = append(outputs, outputFile{path: root.join(c.Path), content: c.Content})
			}
		}
		report, err := r.markdownReport()
		if err != nil {
			return exitUsage, err
		}
		outputs = append(outputs, outputFile{path: "REPORT.md", content: []byte(report)})
		for i, o := range outputs {
			if outputs[i].rel, err = underOut(r.opts.out, o.path); err != nil {
				return exitUsage, err
			}
		}
	default:
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return exitUsage, err
	}
	// From here on the results are written whole, even if a signal comes.
	cli.Writing.Lock()
	defer cli.Writing.Unlock()
	if r.opts.out != "" {
		outRoot, outPlans, err := planOut(r.opts.out, outputs)
		if err != nil {
			return exitUsage, err
		}
		defer outRoot.Close()
		plans = outPlans
	}
	if err := writePlanned(plans); err != nil {
		return exitUsage, err
	}
	if r.opts.fix {
		for i := range r.roots {
			root := &r.roots[i]
			root.fixed = true
			root.sibling = r.sibling(root)
			fmt.Fprintf(stderr, "dockopt: wrote %s under %s\n", cli.Plural(len(root.out.Patch.Changes), "file"), root.dir)
		}
	} else {
		fmt.Fprintf(stderr, "dockopt: wrote %s and REPORT.md under %s\n", cli.Plural(len(plans)-1, "changed file"), r.opts.out)
	}
	return 0, nil
}

// outputFile is one file --out writes: its path as shown, and under the
// output folder.
type outputFile struct {
	path, rel string
	content   []byte
}

// planOut creates the output folder and checks each file's path in it;
// the plans write through the root it returns.
func planOut(out string, outputs []outputFile) (*os.Root, []plannedWrite, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, fmt.Errorf("--out: %v", err)
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		return nil, nil, fmt.Errorf("--out: %v", err)
	}
	var plans []plannedWrite
	for _, o := range outputs {
		pw, err := planWrite(root, o.rel, o.content, filepath.Join(out, o.rel))
		if err != nil {
			root.Close()
			return nil, nil, err
		}
		plans = append(plans, pw)
	}
	return root, plans, nil
}

// sibling reports whether root's changes go next to the originals.
func (r *analysisRun) sibling(root *analyzedRoot) bool {
	if r.opts.mode != "" {
		return r.opts.mode == "sibling"
	}
	return root.cfg.Output.Mode == "sibling"
}

// join prefixes a root-relative path for output when several roots were given.
func (root analyzedRoot) join(p string) string {
	if root.prefix == "" || root.prefix == "." {
		return p
	}
	return root.prefix + "/" + p
}

// notApplied lists, by the path each file is reported under, the fixes
// the patch left out of it and why, as REPORT.md does under "Not applied":
// without it a finding's "fix" would read as applied when the patch
// dropped it (a health check that needs curl keeps the full base image).
func (r *analysisRun) notApplied() map[string][]jsonNotApplied {
	out := map[string][]jsonNotApplied{}
	for _, root := range r.roots {
		if root.out.Patch == nil {
			continue
		}
		for _, pf := range root.out.Patch.Files {
			if len(pf.Dropped) == 0 {
				continue
			}
			path := root.join(pf.Path)
			if root.fixed && root.sibling && !bytes.Equal(pf.Original, pf.Patched) {
				path += ".optimized"
			}
			for _, d := range pf.Dropped {
				out[path] = append(out[path], jsonNotApplied{Rule: d.Rule, Line: d.Line, Safety: string(d.Safety), Message: d.Message, Reason: d.Reason})
			}
		}
	}
	return out
}

// jsonChanges lists the files the patch would write.
func (r *analysisRun) jsonChanges() []jsonChange {
	var out []jsonChange
	for _, root := range r.roots {
		if root.out.Patch == nil {
			continue
		}
		for _, c := range root.out.Patch.Changes {
			jc := jsonChange{Path: root.join(c.Path), Action: c.Action}
			if r.opts.diff {
				jc.Diff = unifiedDiff(jc.Path, c.Original, c.Content)
			}
			out = append(out, jc)
		}
	}
	return out
}

func (r *analysisRun) render(w io.Writer, tty bool) error {
	files := r.files()
	switch r.opts.format {
	case "json":
		return writeJSON(w, files, r.notApplied(), r.jsonChanges(), r.jsonBuilds(), r.notCovered())
	case "sarif":
		return writeSARIF(w, r.analyzer.Rules(), files, r.notCovered())
	case "markdown":
		report, err := r.markdownReport()
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, report)
		return err
	}
	if r.opts.diff && r.opts.format == "text" {
		return nil
	}
	return writeText(w, files, r.notApplied(), r.notCovered(), r.figures(), newPalette(r.opts.color, tty), r.opts.fix, r.opts.apply == "review")
}

// figures are the summary figures of every analyzed root, as the report
// states them.
func (r *analysisRun) figures() templates.Figures {
	var sum templates.Figures
	for _, root := range r.roots {
		f := templates.Summary(root.out.Report)
		sum.Dockerfiles += f.Dockerfiles
		sum.Findings += f.Findings
		sum.Resolved += f.Resolved
		sum.Left += f.Left
		sum.New += f.New
		sum.Changed += f.Changed
	}
	return sum
}

func (r *analysisRun) jsonBuilds() []jsonBuild {
	var out []jsonBuild
	for _, root := range r.roots {
		for _, rep := range root.out.Builds {
			for _, v := range []struct {
				name string
				res  build.Result
			}{{"original", rep.Original}, {"optimized", rep.Optimized}} {
				user := v.res.User
				jb := jsonBuild{Path: root.join(rep.Path), Variant: v.name, OK: v.res.OK, DurationMS: v.res.Duration.Milliseconds(),
					CompressedSize: v.res.CompressedSize, Layers: v.res.Layers, Error: v.res.Error}
				if v.res.OK {
					jb.User = &user
				}
				out = append(out, jb)
			}
		}
	}
	return out
}

// markdownReport renders the full report for every analyzed root.
func (r *analysisRun) markdownReport() (string, error) {
	var parts []string
	for _, root := range r.roots {
		in := root.out.Report
		// A local run: no pull request, no branch to speak of; commands
		// in the report name the files from the working folder.
		in.Local = true
		in.Root = filepath.ToSlash(root.dir)
		if root.prefix != "" && root.prefix != "." {
			in.Root = root.prefix
		}
		switch {
		case r.opts.out != "":
			out := filepath.ToSlash(r.opts.out)
			if root.prefix != "" && root.prefix != "." {
				// Several roots: --out holds each under its prefix.
				out += "/" + root.prefix
			}
			in.OutDir = out
		case r.sibling(&root):
			in.OptimizedAt = func(p string) string { return p + ".optimized" }
		}
		s, err := templates.Report(in)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n"), nil
}
