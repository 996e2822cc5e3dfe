package rewrite

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// nodeValuedFlags are node options that take the next word as value.
var nodeValuedFlags = []string{"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file", "--title"}

// nodePlan is what the Node service rewrite decided.
type nodePlan struct {
	distro  string
	start   []string
	main    string
	cmds    []command
	pm      nodePM
	pkgs    packageSplit
	runtime analyzer.ImageRef
	workdir string
	// user is set when the process runs as node; noUser says why not.
	user   bool
	noUser string
	chown  bool
	// appOwner is the account the original leaves the app's folder
	// itself to, "" for root or unknown.
	appOwner string
	health   health
	// loaded are the app's files devDependencyAtRuntime read: the main
	// file and what it loads.
	loaded []string
}

func planNode(o *original) (*Rewrite, *Withheld) {
	pkg := o.bc.Package
	if !officialImage(o.stage.Base, "node") || pkg == nil {
		return nil, nil
	}
	distro := o.stage.Base.Distro()
	if distro != "debian" && distro != "alpine" {
		return nil, nil
	}
	start, cmdDir, ok := startWords(o.cmd, pkg)
	if !ok {
		return nil, nil
	}
	if pc, why := devStart(o.cmd, start, pkg); why != "" {
		// What the container runs needs the dev dependencies the
		// production install leaves out, or is a development setup.
		return nil, &Withheld{Kind: analyzer.KindNodeService, Title: titleNode, Precondition: pc, Reason: why}
	}
	if path.Base(start[0]) != "node" || !plainWords(start) {
		return nil, nil
	}
	main := ""
	for i := 1; i < len(start); i++ {
		if slices.Contains(nodeValuedFlags, start[i]) {
			i++
			continue
		}
		if !strings.HasPrefix(start[i], "-") {
			main = start[i]
			break
		}
	}
	if main == "" {
		return nil, nil
	}
	cmds, ok := classify(o, nodeStep(pkg, func(string) bool { return false }))
	if !ok || hasStep(cmds, stepBuild) {
		// A service with a build (TypeScript, bundling) needs a build
		// stage whose output this package cannot know.
		return nil, nil
	}
	o.app = appDir(o, cmdDir)
	if cmdDir != "" && !path.IsAbs(cmdDir) && o.app == o.workdir && cmdDir != "." {
		return nil, nil
	}
	for _, in := range o.copies {
		// The deps stage installs from the manifests at the context's
		// root, which must be the ones the original installed from.
		srcs, rel, dirDest, ok := copySources(o, in)
		if !ok || !mirrorsContext(o.bc, srcs, rel, dirDest) {
			return nil, nil
		}
	}
	pm, ok := o.nodePackageManager()
	if !ok {
		return nil, nil
	}
	if why := installWithheld(cmds, o.bc, &pm); why != "" {
		return nil, &Withheld{Kind: analyzer.KindNodeService, Title: titleNode, Precondition: analyzer.PreconditionContext, Reason: why}
	}
	// The app runs where the original ran it, / included.
	p := &nodePlan{distro: distro, start: start, main: main, cmds: cmds, pm: pm, workdir: o.app}
	p.runtime = analyzer.ParseImageRef(o.stage.Base.WithTag(slimTag("node", o.stage.Base.Tag)))
	if w := runtimeTagWithheld(analyzer.KindNodeService, titleNode, o.stage.Base, p.runtime); w != nil {
		return nil, w
	}
	if w := p.preconditions(o); w != nil {
		return nil, w
	}
	return p.write(o), nil
}

