package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockopt/dockopt/patcher/build"
	"github.com/dockopt/dockopt/templates"
)

// needsPatch reports whether this invocation shows or writes changes.
func (r *analysisRun) needsPatch() bool {
	o := r.opts
	return o.fix || o.out != "" || o.diff || o.format == "json" || o.format == "markdown" || o.buildkit != ""
}

// applyChanges writes or prints the patches as the flags ask.
func (r *analysisRun) applyChanges(stdout, stderr io.Writer) (int, error) {
	if !r.needsPatch() {
		return 0, nil
	}
	if r.opts.diff {
		for _, root := range r.roots {
			for _, c := range root.out.Patch.Changes {
				fmt.Fprint(stdout, unifiedDiff(root.join(c.Path), c.Original, c.Content))
			}
		}
	}
	switch {
	case r.opts.fix:
		for _, root := range r.roots {
			for _, c := range root.out.Patch.Changes {
				if err := writeFile(filepath.Join(root.dir, filepath.FromSlash(c.Path)), c.Content); err != nil {
					return exitUsage, err
				}
			}
			fmt.Fprintf(stderr, "dockopt: wrote %d files under %s\n", len(root.out.Patch.Changes), root.dir)
		}
	case r.opts.out != "":
		n := 0
		for _, root := range r.roots {
			for _, c := range root.out.Patch.Changes {
				if err := writeFile(filepath.Join(r.opts.out, filepath.FromSlash(root.join(c.Path))), c.Content); err != nil {
					return exitUsage, err
				}
				n++
			}
		}
		report, err := r.markdownReport()
		if err != nil {
			return exitUsage, err
		}
		if err := writeFile(filepath.Join(r.opts.out, "REPORT.md"), []byte(report)); err != nil {
			return exitUsage, err
		}
		fmt.Fprintf(stderr, "dockopt: wrote %d changed files and REPORT.md under %s\n", n, r.opts.out)
	}
	return 0, nil
}

// join prefixes a root-relative path for output when several roots were given.
func (root analyzedRoot) join(p string) string {
	if root.prefix == "" || root.prefix == "." {
		return p
	}
	return root.prefix + "/" + p
}

func writeFile(p string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, content, 0o644)
}

// jsonChanges lists the files the patch would write.
func (r *analysisRun) jsonChanges() []jsonChange {
	var out []jsonChange
	for _, root := range r.roots {
		if root.out.Patch == nil {
			continue
		}
		for _, c := range root.out.Patch.Changes {
			out = append(out, jsonChange{Path: root.join(c.Path), Action: c.Action})
		}
	}
	return out
}

func (r *analysisRun) render(w io.Writer, tty bool) error {
	files := r.files()
	switch r.opts.format {
	case "json":
		return writeJSON(w, toJSON(files, r.jsonChanges(), r.jsonBuilds()))
	case "sarif":
		return writeSARIF(w, r.analyzer.Rules(), files)
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
	return writeText(w, files, newPalette(r.opts.color, tty))
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
		switch {
		case r.opts.out != "":
			out := r.opts.out
			in.OutDir = filepath.ToSlash(out)
		case r.opts.mode == "sibling" || root.cfg.Output.Mode == "sibling":
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
