package rewrite

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// nodeValuedFlags are node options that take the next word as value.
var nodeValuedFlags = []string{"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file", "--title"}

func planNode(o *original) (*Rewrite, bool) {
	pkg := o.bc.Package
	if o.stage.Base.Name() != "node" || pkg == nil {
		return nil, false
	}
	distro := o.stage.Base.Distro()
	if distro != "debian" && distro != "alpine" {
		return nil, false
	}
	start, cmdDir, ok := startWords(o.cmd, pkg)
	if !ok || path.Base(start[0]) != "node" || !plainWords(start) {
		return nil, false
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
		return nil, false
	}
	cmds, ok := classify(o, nodeStep(pkg, func(string) bool { return false }))
	if !ok || hasStep(cmds, stepBuild) {
		// A service with a build (TypeScript, bundling) needs a build
		// stage whose output this package cannot know.
		return nil, false
	}
	o.app = appDir(o, cmdDir)
	if cmdDir != "" && !path.IsAbs(cmdDir) && o.app == o.workdir && cmdDir != "." {
		return nil, false
	}
	for _, in := range o.copies {
		srcs, rel, dirDest, ok := copySources(o, in)
		if !ok || !mirrorsContext(o.bc, srcs, rel, dirDest) {
			return nil, false
		}
	}
	pm, ok := packageManager(o.bc)
	if !ok {
		return nil, false
	}
	workdir := o.app
	if workdir == "/" {
		workdir = "/app"
	}
	buildPkgs, runtimePkgs, dropped := splitPackages(distro, cmds)
	// node-gyp needs Python to compile native modules; the app does not.
	for _, py := range []string{"python3", "python", "py3-setuptools", "python3-setuptools"} {
		if i := slices.Index(runtimePkgs, py); i >= 0 {
			runtimePkgs = slices.Delete(runtimePkgs, i, i+1)
			buildPkgs = append(buildPkgs, py)
		}
	}
	chown := hasStep(cmds, stepChown)
	runtimeImage := imageWithTag(o.stage.Base, slimTag("node", o.stage.Base.Tag))
	files := packageFiles(o.bc, main)
	port := o.port(0)

	var w dockerfile
	w.b.WriteString(o.headerText())
	w.line("# deps installs production dependencies only, reused until the manifests change.")
	w.line("FROM %s AS deps", o.stage.Base.Raw)
	w.line("WORKDIR %s", workdir)
	w.raw(installLine(distro, buildPkgs))
	w.line("COPY %s ./", strings.Join(pm.manifests, " "))
	w.line("%s", pm.installRun(pm.installProd))
	w.blank()
	w.line("FROM %s", runtimeImage)
	w.raw(o.labels...)
	w.raw(o.args...)
	w.line("# tini runs as PID 1: it forwards SIGTERM to node and reaps zombie processes.")
	w.raw(installLine(distro, append(runtimePkgs, "tini")))
	w.line("WORKDIR %s", workdir)
	if !o.setsEnv("NODE_ENV") {
		w.line("ENV NODE_ENV=production")
	}
	for _, e := range o.envs {
		w.raw(e.text)
	}
	owner := ""
	if chown {
		owner = "--chown=node:node "
	}
	w.line("COPY %s--from=deps %s/node_modules ./node_modules", owner, workdir)
	if files != nil {
		// One COPY each: a folder copied with others into ./ would have its
		// contents spilled into the app folder.
		for _, f := range files {
			w.line("COPY %s%s ./%s", owner, f, f)
		}
	} else {
		w.line("COPY %s. .", owner)
	}
	w.raw(o.keep...)
	w.line("USER node")
	if len(o.ports) > 0 {
		w.line("EXPOSE %s", joinPorts(o.ports))
	}
	health, route := o.health, ""
	if health == "" && port != 0 {
		if route = findRoute(o.bc, main); route != "" {
			url := fmt.Sprintf("http://127.0.0.1:%d%s", port, route)
			check := fmt.Sprintf("fetch('%s').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))", url)
			if m, err := strconv.Atoi(nodeMajor(o.stage.Base.Tag)); err == nil && m < 18 {
				check = fmt.Sprintf("require('http').get('%s', (r) => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))", url)
			}
			health = "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\\n  CMD " + execForm([]string{"node", "-e", check})
		}
	}
	if health != "" {
		w.raw(health)
	}
	w.line(`ENTRYPOINT ["tini", "--"]`)
	w.line("CMD %s", execForm(start))

	rw := &Rewrite{
		Title:   "Split the Node service into a dependencies stage and a slim, non-root runtime",
		Content: w.bytes(),
		Resolves: []string{"build-toolchain-in-final-image", "npm-production-flag", "npm-install-with-lockfile", "final-user-root",
			"init-process-missing", "exec-form-cmd", "chown-after-copy", "package-cache-mount-missing"},
	}
	install := "`" + pm.installProd + "`"
	if !pm.locked {
		install += " (there is no lockfile; commit one and this becomes `npm ci --omit=dev`, which installs exactly what it records)"
	}
	rw.Explanation = append(rw.Explanation,
		fmt.Sprintf("A `deps` stage copies %s before anything else and runs %s with a BuildKit cache mount: dependencies are reinstalled only when the manifests change, and dev dependencies never reach the image.", code(pm.manifests), install),
		fmt.Sprintf("The runtime is `%s`; it receives `node_modules` from the `deps` stage and the app's files, without tests and source maps.", runtimeImage),
		"The process runs as the image's `node` user (uid 1000) instead of root.",
		fmt.Sprintf("`tini` is PID 1 and starts `%s` in exec form: `SIGTERM` reaches node, so the container stops gracefully instead of being killed after the timeout, and zombie processes are reaped.", strings.Join(start, " ")),
	)
	if !o.setsEnv("NODE_ENV") {
		rw.Explanation = append(rw.Explanation, "`NODE_ENV=production` turns on the production behaviour of Express and most libraries.")
	}
	if chown {
		rw.Explanation = append(rw.Explanation, "`COPY --chown=node:node` replaces the recursive `chown`, which copied every file into one more layer.")
	}
	if route != "" {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("A HEALTHCHECK asks `%s` (found in `%s`) on port %d with node itself, since the slim image has neither curl nor wget.", route, main, port))
	}
	if len(buildPkgs) > 0 {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("Build-only packages (%s) are installed in the `deps` stage only.", code(buildPkgs)))
	}
	if len(dropped) > 0 {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("Editors (%s) are not installed in the runtime.", code(dropped)))
	}
	if hasStep(cmds, stepUser) {
		rw.Explanation = append(rw.Explanation, "The account the original created is replaced by the image's own `node` user; check file permissions the app relies on.")
	}
	if files != nil {
		rw.Explanation = append(rw.Explanation, "Only the files package.json lists (`main` and `files`) are copied into the runtime.")
	}
	if f, ok := dockerignore(o, []string{"**/node_modules", ".git", "test", "tests", "**/__tests__", "**/*.test.js", "**/*.spec.js", "**/*.map", "coverage", "npm-debug.log*"},
		append(append([]string{}, pm.manifests...), main)); ok {
		rw.Files = append(rw.Files, f)
		rw.Explanation = append(rw.Explanation, "`.dockerignore` keeps `node_modules`, `.git`, tests and source maps out of the build context and so out of the image.")
	}
	return rw, true
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, " ")
}