// preconditions are what the Node rewrite must know before it is offered,
// checked against the analyzer's facts; it returns what withholds the
// rewrite, and settles the parts that need evidence (USER, HEALTHCHECK).
func (p *nodePlan) preconditions(o *original) *Withheld {
	withhold := func(pc analyzer.Precondition, why string) *Withheld {
		return &Withheld{Kind: analyzer.KindNodeService, Title: titleNode, Precondition: pc, Reason: why}
	}
	if w := buildArgBase(o, withhold); w != nil {
		return w
	}
	// The final stage of a hand-written application image, and nothing
	// the original prepares in the image is lost.
	if w := o.serviceWithheld(analyzer.KindNodeService, titleNode, p.cmds); w != nil {
		return w
	}
	// The files the rewrite copies by name are in the context.
	if why := o.ignoredWithheld(append(slices.Clone(p.pm.manifests), p.main)); why != "" {
		return withhold(analyzer.PreconditionContext, why)
	}
	// The install finds what the original's found in its cache folder.
	if why := o.shippedCacheWithheld(p.cmds, p.pm.cache); why != "" {
		return withhold(analyzer.PreconditionMount, why)
	}
	// The production install has what the process loads.
	if why := p.devDependencyAtRuntime(o); why != "" {
		return withhold(analyzer.PreconditionTool, why)
	}
	// The runtime has what the dependencies load or run.
	p.pkgs = splitPackages(p.distro, release(p.distro, o.stage.Base.Tag), nil, p.cmds)
	// node-gyp needs Python to compile native modules; the app does not.
	for _, py := range []string{"python3", "python", "py3-setuptools", "python3-setuptools"} {
		if i := slices.Index(p.pkgs.tools, py); i >= 0 {
			p.pkgs.tools = slices.Delete(p.pkgs.tools, i, i+1)
			p.pkgs.build = append(p.pkgs.build, py)
		}
	}
	if p.runtime.Tag != o.stage.Base.Tag {
		for _, dep := range slices.Sorted(maps.Keys(o.bc.Package.Dependencies)) {
			if need, ok := analyzer.FullImageNeedOf("node", dep); ok {
				return withhold(analyzer.PreconditionTool, need.Withheld+" (package.json depends on it)")
			}
		}
	}
	// A HEALTHCHECK the original had keeps working.
	major, _ := strconv.Atoi(nodeMajor(o.stage.Base.Tag))
	kept, why := o.keptHealth(p.runtime, withPackage(p.pkgs.runtime(), "tini"), nodeProber(major))
	if why != "" {
		return withhold(analyzer.PreconditionTool, why)
	}
	// USER only where the process may run unprivileged.
	e, probeWhy := o.nodeProbe(p.main)
	var ports []int
	if e.port != 0 {
		ports = append(ports, o.listenPort(e.port, e.env))
	}
	p.user, p.noUser = o.userAllowedForApp(ports, "node", "1000")
	p.chown = o.chowned(p.cmds)
	if p.workdir != "/" {
		if owner, _ := o.facts().OwnerAt(0, p.workdir); owner != "" && !analyzer.IsRootUser(owner) {
			p.appOwner = owner
		}
	}
	// A new HEALTHCHECK only with evidence of the endpoint.
	p.health = kept
	if o.healthIn == nil {
		if probeWhy != "" {
			p.health.note = noRouteProbe(probeWhy)
		} else {
			p.health.line = newProbeOptions + execForm(nodeProber(major).forEndpoint(e, 0))
			p.health.note = fmt.Sprintf("A HEALTHCHECK asks `%s` (served in `%s`) on %s with node itself.", e.route, e.file, e.describePort())
		}
	}
	return nil
}

