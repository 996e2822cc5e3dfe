package patcher_test

import (
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
)

// The repositories under analyzer/testdata/realshapes are written in the
// style of the ones issue #11 found broken by dockopt's pull requests.
// These tests patch each one as the App would (review and safe fixes) and
// assert that nothing harmful is proposed.

var (
	shapeMu      sync.Mutex
	shapePatches = map[string]*patcher.Result{}
)

func patchShape(t *testing.T, name string) *patcher.Result {
	t.Helper()
	shapeMu.Lock()
	defer shapeMu.Unlock()
	if r, ok := shapePatches[name]; ok {
		return r
	}
	fsys := os.DirFS(path.Join("../analyzer/testdata/realshapes", name))
	a := analyzer.New(rules.All())
	res, err := a.Analyze(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := patcher.Patch(t.Context(), a, fsys, res, nil, patcher.Options{Apply: analyzer.Review})
	if err != nil {
		t.Fatal(err)
	}
	shapePatches[name] = r
	return r
}

// eachChanged calls check with every Dockerfile the patch of a realshapes
// fixture changes.
func eachChanged(t *testing.T, check func(shape string, f *patcher.File)) {
	t.Helper()
	for _, name := range realShapes {
		for _, f := range patchShape(t, name).Files {
			if f.Changed() {
				check(name, f)
			}
		}
	}
}

// A tree of generated variants and their templates gets no change at all:
// no edit, no rewrite, no file created beside a variant.
func TestGeneratedTreeIsNotPatched(t *testing.T) {
	r := patchShape(t, "postgres-variants")
	for _, c := range r.Changes {
		t.Errorf("%s %s (for %s): %s", c.Action, c.Path, c.For, strings.SplitN(string(c.Content), "\n", 2)[0])
	}
	for _, f := range r.Files {
		if len(f.Applied) > 0 {
			t.Errorf("%s: applied %+v", f.Path, f.Applied)
		}
	}
}

var realShapes = []string{"alpine-tools", "apache-php", "app-with-fixtures", "base-images", "devcontainer", "dind-runner", "git-ssh", "grpc-service",
	"memcached", "node-alpine", "postgres-variants", "python-cache", "redis-official", "tomcat-war", "windows-node"}

// addedInstructions returns the instructions of the patched file whose
// text the original does not hold.
func addedInstructions(f *patcher.File) []*analyzer.Instruction {
	var out []*analyzer.Instruction
	for _, in := range f.After.Dockerfile.Instructions {
		if !strings.Contains(string(f.Original), in.Text(f.Patched)) {
			out = append(out, in)
		}
	}
	return out
}

// A SHELL a fix adds names a shell that exists at every RUN it runs, and
// is never added to the final stage of an image that is not an
// application (its children would inherit it).
func TestRealShapesShellExistsWhereItRuns(t *testing.T) {
	eachChanged(t, func(name string, f *patcher.File) {
		facts := f.After.Facts()
		for _, in := range addedInstructions(f) {
			if in.Keyword != "SHELL" || len(in.Args) == 0 {
				continue
			}
			shell := path.Base(in.Args[0])
			if f.Before.Role != analyzer.RoleApplication && in.Stage.Final {
				t.Errorf("%s/%s:%d: SHELL added to the final stage of a %s image", name, f.Path, in.StartLine, f.Before.Role)
			}
			sf := facts.Stage(in.Stage)
			for _, run := range in.Stage.Instructions {
				if run.Keyword != "RUN" || run.StartLine < in.StartLine {
					continue
				}
				if p, why := sf.ToolAt(run.StartLine, shell); p != analyzer.Present {
					t.Errorf("%s/%s:%d: SHELL %s, but at line %d %s is %s (%s)", name, f.Path, in.StartLine, in.Args[0], run.StartLine, shell, p, why)
				}
			}
		}
	})
}

// A wget option a fix adds is one the wget at that point takes: busybox's
// applet rejects --progress.
func TestRealShapesWgetFlagsFitTheirWget(t *testing.T) {
	eachChanged(t, func(name string, f *patcher.File) {
		facts := f.After.Facts()
		for _, in := range f.After.Dockerfile.Instructions {
			if in.Script == nil || in.Stage == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("wget") {
				if !c.HasPrefixArg("--progress") {
					continue
				}
				if w := facts.Stage(in.Stage).ToolAtOffset(c.Start, "wget"); w.Busybox || w.Presence != analyzer.Present {
					t.Errorf("%s/%s:%d: wget --progress where wget is %s (busybox %v: %s)", name, f.Path, in.StartLine, w.Presence, w.Busybox, w.Why)
				}
			}
		}
	})
}

// accountShells maps the accounts a file's RUNs create to the shell they
// are given ("" for the default).
func accountShells(d *analyzer.Dockerfile) map[string]string {
	out := map[string]string{}
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.CommandsNamed("useradd", "adduser") {
			if name, shell, ok := analyzer.CreatedAccount(c); ok {
				out[name] = shell
			}
		}
	}
	return out
}

