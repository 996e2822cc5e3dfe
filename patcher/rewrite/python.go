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
	dir   string
}

// reqFile is a requirements file: where the builder puts it (as the
// original had it) and where the context holds it.
type reqFile struct{ image, context string }

// pythonPlan is what the Python rewrite decided.
type pythonPlan struct {
	distro   string
	installs []pipInstall
	pipDir   string
	reqs     []reqFile
	cmds     []command
	pkgs     packageSplit
	runtime  analyzer.ImageRef
	workdir  string
	// user is set when the process runs as the new account; noUser says
	// why it does not.
	user   bool
	noUser string
	// chowned: the original gave the app's files to its account.
	chowned bool
	health  health
	// readsSource names what an install reads from the source besides
	// its requirement files (a wheel folder, a local package), which the
	// builder stage would not have.
	readsSource string
}

func planPython(o *original) (*Rewrite, *Withheld) {
	if !officialImage(o.stage.Base, "python") {
		return nil, nil
	}
	distro := o.stage.Base.Distro()
	if distro != "debian" && distro != "alpine" {
		return nil, nil
	}
	if len(o.cmd) == 0 || !slices.Contains(pythonServers, path.Base(o.cmd[0])) || slices.Contains(o.cmd, "&&") {
		return nil, nil
	}
	var installs []pipInstall
	readsSource := ""
	cmds, ok := classify(o, func(c analyzer.Command) step {
		pm, pc := analyzer.PackageManagerOf(c)
		args := pc.Args
		// Options before `install` would be lost in the new RUN.
		if pm != analyzer.Pip || len(args) == 0 || args[0].Value != "install" {
			return stepUnknown
		}
		if opt := pipSourceOption(args[1:]); opt != "" {
			readsSource = "the install runs with " + opt
		}
		pi, ok := readPipInstall(args[1:])
		if !ok {
			return stepUnknown
		}
		pi.dir = o.dirOfCommand(c)
		installs = append(installs, pi)
		return stepDeps
	})
	withheldSource := func(what string) *Withheld {
		return &Withheld{Kind: analyzer.KindPythonService, Title: titlePython, Precondition: analyzer.PreconditionContext,
			Reason: what + ", which reads the source tree: the builder stage has only the requirement files"}
	}
	if readsSource != "" {
		return nil, withheldSource(readsSource)
	}
	if !ok || len(installs) == 0 {
		return nil, nil
	}
	p := &pythonPlan{distro: distro, installs: installs, cmds: cmds, pipDir: installs[0].dir}
	for _, pi := range installs {
		if pi.dir != p.pipDir {
			// One builder folder: installs from several would need several.
			return nil, nil
		}
		for _, f := range pi.files {
			if !path.IsAbs(f) {
				f = path.Join(pi.dir, f)
			}
			if !p.addRequirements(o, f, 0) {
				if p.readsSource != "" {
					return nil, withheldSource(p.readsSource)
				}
				return nil, nil
			}
		}
	}
	for _, in := range o.copies {
		srcs, _, _, ok := copySources(o, in)
		if !ok {
			return nil, nil
		}
		for _, s := range srcs {
			if !strings.ContainsAny(s, "*?[") && !o.bc.Has(s) {
				// The runtime repeats this COPY; it would fail as the
				// original does.
				return nil, nil
			}
		}
	}
	// The app runs where the original ran it, / included: its command
	// may name files relative to it.
	p.workdir = o.workdir
	p.runtime = analyzer.ParseImageRef(o.stage.Base.WithTag(slimTag("python", o.stage.Base.Tag)))
	if w := runtimeTagWithheld(analyzer.KindPythonService, titlePython, o.stage.Base, p.runtime); w != nil {
		return nil, w
	}
	if w := p.preconditions(o); w != nil {
		return nil, w
	}
	if !p.restructures(o) {
		// The rule fixes say the rest in a few lines each; rewriting
		// the whole file for them is churn a maintainer would refuse.
		return nil, nil
	}
	return p.write(o), nil
}

// restructures reports whether the rewrite gives what the rule fixes
// cannot: a smaller runtime image, compilers left in the builder,
// dependencies installed before the source is copied, a non-root
// account for a process that ran as root, or a health check where there
// was none. An original that is already slim, compiles nothing, orders
// its install well and runs unprivileged (037: USER nobody, a pip cache
// mount) gains nothing from a builder stage but a longer file.
func (p *pythonPlan) restructures(o *original) bool {
	if p.runtime.Raw != o.stage.Base.Raw || len(p.pkgs.build) > 0 {
		return true
	}
	if o.healthIn == nil && p.health.line != "" {
		return true
	}
	return slices.ContainsFunc(o.fr.Findings, func(f analyzer.Finding) bool {
		return f.Rule == "deps-copied-after-source" || f.Rule == "final-user-root" && p.user
	})
}

