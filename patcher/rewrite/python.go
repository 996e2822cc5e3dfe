package rewrite

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// pythonServers are the start commands of a Python web service.
var pythonServers = []string{"uvicorn", "gunicorn", "hypercorn", "daphne", "waitress-serve", "python", "python3", "flask", "fastapi"}

// pipInstall is one `pip install` of the original, kept for the builder.
type pipInstall struct {
	args  []string
	files []string
}

func planPython(o *original) (*Rewrite, bool) {
	if o.stage.Base.Name() != "python" {
		return nil, false
	}
	distro := o.stage.Base.Distro()
	if distro != "debian" && distro != "alpine" {
		return nil, false
	}
	if len(o.cmd) == 0 || !slices.Contains(pythonServers, path.Base(o.cmd[0])) || slices.Contains(o.cmd, "&&") {
		return nil, false
	}
	var installs []pipInstall
	cmds, ok := classify(o, func(c analyzer.Command) step {
		pm, pc := analyzer.PackageManagerOf(c)
		args := pc.Args
		// Options before `install` would be lost in the new RUN.
		if pm != analyzer.Pip || len(args) == 0 || args[0].Value != "install" {
			return stepUnknown
		}
		pi, ok := readPipInstall(args[1:])
		if !ok {
			return stepUnknown
		}
		installs = append(installs, pi)
		return stepDeps
	})
	if !ok || len(installs) == 0 {
		return nil, false
	}
	for _, in := range o.copies {
		srcs, rel, dirDest, ok := copySources(o, in)
		if !ok || !mirrorsContext(o.bc, srcs, rel, dirDest) {
			return nil, false
		}
	}
	var reqFiles []string
	for _, pi := range installs {
		for _, f := range pi.files {
			reqFiles = appendNew(reqFiles, requirementFiles(o.bc, f, 0)...)
		}
	}
	for _, f := range reqFiles {
		if !o.bc.Has(f) {
			return nil, false
		}
	}
	workdir := o.workdir
	if workdir == "/" {
		workdir = "/app"
	}
	buildPkgs, runtimePkgs, dropped := splitPackages(distro, cmds)
	runtimeImage := imageWithTag(o.stage.Base, slimTag("python", o.stage.Base.Tag))
	port := o.port(0)

	var w dockerfile
	w.b.WriteString(o.headerText())
	w.line("# builder compiles the dependencies into a virtualenv, the only thing the runtime copies.")
	w.line("FROM %s AS builder", o.stage.Base.Raw)
	w.raw(installLine(distro, buildPkgs))
	w.line("RUN python -m venv /opt/venv")
	w.line("ENV PATH=/opt/venv/bin:$PATH")
	w.line("WORKDIR %s", workdir)
	// Requirement files keep their paths: one may include another by a
	// path relative to itself.
	var rootFiles []string
	for _, f := range reqFiles {
		if path.Dir(f) == "." {
			rootFiles = append(rootFiles, f)
		}
	}
	if len(rootFiles) > 0 {
		w.line("COPY %s ./", strings.Join(rootFiles, " "))
	}
	for _, f := range reqFiles {
		if path.Dir(f) != "." {
			w.line("COPY %s ./%s/", f, path.Dir(f))
		}
	}
	var lines []string
	for _, pi := range installs {
		lines = append(lines, "pip install "+strings.Join(pi.args, " "))
	}
	w.line("RUN --mount=type=cache,target=%s \\\n    %s", analyzer.Pip.Caches[0].Dir, strings.Join(lines, " \\\n && "))
	w.blank()
	w.line("FROM %s", runtimeImage)
	w.raw(o.labels...)
	w.raw(o.args...)
	w.raw(installLine(distro, runtimePkgs))
	w.line("# A system account with no home and no login shell: nothing to log in as.")
	if distro == "alpine" {
		w.line("RUN adduser -S -D -H -s /sbin/nologin app")
	} else {
		w.line("RUN useradd --system --no-create-home --shell /usr/sbin/nologin app")
	}
	w.line("WORKDIR %s", workdir)
	env := []string{"PATH=/opt/venv/bin:$PATH"}
	for _, k := range []string{"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} {
		if !o.setsEnv(k) {
			env = append(env, k+"=1")
		}
	}
	w.line("ENV %s", strings.Join(env, " \\\n    "))
	superseded := false
	for _, e := range o.envs {
		if len(e.keys) == 1 && e.keys[0] == "PATH" {
			superseded = true
			continue
		}
		w.raw(e.text)
	}
	w.line("COPY --from=builder /opt/venv /opt/venv")
	w.line("COPY . .")
	w.raw(o.keep...)
	w.line("USER app")
	if len(o.ports) > 0 {
		w.line("EXPOSE %s", joinPorts(o.ports))
	}
	health, route := o.health, ""
	if health == "" && port != 0 {
		if route = pythonRoute(o.bc, o.cmd); route != "" {
			check := fmt.Sprintf("import urllib.request; urllib.request.urlopen('http://127.0.0.1:%d%s', timeout=3)", port, route)
			health = "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\\n  CMD " + execForm([]string{"python", "-c", check})
		}
	}
	if health != "" {
		w.raw(health)
	}
	if plainWords(o.cmd) {
		w.line("CMD %s", execForm(o.cmd))
	} else {
		w.raw(o.cmdText)
	}

	rw := &Rewrite{
		Title:   "Build the Python dependencies in a virtualenv stage and run them on a slim, non-root image",
		Content: w.bytes(),
		Resolves: []string{"build-toolchain-in-final-image", "python-env-missing", "final-user-root", "user-login-shell",
			"path-user-bin-last", "masked-errors", "exec-form-cmd", "cleanup-in-later-layer", "full-base-image", "package-cache-mount-missing"},
	}
	rw.Explanation = append(rw.Explanation,
		fmt.Sprintf("A `builder` stage on `%s` creates `/opt/venv` and installs the requirements into it with a BuildKit cache mount for pip; %s copied before the sources, so the install is reused until %s.", o.stage.Base.Raw, code(reqFiles), pluralIt(reqFiles)),
		fmt.Sprintf("The runtime is `%s` and receives only `/opt/venv` and the app's files.", runtimeImage),
	)
	if len(buildPkgs) > 0 {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("Compilers and headers (%s) are installed in the builder only.", code(buildPkgs)))
	}
	if len(runtimePkgs) > 0 {
		how := "installed without recommended packages and with the package lists removed in the same layer"
		if distro == "alpine" {
			how = "installed with `apk add --no-cache`"
		}
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("The runtime keeps the libraries the built code loads (%s), %s.", code(runtimePkgs), how))
	}
	if len(dropped) > 0 {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("Editors (%s) are not installed in the runtime.", code(dropped)))
	}
	rw.Explanation = append(rw.Explanation,
		"`PYTHONDONTWRITEBYTECODE=1` stops `.pyc` files being written into the container, `PYTHONUNBUFFERED=1` makes logs appear at once; `/opt/venv/bin` comes first in `PATH`.",
		"The app runs as `app`, a system account without a home directory or login shell.",
	)
	if superseded {
		rw.Explanation = append(rw.Explanation, "The original's `PATH` change is replaced by the virtualenv's `bin` folder, where every installed command now lives.")
	}
	for _, in := range o.runs {
		if t := in.Text(o.d.Source); strings.Contains(t, "pip") && strings.Contains(t, "|| true") {
			rw.Explanation = append(rw.Explanation, "`|| true` after a pip install is gone: a failed install now fails the build instead of shipping an image without the package.")
			break
		}
	}
	if plainWords(o.cmd) && o.cmdShell {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("`%s` runs in exec form, so it is PID 1 and receives `SIGTERM` directly.", strings.Join(o.cmd, " ")))
	}
	if route != "" {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("A HEALTHCHECK asks `%s` on port %d with Python's own urllib, which the runtime image is sure to have.", route, port))
	}
	if hasStep(cmds, stepUser) {
		rw.Explanation = append(rw.Explanation, "The account the original created (and did not use) is replaced by `app`.")
	}
	if f, ok := dockerignore(o, []string{".git", ".venv", "venv", "**/__pycache__", "**/*.pyc", ".pytest_cache", ".mypy_cache"}, reqFiles); ok {
		rw.Files = append(rw.Files, f)
		rw.Explanation = append(rw.Explanation, "`.dockerignore` keeps `.git`, local virtualenvs and caches out of the build context and the image.")
	}
	return rw, true
}

