package rewrite

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// nodePM is how a Node project installs its dependencies, chosen by the
// lockfile in the context.
type nodePM struct {
	name string
	// manifests are copied before the install so that it is cached until
	// they change.
	manifests []string
	// install installs everything; installProd omits dev dependencies.
	install, installProd string
	cache                string
	// run runs a package script.
	run string
	// locked is false when there is no lockfile, so installs resolve
	// versions afresh.
	locked bool
	// stale says how the lockfile is out of step with package.json, which
	// the locked install would refuse: the install is the unlocked one,
	// as in the original.
	stale string
}

// nodePackageManager is packageManager of the original's context, read
// once. Each caller gets its own copy to adjust (installWithheld adds
// manifests), with no room to append into another's.
func (o *original) nodePackageManager() (nodePM, bool) {
	if o.node == nil {
		pm, ok := packageManager(o.bc)
		o.node, o.nodeOK = &pm, ok
	}
	pm := *o.node
	pm.manifests = slices.Clip(pm.manifests)
	return pm, o.nodeOK
}

// packageManager picks the installer from the lockfile, or reports false
// for one this package does not write (bun). A lockfile out of step with
// package.json counts as none: npm ci and --frozen-lockfile would refuse
// it, where the original's install updated it.
func packageManager(bc *analyzer.BuildContext) (nodePM, bool) {
	pkg := bc.Package
	switch {
	case bc.HasLockfile(analyzer.Bun.Lockfiles...):
		return nodePM{}, false
	case bc.HasLockfile(analyzer.Pnpm.Lockfiles...):
		return nodePM{name: "pnpm", manifests: slices.Concat(analyzer.Pnpm.Manifests, analyzer.Pnpm.Lockfiles),
			install:     "corepack enable && pnpm install --frozen-lockfile",
			installProd: "corepack enable && pnpm install --frozen-lockfile --prod",
			cache:       analyzer.Pnpm.Caches[0].Dir, run: "pnpm run", locked: true}, true
	case bc.HasLockfile(analyzer.Yarn.Lockfiles...):
		if bc.Has(".yarnrc.yml") || pkg != nil && strings.HasPrefix(pkg.PackageManager, "yarn@") && !strings.HasPrefix(pkg.PackageManager, "yarn@1") {
			// Yarn 2+ keeps its own cache and needs its config and release.
			return nodePM{}, false
		}
		frozen, locked, stale := " --frozen-lockfile", true, ""
		if missing := analyzer.LockfileMissing(bc, analyzer.Yarn.Lockfiles[0]); missing != "" {
			frozen, locked, stale = "", false, analyzer.Yarn.Lockfiles[0]+" does not hold "+missing+", which package.json declares"
		}
		return nodePM{name: "yarn", manifests: slices.Concat(analyzer.Yarn.Manifests, analyzer.Yarn.Lockfiles),
			install:     "yarn install" + frozen,
			installProd: "yarn install" + frozen + " --production",
			cache:       analyzer.Yarn.Caches[0].Dir, run: "yarn run", locked: locked, stale: stale}, true
	case bc.HasLockfile(analyzer.Npm.Lockfiles...):
		// npm prefers the shrinkwrap when both exist.
		lock := npmLock(bc)
		if missing := analyzer.LockfileMissing(bc, lock); missing != "" {
			return nodePM{name: "npm", manifests: append(slices.Clone(analyzer.Npm.Manifests), lock),
				install: "npm install", installProd: "npm install --omit=dev", cache: analyzer.Npm.Caches[0].Dir, run: "npm run",
				stale: lock + " does not hold " + missing + ", which package.json declares"}, true
		}
		return nodePM{name: "npm", manifests: append(slices.Clone(analyzer.Npm.Manifests), lock),
			install: "npm ci", installProd: "npm ci --omit=dev", cache: analyzer.Npm.Caches[0].Dir, run: "npm run", locked: true}, true
	}
	return nodePM{name: "npm", manifests: analyzer.Npm.Manifests,
		install: "npm install", installProd: "npm install --omit=dev", cache: analyzer.Npm.Caches[0].Dir, run: "npm run"}, true
}

// npmLock is the lockfile npm reads: the shrinkwrap when both exist.
func npmLock(bc *analyzer.BuildContext) string {
	if bc.HasLockfile(analyzer.Npm.Lockfiles[1]) {
		return analyzer.Npm.Lockfiles[1]
	}
	return analyzer.Npm.Lockfiles[0]
}

// installRun is the RUN line of an install with its cache mount.
func (pm nodePM) installRun(cmd string) string {
	return "RUN --mount=type=cache,target=" + pm.cache + " " + cmd
}