func (p *nodePlan) write(o *original) *Rewrite {
	distro, pm, workdir := p.distro, p.pm, p.workdir
	var w dockerfile
	w.b.WriteString(o.headerText())
	w.line("# deps installs production dependencies only, reused until the manifests change.")
	w.line("FROM %s AS deps", o.stage.Base.Raw)
	w.workdir(workdir)
	w.raw(installLine(distro, p.pkgs.build))
	w.line("COPY %s ./", strings.Join(pm.manifests, " "))
	w.line("%s", pm.installRun(pm.installProd))
	w.blank()
	w.line("FROM %s", p.runtime.Raw)
	w.raw(o.labels...)
	w.raw(o.args...)
	w.line("# tini runs as PID 1: it forwards SIGTERM to node and reaps zombie processes.")
	w.raw(installLine(distro, withPackage(p.pkgs.runtime(), "tini")))
	if !p.user {
		if kept := o.keptAccounts(p.cmds); kept != "" {
			w.line("%s", kept)
		}
	}
	w.workdir(workdir)
	keepOwner := p.user && p.appOwner != ""
	if keepOwner {
		// WORKDIR creates the folder as root; the original left it to an
		// account, and the app may write in its working directory.
		w.line("# The app's folder itself belongs to node, as in the original; WORKDIR creates it as root.")
		w.line("RUN chown node:node %s", workdir)
	}
	if !o.setsEnv("NODE_ENV") {
		w.line("ENV NODE_ENV=production")
	}
	for _, e := range o.envs {
		w.raw(e.text)
	}
	owner := ""
	if p.chown && p.user {
		owner = "node:node"
	}
	ownerFlag := ""
	if owner != "" {
		ownerFlag = "--chown=" + owner + " "
	}
	w.line("COPY %s--from=deps %s ./node_modules", ownerFlag, path.Join(workdir, "node_modules"))
	w.raw(o.runtimeCopies(workdir, owner)...)
	w.raw(o.keep...)
	if p.user {
		// The official node images' node user, by number: a runAsNonRoot
		// check can verify a UID, not a name.
		w.line("USER 1000")
	}
	if len(o.ports) > 0 {
		w.line("EXPOSE %s", joinPorts(o.ports))
	}
	w.raw(p.health.line)
	w.line(`ENTRYPOINT ["tini", "--"]`)
	w.line("CMD %s", execForm(p.start))

	title := titleNode
	if !p.user {
		title = titleNodeRoot
	}
	rw := &Rewrite{
		Title:   title,
		Content: w.bytes(),
		Resolves: []string{"build-toolchain-in-final-image", "npm-production-flag", "npm-install-with-lockfile",
			"init-process-missing", "exec-form-cmd", "chown-after-copy", "package-cache-mount-missing"},
	}
	if p.user {
		rw.Resolves = append(rw.Resolves, "final-user-root")
	}
	if p.runtime.Raw != o.stage.Base.Raw {
		rw.Does = map[string]string{"full-base-image": fmt.Sprintf("installs the dependencies on %s and runs them on %s", o.stage.Base.Raw, p.runtime.Raw)}
	}
	if pm.stale != "" {
		// npm install stays, and so does the finding that asks for npm ci.
		rw.Resolves = slices.DeleteFunc(rw.Resolves, func(id string) bool { return id == "npm-install-with-lockfile" })
	}
	install := "`" + pm.installProd + "`"
	switch {
	case pm.stale != "":
		install += " (" + pm.stale + ", so the locked install would refuse it: update the lockfile to get one)"
	case !pm.locked:
		install += " (no lockfile: commit one to get `npm ci --omit=dev`, which installs exactly what it records)"
	}
	rw.Explanation = append(rw.Explanation,
		fmt.Sprintf("A `deps` stage copies %s first and runs %s with a cache mount.", code(pm.manifests), install),
		fmt.Sprintf("Runtime `%s`: `node_modules` from `deps` and the files the original copied.", p.runtime.Raw),
	)
	if note := p.devDependenciesNote(o); note != "" {
		rw.Explanation = append(rw.Explanation, note)
	}
	if p.user {
		if u := analyzer.FinalUser(o.d); u == "" || analyzer.IsRootUser(u) {
			rw.Explanation = append(rw.Explanation, "Runs as the image's `node` user, `USER 1000`, instead of root.")
		} else {
			rw.Explanation = append(rw.Explanation, "Still the image's `node` user, now as `USER 1000`.")
		}
	} else {
		rw.Explanation = append(rw.Explanation, "The process keeps running as root, as in the original: "+p.noUser+".")
	}
	rw.Explanation = append(rw.Explanation,
		fmt.Sprintf("`tini` is PID 1 and starts `%s` in exec form: `SIGTERM` reaches node, zombies are reaped.", strings.Join(p.start, " ")),
	)
	if !o.setsEnv("NODE_ENV") {
		rw.Explanation = append(rw.Explanation, "`NODE_ENV=production` (the production behaviour of Express and most libraries).")
	}
	rw.Explanation = append(rw.Explanation, p.ownership(o, owner != "", keepOwner)...)
	if p.health.note != "" {
		rw.Explanation = append(rw.Explanation, p.health.note)
	}
	if len(p.pkgs.build) > 0 {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("Build-only packages (%s): `deps` stage only.", code(p.pkgs.build)))
	}
	how := "without recommended packages"
	if distro == "alpine" {
		how = "with `apk add --no-cache`"
	}
	rw.Explanation = append(rw.Explanation, p.pkgs.describe(how)...)
	switch {
	case hasStep(p.cmds, stepUser) && p.user:
		rw.Explanation = append(rw.Explanation, "The account the original created is replaced by the image's own `node` user; check file permissions the app relies on.")
	case hasStep(p.cmds, stepUser):
		rw.Explanation = append(rw.Explanation, "The account the original creates is created in the runtime too, as the original does it.")
	}
	env := envSecretsFor(o)
	if f, ok := dockerignore(o, slices.Concat([]string{".git", "test", "tests", "**/__tests__", "**/*.test.js", "**/*.spec.js", "coverage", "npm-debug.log*"}, env),
		[]string{"**/node_modules"}, append(slices.Clone(pm.manifests), p.main)); ok {
		rw.Files = append(rw.Files, f)
		what := ", `.git` and tests."
		if len(env) > 0 {
			what = ", `.git`, local `.env` files and tests."
		}
		if o.sharedContext() {
			what = "; nothing else, as other Dockerfiles build from the same context."
		}
		rw.Explanation = append(rw.Explanation, "`.dockerignore` excludes a local `node_modules` (it would overwrite the installed one)"+what)
	}
	return rw
}

