package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/rootfs"
)

// stdinName is the path a Dockerfile read from standard input has in the
// output, as hadolint and `docker build -f -` name it.
const stdinName = "-"

// analyzeStdin prepares the analysis of one Dockerfile read from in,
// within the build context --context names, or an empty one.
func (r *analysisRun) analyzeStdin(in io.Reader, stderr io.Writer) (analyzedRoot, error) {
	src, err := io.ReadAll(io.LimitReader(in, analyzer.MaxDockerfileSize+1))
	if err != nil {
		return analyzedRoot{}, fmt.Errorf("reading standard input: %v", err)
	}
	if len(src) > analyzer.MaxDockerfileSize {
		return analyzedRoot{}, fmt.Errorf("standard input is larger than %d bytes, the most a Dockerfile may be", analyzer.MaxDockerfileSize)
	}
	file := fstest.MapFS{stdinName: {Data: src, Mode: 0o644}}
	root := analyzedRoot{arg: stdinName, dir: ".", targets: []analyzer.Target{{Path: stdinName, Context: "."}}}
	if r.opts.context == "" {
		fmt.Fprintf(stderr, "dockopt analyze: standard input without --context: the build context is unknown, so %s are not checked; --context DIR names it\n",
			strings.Join(contextRules, ", "))
		root.fsys = file
	} else {
		fi, err := os.Stat(r.opts.context)
		if err != nil {
			return analyzedRoot{}, fmt.Errorf("--context: cannot read %s: %v", r.opts.context, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			return analyzedRoot{}, fmt.Errorf("--context: %s is not a folder", r.opts.context)
		}
		rt, err := os.OpenRoot(r.opts.context)
		if err != nil {
			return analyzedRoot{}, fmt.Errorf("--context: %v", err)
		}
		root.root, root.dir, root.rootFS = rt, r.opts.context, rootfs.New(rt)
		root.fsys = withFile{FS: root.rootFS, name: stdinName, file: file}
	}
	root.cfg, err = r.loadConfig(root.fsys)
	if err != nil || r.opts.context != "" {
		return root, err
	}
	// With no context, what it holds is unknown: the rules that judge
	// only the context would report an empty one, wrongly.
	if root.cfg.Rules == nil {
		root.cfg.Rules = map[string]analyzer.RuleSetting{}
	}
	off := analyzer.SeverityOff
	for _, id := range contextRules {
		root.cfg.Rules[id] = analyzer.RuleSetting{Severity: &off}
	}
	if _, err := root.cfg.ResolveRules(r.analyzer); err != nil {
		return root, err
	}
	return root, nil
}

// contextRules judge the build context alone (is there a .dockerignore, a
// lockfile); for a Dockerfile on standard input with no --context they
// cannot know.
var contextRules = []string{"dockerignore-missing", "dockerignore-incomplete", "copy-ignored-file", "npm-ci-without-lockfile", "npm-install-with-lockfile"}

// withFile is a build context with the Dockerfile read from standard
// input added to it.
type withFile struct {
	fs.FS
	name string
	file fs.FS
}

func (w withFile) Open(name string) (fs.File, error) {
	if name == w.name {
		return w.file.Open(name)
	}
	return w.FS.Open(name)
}