// nodeStep recognises package-manager commands: installs and script runs.
// build names the scripts that build the project.
func nodeStep(pkg *analyzer.PackageJSON, allowGlobal func(string) bool) func(analyzer.Command) step {
	return func(c analyzer.Command) step {
		pm, _ := analyzer.PackageManagerOf(c)
		if pm != analyzer.Npm && pm != analyzer.Yarn && pm != analyzer.Pnpm {
			return stepUnknown
		}
		sub := pm.Subcommand(c)
		if c.Has("-g", "--global") || c.Name == "yarn" && sub == "global" {
			for _, w := range c.Positional()[1:] {
				if w.Value == "add" {
					continue
				}
				if !allowGlobal(w.Value) {
					return stepUnknown
				}
			}
			return stepNoop
		}
		if sub == "add" || pm.InstallsDependencies(c) {
			if sub == "add" || len(c.Positional(pm.Valued...)) > 1 {
				// Installing a named package changes package.json in the
				// image only; the new file would not reproduce it.
				return stepUnknown
			}
			return stepDeps
		}
		switch sub {
		case "run", "run-script":
			if p := c.Positional(); len(p) > 1 && isBuildScript(pkg, p[1].Value) {
				return stepBuild
			}
		case "prune", "cache":
			return stepNoop
		default:
			if c.Name != "npm" && isBuildScript(pkg, sub) {
				return stepBuild
			}
		}
		return stepUnknown
	}
}

func isBuildScript(pkg *analyzer.PackageJSON, name string) bool {
	if pkg == nil || pkg.Scripts[name] == "" {
		return false
	}
	return name == "build" || strings.HasPrefix(name, "build:") || strings.HasPrefix(name, "build-")
}

// buildScriptRun returns the script the original ran to build, or
// "build" when the package has one and the original ran none.
func buildScriptName(cmds []command, pkg *analyzer.PackageJSON) string {
	for _, c := range cmds {
		if c.step != stepBuild {
			continue
		}
		p := c.cmd.Positional()
		if p[0].Value == "run" || p[0].Value == "run-script" {
			return p[1].Value
		}
		return p[0].Value
	}
	if pkg != nil && pkg.Scripts["build"] != "" {
		return "build"
	}
	return ""
}

// startWords resolves what the container really runs: it strips a
// leading `cd DIR &&` (returned as dir), `exec` and `npx`, and expands
// `npm start`, `npm run X`, `yarn X` and `pnpm X` through package.json.
func startWords(words []string, pkg *analyzer.PackageJSON) (out []string, dir string, ok bool) {
	if len(words) >= 3 && words[0] == "cd" && words[2] == "&&" {
		dir, words = words[1], words[3:]
	}
	for i := 0; i < 3 && len(words) > 0; i++ {
		script := ""
		switch {
		case words[0] == "exec":
			words = words[1:]
			continue
		case words[0] == "npx":
			words = words[1:]
			for len(words) > 0 && (words[0] == "-y" || words[0] == "--yes") {
				words = words[1:]
			}
			continue
		case (words[0] == "npm" || words[0] == "yarn" || words[0] == "pnpm") && len(words) >= 2 && words[1] == "start":
			script = "start"
		case (words[0] == "npm" || words[0] == "yarn" || words[0] == "pnpm") && len(words) >= 3 && (words[1] == "run" || words[1] == "run-script"):
			script = words[2]
		case (words[0] == "yarn" || words[0] == "pnpm") && len(words) >= 2:
			script = words[1]
		}
		if script == "" {
			break
		}
		body := ""
		if pkg != nil {
			body = pkg.Scripts[script]
		}
		if body == "" {
			if script == "start" && pkg != nil {
				// npm's default start script.
				return []string{"node", "server.js"}, dir, true
			}
			return nil, dir, false
		}
		words = strings.Fields(body)
	}
	for _, w := range words {
		if w == "&&" || w == "||" || w == ";" || w == "|" {
			return nil, dir, false
		}
	}
	return words, dir, len(words) > 0
}

// appDir finds where the original keeps the app: its WORKDIR, else the
// folder its commands cd into.
func appDir(o *original, cmdDir string) string {
	if o.workdir != "/" {
		return o.workdir
	}
	if path.IsAbs(cmdDir) {
		return path.Clean(cmdDir)
	}
	for _, in := range o.runs {
		for _, c := range in.Script.Commands() {
			if c.Name == "cd" && len(c.Args) == 1 && path.IsAbs(c.Args[0].Value) {
				return path.Clean(c.Args[0].Value)
			}
		}
	}
	return "/"
}