// preconditions are what the Python rewrite must know before it is
// offered, checked against the analyzer's facts; it returns what withholds
// the rewrite, and settles the parts that need evidence (USER,
// HEALTHCHECK) on the way.
func (p *pythonPlan) preconditions(o *original) *Withheld {
	withhold := func(pc analyzer.Precondition, why string) *Withheld {
		return &Withheld{Kind: analyzer.KindPythonService, Title: titlePython, Precondition: pc, Reason: why}
	}
	if w := buildArgBase(o, withhold); w != nil {
		return w
	}
	// The final stage of a hand-written application image, and nothing
	// the original prepares in the image is lost.
	if w := o.serviceWithheld(analyzer.KindPythonService, titlePython, p.cmds); w != nil {
		return w
	}
	// The requirements the rewrite copies by name are in the context.
	var reqNames []string
	for _, r := range p.reqs {
		reqNames = append(reqNames, r.context)
	}
	if why := o.ignoredWithheld(reqNames); why != "" {
		return withhold(analyzer.PreconditionContext, why)
	}
	// The install finds what the original's found in pip's cache folder
	// (an install with --no-cache-dir reads none).
	reads := slices.DeleteFunc(slices.Clone(p.cmds), func(c command) bool { return c.cmd.Has("--no-cache-dir") })
	if why := o.shippedCacheWithheld(reads, analyzer.Pip.Caches[0].Dir); why != "" {
		return withhold(analyzer.PreconditionMount, why)
	}
	// The runtime has the libraries the compiled dependencies load.
	ships := func(dev string) bool { return pythonShips[dev] }
	p.pkgs = splitPackages(p.distro, release(p.distro, o.stage.Base.Tag), ships, p.cmds)
	if p.runtime.Tag != o.stage.Base.Tag {
		if why := p.fullImageNeeds(o); why != "" {
			return withhold(analyzer.PreconditionTool, why)
		}
	}
	// A HEALTHCHECK the original had keeps working.
	kept, why := o.keptHealth(p.runtime, p.pkgs.runtime(), pythonProber)
	if why != "" {
		return withhold(analyzer.PreconditionTool, why)
	}
	// USER only where the process may run unprivileged.
	srv, srvWhy := o.pythonServer(o.cmd)
	var ports []int
	if srvWhy == "" {
		ports = append(ports, o.listenPort(srv.port, srv.env))
	}
	p.user, p.noUser = o.userAllowedForApp(ports, fmt.Sprint(pythonUID))
	p.chowned = o.chowned(p.cmds)
	// A new HEALTHCHECK only with evidence of the endpoint.
	p.health = kept
	if o.healthIn == nil {
		e, why := endpoint{}, srvWhy
		if why == "" {
			e, why = o.pythonProbe(srv)
		}
		if why != "" {
			p.health.note = noRouteProbe(why)
		} else {
			p.health.line = newProbeOptions + execForm(pythonProber.forEndpoint(e, 3))
			p.health.note = fmt.Sprintf("A HEALTHCHECK asks `%s` (in `%s`) on %s with Python's urllib.", e.route, e.file, e.describePort())
		}
	}
	return nil
}

// fullImageNeeds adds the libraries requirements load that the full
// python image has and the slim runtime does not, or says why the rewrite
// cannot supply one.
func (p *pythonPlan) fullImageNeeds(o *original) string {
	for _, r := range p.reqs {
		b, err := o.bc.ReadFile(r.context)
		if err != nil {
			continue
		}
		for _, name := range analyzer.RequirementNames(b) {
			need, ok := analyzer.FullImageNeedOf("python", name)
			if !ok {
				continue
			}
			lib := need.Debian
			if p.distro == "alpine" {
				lib = need.Alpine
			}
			if lib == "" {
				return fmt.Sprintf("%s (%s lists it)", need.Withheld, r.context)
			}
			p.pkgs.addLib(lib, fmt.Sprintf("`%s` in %s, which the full `%s` image had", name, r.context, o.stage.Base.Raw))
		}
	}
	return ""
}

// addRequirements records a requirements file the original installs from
// (by its path in the image) and the files it includes. It reports false
// when the context does not say where one comes from.
func (p *pythonPlan) addRequirements(o *original, image string, depth int) bool {
	image = path.Clean(image)
	for _, r := range p.reqs {
		if r.image == image {
			return true
		}
	}
	ctx, ok := o.contextPathOf(image)
	if !ok {
		return false
	}
	p.reqs = append(p.reqs, reqFile{image: image, context: ctx})
	if depth > 5 {
		return true
	}
	b, err := o.bc.ReadFile(ctx)
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := requirementFromSource(sc.Text()); line != "" {
			p.readsSource = ctx + " has `" + line + "`"
			return false
		}
		if m := includePattern.FindStringSubmatch(sc.Text()); m != nil {
			if !p.addRequirements(o, path.Join(path.Dir(image), m[1]), depth+1) {
				return false
			}
		}
	}
	return true
}