func pluralIt(files []string) string {
	if len(files) == 1 {
		return "it changes"
	}
	return "they change"
}

// readPipInstall keeps an install's arguments for the builder, without
// --user (the virtualenv is the target) and --no-cache-dir (the cache
// mount replaces it). Installing the project itself needs its sources
// before the dependencies, which this rewrite does not do.
func readPipInstall(args []analyzer.Word) (pipInstall, bool) {
	var pi pipInstall
	for i := 0; i < len(args); i++ {
		v := args[i].Value
		switch {
		case v == "--user" || v == "--no-cache-dir":
			continue
		case v == "-r" || v == "--requirement" || v == "-c" || v == "--constraint":
			if i+1 >= len(args) {
				return pi, false
			}
			pi.files = append(pi.files, path.Clean(args[i+1].Value))
			pi.args = append(pi.args, v, args[i+1].Value)
			i++
			continue
		case v == "-e" || v == "--editable" || v == "." || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "-r") && len(v) > 2:
			return pi, false
		}
		pi.args = append(pi.args, v)
	}
	return pi, len(pi.args) > 0
}

var includePattern = regexp.MustCompile(`^\s*(?:-r|--requirement|-c|--constraint)[\s=]+(\S+)`)

// requirementFiles returns a requirements file and the files it includes.
func requirementFiles(bc *analyzer.BuildContext, f string, depth int) []string {
	out := []string{f}
	if depth > 5 {
		return out
	}
	b, err := bc.ReadFile(f)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if m := includePattern.FindStringSubmatch(sc.Text()); m != nil {
			out = appendNew(out, requirementFiles(bc, path.Join(path.Dir(f), m[1]), depth+1)...)
		}
	}
	return out
}

// pythonRoute finds a health route in the module the server command names
// (`app.main:app` → app/main.py) or the script python runs.
func pythonRoute(bc *analyzer.BuildContext, cmd []string) string {
	var candidates []string
	for _, w := range cmd[1:] {
		switch {
		case strings.HasPrefix(w, "-"):
		case strings.HasSuffix(w, ".py"):
			candidates = append(candidates, w)
		case strings.Contains(w, ":"):
			mod, _, _ := strings.Cut(w, ":")
			candidates = append(candidates, strings.ReplaceAll(mod, ".", "/")+".py")
		}
	}
	for _, c := range candidates {
		if b, err := bc.ReadFile(c); err == nil {
			if m := routePattern.FindSubmatch(b); m != nil {
				return string(m[1])
			}
		}
	}
	return ""
}