// packageFiles lists what package.json says the package consists of
// (`files` plus `main` and package.json), or nil when it does not say.
func packageFiles(bc *analyzer.BuildContext, main string) []string {
	b, err := bc.ReadFile("package.json")
	if err != nil {
		return nil
	}
	var p struct {
		Files []string `json:"files"`
	}
	if json.Unmarshal(b, &p) != nil || len(p.Files) == 0 {
		return nil
	}
	out := []string{"package.json"}
	covered := func(f string) bool {
		for _, have := range out {
			if f == have || strings.HasPrefix(f, have+"/") {
				return true
			}
		}
		return false
	}
	for _, f := range append(p.Files, main) {
		f = path.Clean(strings.TrimPrefix(f, "./"))
		if f == "." || strings.HasPrefix(f, "..") || strings.ContainsAny(f, " \"'$!*?[{") {
			return nil
		}
		if !covered(f) {
			out = append(out, f)
		}
	}
	return out
}

var routePattern = regexp.MustCompile(`["'](/healthz?|/health/?(?:live|ready)?|/livez|/readyz|/ping)["']`)

// findRoute looks for a health route in the entry file of the app.
func findRoute(bc *analyzer.BuildContext, file string) string {
	for _, name := range []string{file, file + ".js", path.Join(file, "index.js")} {
		b, err := bc.ReadFile(name)
		if err != nil {
			continue
		}
		if m := routePattern.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		return ""
	}
	return ""
}