func (p *pythonPlan) write(o *original) *Rewrite {
	distro := p.distro
	var w dockerfile
	w.b.WriteString(o.headerText())
	w.line("# builder compiles the dependencies into a virtualenv, the only thing the runtime copies.")
	w.line("FROM %s AS builder", o.stage.Base.Raw)
	w.raw(installLine(distro, p.pkgs.build))
	w.line("RUN python -m venv /opt/venv")
	w.line("ENV PATH=/opt/venv/bin:$PATH")
	w.workdir(p.pipDir)
	// Requirement files keep their paths: one may include another by a
	// path relative to itself.
	var here, elsewhere []string
	for _, r := range p.reqs {
		rel := relTo(r.image, p.pipDir)
		switch {
		case rel == r.context && path.Dir(rel) == ".":
			here = append(here, rel)
		case rel == r.context:
			elsewhere = append(elsewhere, fmt.Sprintf("COPY %s ./%s/", r.context, path.Dir(rel)))
		default:
			elsewhere = append(elsewhere, fmt.Sprintf("COPY %s %s", r.context, rel))
		}
	}
	if len(here) > 0 {
		w.line("COPY %s ./", strings.Join(here, " "))
	}
	w.raw(elsewhere...)
	var lines []string
	for _, pi := range p.installs {
		lines = append(lines, "pip install "+strings.Join(pi.args, " "))
	}
	w.line("RUN --mount=type=cache,target=%s \\\n    %s", analyzer.Pip.Caches[0].Dir, strings.Join(lines, " \\\n && "))
	w.blank()
	w.line("FROM %s", p.runtime.Raw)
	w.raw(o.labels...)
	w.raw(o.args...)
	w.raw(installLine(distro, p.pkgs.runtime()))
	if p.user {
		w.line("# A system account with no home and no login shell: nothing to log in as.")
		if distro == "alpine" {
			w.line("RUN adduser -S -D -H -u %d -s /sbin/nologin app", pythonUID)
		} else {
			w.line("RUN useradd --system --no-log-init --uid %d --no-create-home --shell /usr/sbin/nologin app", pythonUID)
		}
	} else if kept := o.keptAccounts(p.cmds); kept != "" {
		w.line("%s", kept)
	}
	w.workdir(p.workdir)
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
	owner := ""
	if p.user && p.chowned {
		owner = "app:app"
	}
	w.raw(o.runtimeCopies(p.workdir, owner)...)
	w.raw(o.keep...)
	if p.user {
		// Numeric: a runAsNonRoot check can verify a UID, not a name.
		w.line("USER %d", pythonUID)
	}
	if len(o.ports) > 0 {
		w.line("EXPOSE %s", joinPorts(o.ports))
	}
	w.raw(p.health.line)
	if plainWords(o.cmd) {
		w.line("CMD %s", execForm(o.cmd))
	} else {
		w.raw(o.cmdText)
	}

	title := titlePython
	if !p.user {
		title = titlePythonRoot
	}
	rw := &Rewrite{
		Title:   title,
		Content: w.bytes(),
		Resolves: []string{"build-toolchain-in-final-image", "python-env-missing", "user-login-shell",
			"path-user-bin-last", "masked-errors", "exec-form-cmd", "cleanup-in-later-layer", "full-base-image", "package-cache-mount-missing"},
	}
	if p.runtime.Raw != o.stage.Base.Raw {
		rw.Does = map[string]string{"full-base-image": fmt.Sprintf("builds the dependencies on %s and runs them on %s", o.stage.Base.Raw, p.runtime.Raw)}
	}
	if p.user {
		rw.Resolves = append(rw.Resolves, "final-user-root")
	} else if hasStep(p.cmds, stepUser) {
		// The original's accounts are kept as it creates them.
		rw.Resolves = slices.DeleteFunc(rw.Resolves, func(id string) bool { return id == "user-login-shell" })
	}
	var reqNames []string
	for _, r := range p.reqs {
		reqNames = append(reqNames, r.context)
	}
	rw.Explanation = append(rw.Explanation,
		fmt.Sprintf("A `builder` stage on `%s` installs the requirements into `/opt/venv` with a pip cache mount, %s copied first.", o.stage.Base.Raw, code(reqNames)),
		fmt.Sprintf("Runtime `%s`: `/opt/venv` and the files the original copied.", p.runtime.Raw),
	)
	if len(p.pkgs.build) > 0 {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("Compilers and headers (%s): builder only.", code(p.pkgs.build)))
	}
	how := "no recommended packages, lists removed in the same layer"
	if distro == "alpine" {
		how = "with `apk add --no-cache`"
	}
	rw.Explanation = append(rw.Explanation, p.pkgs.describe(how)...)
	pathNote, replaces := "", ""
	if superseded {
		pathNote = " (replaces the original's `PATH` change)"
	}
	if hasStep(p.cmds, stepUser) {
		replaces = "; replaces the unused account the original created"
	}
	rw.Explanation = append(rw.Explanation,
		"`PYTHONDONTWRITEBYTECODE=1`, `PYTHONUNBUFFERED=1`; `/opt/venv/bin` first in `PATH`"+pathNote+".")
	if p.user {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("Runs as `app`, `USER %d`, no home, no login shell%s.", pythonUID, replaces))
		if owner != "" {
			rw.Explanation = append(rw.Explanation, "Files copied with `--chown=app:app`, as the original owned them.")
		}
	} else {
		rw.Explanation = append(rw.Explanation, "The process keeps running as root, as in the original: "+p.noUser+".")
	}
	for _, in := range o.runs {
		if t := in.Text(o.d.Source); strings.Contains(t, "pip") && strings.Contains(t, "|| true") {
			rw.Explanation = append(rw.Explanation, "No `|| true` after pip install: a failed install fails the build.")
			break
		}
	}
	if plainWords(o.cmd) && o.cmdShell {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("`%s` in exec form: no shell in between, so `SIGTERM` reaches it directly.", strings.Join(o.cmd, " ")))
	}
	if p.health.note != "" {
		rw.Explanation = append(rw.Explanation, p.health.note)
	}
	if hasStep(p.cmds, stepUser) && !p.user {
		rw.Explanation = append(rw.Explanation, "The account the original creates is created in the runtime too, as the original does it.")
	}
	envIgnore := envSecretsFor(o)
	if f, ok := dockerignore(o, slices.Concat([]string{".git", ".venv", "venv", "**/__pycache__", "**/*.pyc", ".pytest_cache", ".mypy_cache"}, envIgnore), nil, reqNames); ok {
		rw.Files = append(rw.Files, f)
		what := "`.git`, local virtualenvs and caches"
		if len(envIgnore) > 0 {
			what = "`.git`, local `.env` files, local virtualenvs and caches"
		}
		rw.Explanation = append(rw.Explanation, "`.dockerignore` excludes "+what+".")
	}
	return rw
}