// ownership says what the rewrite does with the ownership the original
// gave the app's files and folder: COPY --chown in place of a recursive
// chown layer only where the original had one, the folder itself kept
// node's where the original left it to an account, and, where the
// process stays root, that the files stay root's.
func (p *nodePlan) ownership(o *original, copyChown, keepOwner bool) []string {
	var out []string
	var recursive []string
	for _, c := range p.cmds {
		if c.step == stepChown && c.cmd.Name == "chown" && recursiveChown(c.cmd) {
			recursive = append(recursive, strconv.Itoa(o.d.Line(c.cmd.Start)))
		}
	}
	switch {
	case copyChown && len(recursive) > 0:
		out = append(out, fmt.Sprintf("`COPY --chown=node:node` replaces the recursive `chown` layer (line %s).", strings.Join(recursive, ", ")))
	case copyChown:
		how := "`chown`"
		if slices.ContainsFunc(o.copies, func(in *analyzer.Instruction) bool { _, ok := in.Flag("chown"); return ok }) {
			how = "`COPY --chown`"
		}
		out = append(out, "`COPY --chown=node:node` gives node the files, as the original's "+how+" did.")
	case p.chown:
		out = append(out, "The original gives the app's files to an account (`chown` or `COPY --chown`); the process runs as root here, as in the original, so the rewrite copies them as root's.")
	}
	if keepOwner {
		out = append(out, fmt.Sprintf("`RUN chown node:node %s` (the folder only) keeps it node's, as in the original; `WORKDIR` alone makes it root's.", p.workdir))
	}
	return out
}

// recursiveChown reports chown -R (or --recursive, or -R among combined
// short options).
func recursiveChown(c analyzer.Command) bool {
	for _, a := range c.Args {
		v := a.Value
		if v == "--recursive" || strings.HasPrefix(v, "-") && !strings.HasPrefix(v, "--") && strings.Contains(v, "R") {
			return true
		}
	}
	return false
}

// maxListed is how many devDependencies the explanation names.
const maxListed = 6

// devDependenciesNote says what the production install leaves out that
// the original's install had: the devDependencies, named (the first
// maxListed), and why the rewrite holds that the process does without
// them. "" when the original left them out already.
func (p *nodePlan) devDependenciesNote(o *original) string {
	if omitsDev(p.cmds) {
		return ""
	}
	install := ""
	for _, c := range p.cmds {
		if c.step == stepDeps {
			install = c.cmd.String()
			break
		}
	}
	var dev []string
	for _, name := range slices.Sorted(maps.Keys(o.bc.Package.DevDependencies)) {
		if _, prod := o.bc.Package.Dependencies[name]; !prod {
			dev = append(dev, name)
		}
	}
	if len(dev) == 0 {
		return fmt.Sprintf("The original's `%s` also installs devDependencies; package.json lists none, so the runtime gets the same packages.", install)
	}
	listed := code(dev[:min(len(dev), maxListed)])
	if len(dev) > maxListed {
		listed += fmt.Sprintf(" and %d more", len(dev)-maxListed)
	}
	uses := "The start command uses"
	if len(p.loaded) > 0 {
		uses = "The start command and the files it loads (" + code(p.loaded) + ") use"
	}
	return fmt.Sprintf("The runtime no longer has the devDependencies the original's `%s` installed: %s. %s none of them; a process that runs one anyway (spawned by name, loaded by a computed path) would fail.",
		install, listed, uses)
}

// devBinaries are the binaries of dev packages whose name differs from
// the package's; other packages' binaries are named as the package.
var devBinaries = map[string]string{
	"tsc": "typescript", "babel-node": "@babel/node", "tsnd": "ts-node-dev", "ts-node-esm": "ts-node",
	"ts-node-transpile-only": "ts-node", "vue-cli-service": "@vue/cli-service", "nest": "@nestjs/cli",
}

