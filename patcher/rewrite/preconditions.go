package rewrite

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/imagedata"
)

// The checks every rewrite draws on. Each rewrite lists the ones it needs
// in its own preconditions function, so that what a rewrite must know
// before it is offered reads in one place.

// facts are the analyzer's facts of the original's only stage.
func (o *original) facts() *analyzer.StageFacts { return o.fr.Facts().Stage(o.stage) }

// roleWithheld withholds a rewrite of anything but the final stage of a
// hand-written application image: a rewrite changes the user, the start
// and the health check, which a base image passes on to every image built
// FROM it, and a generated file gets back from its template.
func (o *original) roleWithheld(kind, title string) *Withheld {
	f := o.fr.Facts()
	ok, why := f.RuntimeChangeAllowed(o.stage)
	if ok {
		return nil
	}
	pc := analyzer.PreconditionRole
	if f.Generated().Generated {
		pc = analyzer.PreconditionGenerated
	}
	return &Withheld{Kind: kind, Title: title, Precondition: pc, Reason: why}
}

// runtimeTagWithheld withholds a rewrite whose slim runtime tag is not
// one the image's publisher pushes (`node:20-bullseye-20240110-slim`): a
// FROM that cannot be pulled is the worst hunk a pull request can have.
func runtimeTagWithheld(kind, title string, original, runtime analyzer.ImageRef) *Withheld {
	if imagedata.TagExists(runtime.String()) {
		return nil
	}
	return &Withheld{Kind: kind, Title: title, Precondition: analyzer.PreconditionUnknown,
		Reason: fmt.Sprintf("dockopt knows no slim variant of %s: %s is not a tag its publisher pushes", original.Raw, runtime.String())}
}

// buildArgBase withholds a rewrite whose runtime image is picked from the
// original's version when a build argument chooses that version
// (FROM python:${PYTHON_VERSION}): the build stage would follow the
// argument and the runtime would not, or neither would, and
// --build-arg would stop doing what it did. The Go and static-site
// rewrites keep the FROM as written for their build stage instead: their
// runtime images do not depend on it.
func buildArgBase(o *original, withhold func(analyzer.Precondition, string) *Withheld) *Withheld {
	if !strings.Contains(o.stage.BaseRaw, "$") {
		return nil
	}
	return withhold(analyzer.PreconditionUnknown, fmt.Sprintf("a build argument chooses the base image (%s), and the runtime image the rewrite picks for its version would not follow the argument", o.stage.BaseRaw))
}

// serviceWithheld checks what every service rewrite needs before the rest:
// the image's role, and that nothing the original prepares in the image
// is lost.
func (o *original) serviceWithheld(kind, title string, cmds []command) *Withheld {
	if w := o.roleWithheld(kind, title); w != nil {
		return w
	}
	if why := o.unreproduced(cmds); why != "" {
		return &Withheld{Kind: kind, Title: title, Precondition: analyzer.PreconditionUnknown, Reason: why}
	}
	return nil
}

// chowned reports that the original gives the app's files to an account,
// with chown or COPY --chown.
func (o *original) chowned(cmds []command) bool {
	return hasStep(cmds, stepChown) || slices.ContainsFunc(o.copies, func(in *analyzer.Instruction) bool {
		_, ok := in.Flag("chown")
		return ok
	})
}

// unreproduced returns why the rewrite would lose something the original
// prepares in the image: a folder it creates or hands to an account
// outside what the rewrite's COPY lines recreate, or file modes it
// changes. "" when nothing is lost.
func (o *original) unreproduced(cmds []command) string {
	for _, c := range cmds {
		if c.cmd.Name == "chmod" {
			return fmt.Sprintf("chmod on line %d changes file modes, which the rewrite's COPY lines would not keep", o.d.Line(c.cmd.Start))
		}
	}
	for _, wp := range o.facts().WrittenPaths() {
		for _, why := range wp.Why {
			if !strings.HasPrefix(why, "mkdir") && !strings.HasPrefix(why, "chown") && !strings.HasPrefix(why, "install -d") {
				continue
			}
			if !o.recreates(wp.Path) {
				return fmt.Sprintf("the original prepares %s (%s), which the rewrite would not recreate", wp.Path, why)
			}
		}
	}
	return ""
}

// recreates reports whether the rewrite's runtime has a path the original
// made: its app folder (WORKDIR makes it) or a path its copies bring.
func (o *original) recreates(p string) bool {
	if p == o.workdir || p == o.appDir() {
		return true
	}
	_, ok := o.contextPathOf(p)
	return ok
}

// appDir is the folder the app runs in, which the rewrite keeps.
func (o *original) appDir() string {
	if o.app != "" {
		return o.app
	}
	return o.workdir
}