// nologin is set only on accounts created without a shell and that
// nothing uses through their shell (su, runuser -l, sshd, a git account).
func TestRealShapesLoginShellsInUseAreKept(t *testing.T) {
	eachChanged(t, func(name string, f *patcher.File) {
		before := accountShells(f.Before.Dockerfile)
		used := map[string]string{}
		for _, s := range f.Before.Dockerfile.Stages {
			for _, u := range f.Before.Facts().Stage(s).AccountUses() {
				used[u.User] = u.How
			}
		}
		for account, shell := range accountShells(f.After.Dockerfile) {
			if !strings.Contains(shell, "nologin") || before[account] == shell {
				continue
			}
			if before[account] != "" {
				t.Errorf("%s/%s: the author's shell %s of %s became %s", name, f.Path, before[account], account, shell)
			}
			if how, ok := used[account]; ok {
				t.Errorf("%s/%s: %s gets %s although %s", name, f.Path, account, shell, how)
			}
		}
	})
}

// A cache mount a fix adds does not collide with the RUN's own mounts or
// cache cleaning, and does not hide what a COPY, the base image or an
// earlier RUN of the same dependency store left in the folder.
func TestRealShapesCacheMountsHideNothing(t *testing.T) {
	overlap := func(a, b string) bool { return strings.HasPrefix(a+"/", b+"/") || strings.HasPrefix(b+"/", a+"/") }
	eachChanged(t, func(name string, f *patcher.File) {
		for _, in := range f.After.Dockerfile.Instructions {
			if in.Keyword != "RUN" || in.Stage == nil {
				continue
			}
			orig := sameRun(f.Before.Dockerfile, in.Text(f.Patched))
			if orig == nil {
				continue
			}
			had := map[string]bool{}
			for _, m := range orig.Mounts() {
				had[m.Type+" "+m.Target] = true
			}
			sf := f.Before.Facts().Stage(orig.Stage)
			for _, m := range in.Mounts() {
				if m.Type != "cache" || had["cache "+m.Target] {
					continue
				}
				for _, o := range orig.Mounts() {
					if o.Target != "" && overlap(o.Target, m.Target) {
						t.Errorf("%s/%s:%d: cache mount at %s collides with the author's %s mount at %s", name, f.Path, orig.StartLine, m.Target, o.Type, o.Target)
					}
				}
				for _, c := range sf.CacheCleaning(orig) {
					if overlap(c.Dir, m.Target) {
						t.Errorf("%s/%s:%d: cache mount at %s together with %s", name, f.Path, orig.StartLine, m.Target, c.What)
					}
				}
				for _, w := range sf.FilledBefore(orig, m.Target) {
					t.Errorf("%s/%s:%d: cache mount at %s hides %s (%s)", name, f.Path, orig.StartLine, m.Target, w.Path, w.How)
				}
			}
		}
	})
}

// sameRun finds the original RUN a patched one came from: the one whose
// script text the patched one ends with.
func sameRun(d *analyzer.Dockerfile, patched string) *analyzer.Instruction {
	for in := range d.Each("RUN") {
		if in.Script != nil && strings.HasSuffix(strings.TrimSpace(patched), strings.TrimSpace(in.Script.Src)) {
			return in
		}
	}
	return nil
}