// devRunners restart the process when files change: a development setup
// even where they are listed among the dependencies.
var devRunners = []string{"nodemon", "ts-node-dev", "tsnd", "node-dev", "supervisor", "forever-monitor"}

// devScripts are script names that say the image runs the app for
// development.
func devScript(name string) bool {
	return name == "dev" || name == "develop" || name == "watch" || strings.HasPrefix(name, "dev:") || strings.HasSuffix(name, ":dev") || strings.HasSuffix(name, ":watch")
}

// devStart says why what the container starts cannot run on the
// production install, or is a development setup the rewrite should not
// turn into a production image, or would lose a script npm runs around
// it; "" when none of that holds. cmd is the command as written, start
// what startWords resolved it to.
func devStart(cmd, start []string, pkg *analyzer.PackageJSON) (analyzer.Precondition, string) {
	devOnly := func(name string) bool {
		if name == "" {
			return false
		}
		_, dev := pkg.DevDependencies[name]
		_, prod := pkg.Dependencies[name]
		return dev && !prod
	}
	run := "the container runs `" + strings.Join(start, " ") + "`"
	if strings.Join(cmd, " ") != strings.Join(start, " ") {
		run = "`" + strings.Join(cmd, " ") + "` runs `" + strings.Join(start, " ") + "`"
	}
	// Scripts npm or yarn runs: the ones named, and their pre/post hooks,
	// which the rewrite's exec-form CMD would skip.
	words := cmd
	if len(words) >= 3 && words[0] == "cd" && words[2] == "&&" {
		words = words[3:]
	}
	for i := 0; i < 3 && len(words) >= 2; i++ {
		runner, script := words[0], ""
		switch {
		case (runner == "npm" || runner == "yarn" || runner == "pnpm") && words[1] == "start":
			script = "start"
		case (runner == "npm" || runner == "yarn" || runner == "pnpm") && len(words) >= 3 && (words[1] == "run" || words[1] == "run-script"):
			script = words[2]
		case runner == "yarn" || runner == "pnpm":
			script = words[1]
		}
		if script == "" || pkg.Scripts[script] == "" {
			break
		}
		if devScript(script) {
			return analyzer.PreconditionRole, fmt.Sprintf("the container runs the %s script (`%s`), a development setup: a production image of it is another image, not this one smaller", script, pkg.Scripts[script])
		}
		if runner != "pnpm" {
			for _, hook := range []string{"pre" + script, "post" + script} {
				if body := pkg.Scripts[hook]; body != "" {
					return analyzer.PreconditionUnknown, fmt.Sprintf("`%s` also runs the %s script (`%s`), which the rewrite's exec-form `CMD %s` would skip", strings.Join(words, " "), hook, body, strings.Join(start, " "))
				}
			}
		}
		words = strings.Fields(pkg.Scripts[script])
	}
	for i, w := range start {
		base := path.Base(w)
		if slices.Contains(devRunners, base) {
			return analyzer.PreconditionRole, run + ", which restarts the process when files change (" + base + "), a development setup: a production image of it is another image, not this one smaller"
		}
		if base == "node" && (slices.Contains(start[i+1:], "--watch") || slices.ContainsFunc(start[i+1:], func(a string) bool { return strings.HasPrefix(a, "--watch-path") })) {
			return analyzer.PreconditionRole, run + ": node --watch restarts the process when files change, a development setup: a production image of it is another image, not this one smaller"
		}
		// A binary of a dev package: the program itself, or what node runs
		// from node_modules.
		name := devBinaries[base]
		if name == "" {
			name = base
		}
		if i == 0 && base != "node" && devOnly(name) {
			return analyzer.PreconditionTool, fmt.Sprintf("%s: %s comes from %s, which package.json lists under devDependencies, and the rewrite's production install would leave it out", run, base, name)
		}
		if rest, ok := strings.CutPrefix(path.Clean(w), "node_modules/"); ok {
			pkgName := packageName(rest)
			if strings.HasPrefix(rest, ".bin/") {
				pkgName = devBinaries[path.Base(rest)]
				if pkgName == "" {
					pkgName = path.Base(rest)
				}
			}
			if devOnly(pkgName) {
				return analyzer.PreconditionTool, fmt.Sprintf("%s: %s comes from %s, which package.json lists under devDependencies, and the rewrite's production install would leave it out", run, w, pkgName)
			}
		}
	}
	return "", ""
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, " ")
}