// contextPathOf maps a path of the original image to the context path its
// COPY/ADD instructions took it from, the latest copy winning as in the
// image. It reports false when no copy brings the path, or only a glob.
func (o *original) contextPathOf(p string) (string, bool) {
	p = path.Clean(p)
	for i := len(o.copies) - 1; i >= 0; i-- {
		in := o.copies[i]
		if len(in.Args) < 2 {
			continue
		}
		srcs, dest := in.Args[:len(in.Args)-1], in.Args[len(in.Args)-1]
		abs := dest
		if !path.IsAbs(abs) {
			abs = path.Join(o.copyDir[in], dest)
		}
		abs = path.Clean(abs)
		for _, s := range srcs {
			s = path.Clean(strings.TrimPrefix(s, "./"))
			if strings.ContainsAny(s, "*?[$") || !o.bc.Has(s) {
				continue
			}
			if _, isFile := slices.BinarySearch(o.bc.Files, s); isFile {
				// A file lands at dest, or in it when dest is a folder.
				if p == abs || p == path.Join(abs, path.Base(s)) {
					return s, true
				}
				continue
			}
			// A folder's contents land in dest.
			rel, ok := within(p, abs)
			if !ok {
				continue
			}
			if c := path.Join(s, rel); o.bc.Has(c) {
				return c, true
			}
		}
	}
	return "", false
}

// within returns p relative to dir when p is dir or lies inside it.
func within(p, dir string) (string, bool) {
	if p == dir {
		return ".", true
	}
	if dir == "/" {
		return strings.TrimPrefix(p, "/"), true
	}
	rest, ok := strings.CutPrefix(p, dir+"/")
	return rest, ok
}

// userAllowedForApp is userAllowed for a rewrite that keeps the app's
// folder and working directory (Node, Python): not when they are in
// /root, root's home, mode 700, which another account cannot even enter,
// nor when the working directory belongs to root. That is where an app
// writes what it writes without a path (an upload folder, a log, a
// cache), and final-user-root withholds its USER over it: the rewrite
// decides as the rule does, so that the report and the diff agree.
func (o *original) userAllowedForApp(ports []int, accounts ...string) (bool, string) {
	if ok, why := o.userAllowed(ports); !ok {
		return ok, why
	}
	for _, dir := range []string{o.appDir(), o.facts().WorkdirAt(0)} {
		if inRootHome(dir) {
			return false, "the app lives in " + dir + ", in root's home, which is mode 700: another account could not even enter it"
		}
	}
	if wp, ok := o.unwritableWorkdir(accounts); ok {
		owner := "belongs to " + wp.Owner
		switch {
		case wp.Owner == "":
			owner = "has an owner dockopt cannot tell"
		case strings.Contains(wp.OwnerWhy, "unless the base image already has it"):
			owner += " unless the base image made it"
		}
		return false, fmt.Sprintf("the app's working directory %s %s, where an unprivileged account could not write what an app writes in its working directory; chown it to that account before a USER",
			wp.Path, owner)
	}
	return true, ""
}

// unwritableWorkdir returns the final WORKDIR of an original that runs as
// root when the rewrite's account, known by any of accounts (name, UID),
// could not write it. An original that runs unprivileged already shows
// the app can do without.
func (o *original) unwritableWorkdir(accounts []string) (analyzer.WrittenPath, bool) {
	if o.facts().RunUser().Root() == analyzer.Absent {
		return analyzer.WrittenPath{}, false
	}
	for _, wp := range o.facts().WrittenPaths() {
		if wp.WorldWritable || slices.Contains(accounts, wp.Owner) ||
			!slices.ContainsFunc(wp.Why, func(why string) bool { return strings.HasPrefix(why, "the final WORKDIR") }) {
			continue
		}
		return wp, true
	}
	return analyzer.WrittenPath{}, false
}

// keptAccounts is a RUN that creates again the accounts the original
// creates and does not switch to, for a rewrite that keeps root: docker
// run --user or an exec may name them, and the rewrite brings an account
// of its own only to run as it. "" when the original creates none.
func (o *original) keptAccounts(cmds []command) string {
	var texts []string
	for _, c := range cmds {
		if c.step == stepUser {
			texts = append(texts, string(o.d.Source[c.cmd.Start:c.cmd.End]))
		}
	}
	if len(texts) == 0 {
		return ""
	}
	return "# The accounts the original creates; the process still runs as root.\nRUN " + strings.Join(texts, " && ")
}

func inRootHome(p string) bool { return p == "/root" || strings.HasPrefix(p, "/root/") }