// dirOfCommand is the working directory of the RUN a command is part of.
func (o *original) dirOfCommand(c analyzer.Command) string {
	for _, in := range o.runs {
		if in.Start <= c.Start && c.End <= in.End {
			return o.runDir[in]
		}
	}
	return o.workdir
}

// relTo writes an image path relative to dir when it lies inside it.
func relTo(p, dir string) string {
	if rel, ok := within(p, dir); ok {
		return rel
	}
	return p
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

// pipSourceOption returns a pip install option that takes packages from
// local files rather than an index (--find-links DIR, --no-index), or "".
// A --find-links URL is an index of sorts and needs nothing local.
func pipSourceOption(args []analyzer.Word) string {
	noIndex := ""
	for i, a := range args {
		name, value, hasValue := strings.Cut(a.Value, "=")
		if !hasValue && strings.HasPrefix(name, "-f") && len(name) > 2 && !strings.HasPrefix(name, "--") {
			name, value, hasValue = "-f", name[2:], true
		}
		switch name {
		case "-f", "--find-links":
			if !hasValue && i+1 < len(args) {
				value = args[i+1].Value
			}
			if !strings.Contains(value, "://") {
				return strings.TrimSpace(name + " " + value)
			}
		case "--no-index":
			noIndex = a.Value
		}
	}
	return noIndex
}

// requirementFromSource returns a requirements line that installs from
// the source tree (-e ./lib, ./lib, file:, --find-links), or "".
func requirementFromSource(line string) string {
	l := strings.TrimSpace(line)
	if i := strings.Index(l, " #"); i >= 0 {
		l = strings.TrimSpace(l[:i])
	}
	switch {
	case l == "" || strings.HasPrefix(l, "#"):
		return ""
	case strings.HasPrefix(l, "-f"), strings.HasPrefix(l, "--find-links"):
		if !strings.Contains(l, "://") {
			return l
		}
	case strings.HasPrefix(l, "-e"), strings.HasPrefix(l, "--editable"):
		if !strings.Contains(l, "://") {
			return l
		}
	case strings.HasPrefix(l, "--no-index"),
		strings.HasPrefix(l, "."), strings.HasPrefix(l, "/"), strings.Contains(l, "file:"):
		return l
	}
	return ""
}

var includePattern = regexp.MustCompile(`^\s*(?:-r|--requirement|-c|--constraint)[\s=]+(\S+)`)

// pythonUID is the UID of the account the Python rewrite creates, above the
// ranges distributions give their own system and login users.
const pythonUID = 10001