// devDependencyAtRuntime says why the rewrite's production install would
// leave out a package the running process loads, or "": a preload or
// loader the start command names (node -r ts-node/register), or a package
// the main file requires or imports, that package.json lists under
// devDependencies only. An original that already left dev dependencies
// out ran without them, so nothing changes for it.
func (p *nodePlan) devDependencyAtRuntime(o *original) string {
	pkg := o.bc.Package
	if pkg == nil || len(pkg.DevDependencies) == 0 || omitsDev(p.cmds) {
		return ""
	}
	devOnly := func(spec string) string {
		name := packageName(spec)
		if name == "" {
			return ""
		}
		if _, dev := pkg.DevDependencies[name]; !dev {
			return ""
		}
		if _, prod := pkg.Dependencies[name]; prod {
			return ""
		}
		return name
	}
	for i := 1; i+1 < len(p.start); i++ {
		switch p.start[i] {
		case "-r", "--require", "--import", "--loader", "--experimental-loader":
			if name := devOnly(p.start[i+1]); name != "" {
				return fmt.Sprintf("the start command loads %s (%s %s), which package.json lists under devDependencies: the rewrite's production install would leave it out", name, p.start[i], p.start[i+1])
			}
		}
	}
	// The main file and the app's own files it loads, as far as the
	// build context holds them.
	seen := map[string]bool{}
	queue := []string{p.main}
	for len(queue) > 0 && len(seen) < maxLoadedFiles {
		spec := queue[0]
		queue = queue[1:]
		for _, name := range []string{spec, spec + ".js", spec + ".cjs", spec + ".mjs", spec + ".ts", path.Join(spec, "index.js")} {
			name = path.Clean(name)
			if seen[name] {
				break
			}
			src, why := o.readImageFile(name)
			if why != "" {
				continue
			}
			seen[name] = true
			p.loaded = append(p.loaded, name)
			for _, m := range nodeRequire.FindAllSubmatch(src, -1) {
				spec := string(m[1])
				if spec == "" {
					spec = string(m[2])
				}
				if strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") {
					if local := path.Join(path.Dir(name), spec); !strings.HasPrefix(local, "../") {
						queue = append(queue, local)
					}
					continue
				}
				if dep := devOnly(spec); dep != "" {
					via := name
					if name != path.Clean(p.main) {
						via = name + ", which " + p.main + " loads,"
					}
					return fmt.Sprintf("%s loads %s, which package.json lists under devDependencies: the rewrite's production install would leave it out", via, dep)
				}
			}
			break
		}
	}
	return ""
}

// maxLoadedFiles bounds the app files devDependencyAtRuntime reads.
const maxLoadedFiles = 200

// nodeRequire finds require("x") and import … from "x" / import("x").
var nodeRequire = regexp.MustCompile(`(?:require|import)\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s[^;\n]*?from\s*["']([^"']+)["']`)

// packageName returns the npm package a module specifier names
// (@scope/name/sub → @scope/name, name/sub → name), "" for a relative or
// absolute path or a node: built-in.
func packageName(spec string) string {
	if spec == "" || strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") || strings.HasPrefix(spec, "node:") {
		return ""
	}
	parts := strings.SplitN(spec, "/", 3)
	if strings.HasPrefix(spec, "@") {
		if len(parts) < 2 {
			return ""
		}
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// omitsDev reports whether every dependency install of the original
// leaves dev dependencies out already: by its flags or, for npm, by
// NODE_ENV=production, as the analyzer's fact reads it.
func omitsDev(cmds []command) bool {
	found := false
	for _, c := range cmds {
		if c.step != stepDeps {
			continue
		}
		found = true
		pm, mc := analyzer.PackageManagerOf(c.cmd)
		if pm == nil || !pm.OmitsDev(c.in, mc) {
			return false
		}
	}
	return found
}

// noRouteProbe is the rewrite's note when it found no health route. It
// says what the rewrite does not do, and no more: healthcheck-missing may
// still propose a probe that only asks whether the server answers.
func noRouteProbe(why string) string {
	return "The rewrite adds no HEALTHCHECK of its own: " + why + "; a probe that expects success from a guessed route would mark a working service unhealthy (a check that the server answers at all may still be proposed on its own)."
}