// userAllowed decides whether the rewrite runs the process as an
// unprivileged account. It may not when the image's start switches users
// itself or needs root, when the process binds a port below 1024 (ports
// are the ones the start command binds, when known), or when a root
// original writes somewhere the new account could not: a VOLUME, a folder
// it created or chowned, a server's data directory. The final WORKDIR
// is weighed by userAllowedForApp, for the rewrites that keep it: the Go
// rewrite's distroless runtime starts in the nonroot account's home.
// An original that runs unprivileged already shows the app can.
func (o *original) userAllowed(ports []int) (bool, string) {
	sf := o.facts()
	if sf.RunUser().Root() == analyzer.Absent {
		return true, ""
	}
	ep := sf.Entrypoint()
	if ep.SwitchesUser == analyzer.Present {
		return false, "the image's start switches users by itself (" + ep.Why + ")"
	}
	if ep.NeedsRoot == analyzer.Present {
		return false, "the image's start needs root (" + ep.Why + ")"
	}
	for _, p := range ports {
		if p > 0 && p < 1024 {
			return false, fmt.Sprintf("the process listens on port %d, which only root can bind", p)
		}
	}
	if p, why := sf.PrivilegedPort(); p != 0 {
		return false, why
	}
	for _, wp := range sf.WrittenPaths() {
		var evidence []string
		for _, why := range wp.Why {
			switch {
			case strings.HasPrefix(why, "the final WORKDIR"):
			case (strings.HasPrefix(why, "mkdir") || strings.HasPrefix(why, "install -d")) && wp.Path == o.appDir():
				// Creating the folder the code is copied into.
			default:
				evidence = append(evidence, why)
			}
		}
		if len(evidence) > 0 {
			return false, fmt.Sprintf("the original runs as root and writes to %s (%s), which another account could not", wp.Path, strings.Join(evidence, ", "))
		}
	}
	if db := o.sqliteDatabase(); db != "" {
		return false, "the original runs as root and " + db + ", which an app writes at run time and another account could not"
	}
	return true, ""
}

// sqliteDatabase names a SQLite database the app may keep among its own
// files: a database file in the build context that .dockerignore does not
// exclude, or Django settings that put one in the project folder (the
// default startproject layout). An app writes such a file at run time,
// and the files COPY brings in belong to root: a new account gets
// "attempt to write a readonly database". Test fixtures do not count.
func (o *original) sqliteDatabase() string {
	settingsRead := 0
	for _, f := range o.bc.Files {
		if analyzer.InTestFolder(f) || o.bc.DockerIgnore.Excludes(f) {
			continue
		}
		switch ext := path.Ext(f); {
		case ext == ".sqlite3" || ext == ".sqlite" || ext == ".db":
			return "the build context holds the SQLite database " + f
		case path.Base(f) == "settings.py" || path.Base(path.Dir(f)) == "settings" && ext == ".py":
			if settingsRead >= 8 {
				continue
			}
			settingsRead++
			if b, err := o.bc.ReadFile(f); err == nil && bytes.Contains(b, []byte("django.db.backends.sqlite3")) {
				return f + " keeps a SQLite database in the project folder"
			}
		}
	}
	return ""
}

// runtimeHas reports whether the rewrite's runtime image has a command:
// shipped by the image, as dockopt's table of base images says, or
// installed by the rewrite. Unknown when the table does not say.
func runtimeHas(image analyzer.ImageRef, installed []string, tool string) analyzer.Presence {
	for _, p := range installed {
		if baseName(p) == tool {
			return analyzer.Present
		}
	}
	img, ok := analyzer.ImageContents(image)
	if !ok {
		return analyzer.Unknown
	}
	present, known := img.Tool(tool)
	if !known && tool == "wget" && img.Userland == "busybox" {
		present, known = true, true
	}
	switch {
	case !known:
		return analyzer.Unknown
	case present:
		return analyzer.Present
	}
	return analyzer.Absent
}

// shippedCacheWithheld says why the rewrite's install would not read what
// the original's did, or "": a COPY (or ADD) before the install put files
// into the package manager's cache folder (a project that ships its npm
// cache in .npm/ and copies it to /root/.npm), which the install reads,
// offline when it holds every package. The rewrite's install stage copies
// only the manifests and mounts a build cache over that folder, so its
// install would need the registry. package-cache-mount-missing refuses
// the mount there for the same reason.
func (o *original) shippedCacheWithheld(cmds []command, cache string) string {
	sf := o.facts()
	for _, in := range o.runs {
		install := ""
		for _, c := range cmds {
			if c.step == stepDeps && in.Start <= c.cmd.Start && c.cmd.End <= in.End {
				install = c.cmd.String()
				break
			}
		}
		if install == "" {
			continue
		}
		for w := range sf.FillsBefore(in, cache, true) {
			if w.Line == 0 {
				continue
			}
			return fmt.Sprintf("%s on line %d reads the package cache %s, which %s fills; the rewrite's install stage copies only the manifests and mounts a build cache at %s, so its install would run without those files and need the registry (package-cache-mount-missing refuses the mount there for the same reason)",
				install, in.StartLine, cache, w.How, cache)
		}
	}
	return ""
}

// ignoredWithheld says why the rewrite may not copy a file of the
// original's by name, or "": the context's .dockerignore excludes it, so
// the original's build never had it (its install or start failed without
// it, or did something else), and the rewrite would have to re-include
// it, changing what every build of the context sees.
// deps-copied-after-source leaves the COPY order alone for the same
// reason; the rewrite decides as the rule does. copied are context paths
// the original's copies bring; files the rewrite writes itself (its nginx
// configuration) are not among them.
func (o *original) ignoredWithheld(copied []string) string {
	di := o.bc.DockerIgnore
	for _, n := range copied {
		if !di.Excludes(n) {
			continue
		}
		return fmt.Sprintf("%s keeps %s out of the build context, so the original's build never had it; the rewrite copies it by name and would have to add !%s to %s, changing what the build sees: settle that file first (deps-copied-after-source leaves the COPY order alone for the same reason)",
			di.Path, n, n, di.Path)
	}
	return ""
}