// nodeMajor is the version a node image tag starts with ("20" of
// "20.11-alpine"), "" for floating tags.
func nodeMajor(tag string) string {
	v, _, _ := strings.Cut(tag, "-")
	v, _, _ = strings.Cut(v, ".")
	for _, r := range v {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return v
}

// installFlagsKept are the install options the rewrite's own install
// makes unnecessary or that change nothing the image holds: output,
// audits, the lockfile discipline it enforces itself, network patience.
// Any other option (--ignore-scripts, --legacy-peer-deps, --cache DIR,
// --offline, --registry) changes what the install does, and the
// rewritten install would run without it.
var installFlagsKept = map[string]bool{
	"--omit=dev": true, "--production": true, "--prod": true, "--only=prod": true, "--only=production": true,
	"--no-audit": true, "--no-fund": true, "--silent": true, "-s": true, "--quiet": true, "-q": true,
	"--no-progress": true, "--frozen-lockfile": true, "--pure-lockfile": true, "--non-interactive": true,
	"--prefer-offline": true, "--no-update-notifier": true, "--unsafe-perm": true,
}

// installFlagsWithValue are kept options written with their value as the
// next word.
var installFlagsWithValue = map[string]bool{"--omit": true, "--loglevel": true, "--network-timeout": true}

// installWithheld says why the rewrite's install would not do what the
// original's does, or "": an option it would drop, or a config file
// (.npmrc, .yarnrc) that needs what the deps stage cannot have. A config
// file it can use is added to the manifests the deps stage copies, since
// a private registry or mirror in it is where the packages come from.
func installWithheld(cmds []command, bc *analyzer.BuildContext, pm *nodePM) string {
	installs := false
	for _, c := range cmds {
		if c.step != stepDeps {
			continue
		}
		installs = true
		if lockedInstall(c.cmd) && (!pm.locked || pm.name != c.cmd.Name) {
			lock := "the context has none for " + c.cmd.Name
			advice := "commit it first"
			if pm.stale != "" && pm.name == c.cmd.Name {
				lock, advice = pm.stale, "update and commit it first"
			}
			return fmt.Sprintf("the original runs %s, which installs exactly what a lockfile in step with package.json names (%s); %s: the rewrite would install without one, resolving versions afresh",
				c.cmd.String(), lock, advice)
		}
	}
	if pkg := bc.Package; !installs && pkg != nil && len(pkg.Dependencies)+len(pkg.DevDependencies) > 0 {
		return "the original installs no packages: whatever node_modules it runs on come with the build context (installed before docker build), " +
			"and a rewrite that installs them from package.json would change where the dependencies come from"
	}
	for _, c := range cmds {
		if c.step != stepDeps {
			continue
		}
		installs = true
		if !pm.locked && lockedInstall(c.cmd) {
			missing := "the context has none"
			if pm.stale != "" {
				missing = pm.stale
			}
			return fmt.Sprintf("the original runs %s, which refuses to install without a lockfile in step with package.json (%s), so it does not build as it is; commit the lockfile first: the rewrite would install without one, resolving versions afresh",
				c.cmd.String(), missing)
		}
	}
	if !installs && bc.Package != nil && len(bc.Package.Dependencies) > 0 {
		return "the original installs no packages: it runs on the node_modules the build context brings (installed before docker build), and a rewrite that installs them from package.json would change where the dependencies come from"
	}
	for _, c := range cmds {
		if c.step != stepDeps {
			continue
		}
		args := c.cmd.Args
		for i := 0; i < len(args); i++ {
			v := args[i].Value
			if !strings.HasPrefix(v, "-") {
				continue
			}
			name, _, _ := strings.Cut(v, "=")
			switch {
			case installFlagsKept[v], installFlagsWithValue[name] && strings.Contains(v, "="), name == "--loglevel":
			case installFlagsWithValue[v]:
				i++
			default:
				return fmt.Sprintf("the install runs with %s, which the rewritten install would not", v)
			}
		}
	}
	configs := []string{".npmrc"}
	if pm.name == "yarn" {
		configs = append(configs, ".yarnrc")
	}
	for _, name := range configs {
		if !bc.Has(name) || bc.DockerIgnore.Excludes(name) {
			continue
		}
		b, err := bc.ReadFile(name)
		if err != nil {
			return name + " could not be read, so what the install needs from it is not known"
		}
		if i := bytes.Index(b, []byte("${")); i >= 0 {
			return name + " takes " + configVariable(b[i:]) + " from the environment (a registry token): the install needs it as a secret, which the rewrite cannot pass for you"
		}
		if p := configPathInContext(bc, b); p != "" {
			return name + " names " + p + " in the source, which the dependencies stage would not have"
		}
		pm.manifests = append(pm.manifests, name)
	}
	return ""
}

// configVariable returns the ${NAME} a config value starts with.
func configVariable(b []byte) string {
	if end := bytes.IndexByte(b, '}'); end > 0 && end < 64 {
		return string(b[:end+1])
	}
	return "a variable"
}

// configPathInContext returns a path of the context that a config line
// names as its value (cache=./npm-cache, yarn-offline-mirror "./mirror").
func configPathInContext(bc *analyzer.BuildContext, b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		_, v, ok := strings.Cut(line, "=")
		if !ok {
			if f := strings.Fields(line); len(f) == 2 {
				v = f[1]
			}
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if v == "" || strings.Contains(v, "://") || !(strings.HasPrefix(v, ".") || strings.Contains(v, "/")) || strings.HasPrefix(v, "/") {
			continue
		}
		if p := path.Clean(v); bc.Has(p) {
			return p
		}
	}
	return ""
}

// lockedInstall reports an install that installs what its lockfile
// names: npm ci, yarn --frozen-lockfile or --immutable, pnpm
// --frozen-lockfile.
func lockedInstall(c analyzer.Command) bool {
	switch c.Name {
	case "npm":
		return analyzer.Npm.InstallsFrozen(c)
	case "yarn":
		return c.Has("--frozen-lockfile", "--immutable")
	case "pnpm":
		return c.Has("--frozen-lockfile")
	}
	return false
}
