package rules

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// DockerignoreMissing finds contexts sent whole without a .dockerignore.
var DockerignoreMissing = &analyzer.Rule{
	ID:       "dockerignore-missing",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "Whole build context is copied and there is no .dockerignore",
	Rationale: `COPY . sends everything in the folder to the builder and into the image: the .git history, ` +
		`node_modules or a virtualenv from the developer's machine (built for another OS), caches, logs, ` +
		`local .env files with real credentials. The image grows, secrets leak into a layer anyone who can ` +
		`pull the image can read, and any change to an irrelevant file invalidates the layer cache. A ` +
		`.dockerignore for the project's ecosystem prevents all of it. The generated file never excludes a ` +
		`path the build reads: COPY and ADD sources, RUN --mount=type=bind sources, paths an ARG default or ENV ` +
		`names, paths a RUN mentions, and .git when a RUN runs git in the checkout (itself, through a Makefile, ` +
		`or through a package.json script the build runs), the package's version comes from git, or hugo builds ` +
		`with enableGitInfo. A front-end ` +
		`build (vite, next, react-scripts, nuxt …, named as a dependency of the package or run by the build) ` +
		`reads .env and .env.production, as does an app that loads its .env itself (dotenv, Symfony's Dotenv), ` +
		`so only the .local files are excluded then; when a member of the ` +
		`package's npm, yarn or pnpm workspace, or only a front-end config file (vite.config.ts …), shows ` +
		`one, .env is excluded but each .env.<mode> the context holds (.env.production, .env.staging) is ` +
		`kept. For a Mix project built in the image, the local _build goes, and deps when the image runs mix deps.get. For an R project whose image runs renv::restore(), the local renv/library, renv/staging and .Rproj.user go. Credentials files the context holds (the ones secrets-copied finds) are listed by path. It changes ` +
		`what the builder receives, so it is a fix to review.`,
	Bad:  "# no .dockerignore\nCOPY . .\n",
	Good: "# .dockerignore: .git, node_modules, .env, …\nCOPY . .\n",
	Fix:  analyzer.Review,
	Check: func(p *analyzer.Pass) {
		bc := p.Context
		if bc.DockerIgnore != nil || bc.UnreadDockerIgnore != "" {
			// One that could not be read (a link out of the folder or a
			// FIFO, listed as not read; or one over 1 MiB) is not
			// missing, and a new one must not replace it.
			return
		}
		whole := wholeContextCopy(p.File)
		if whole == nil {
			return
		}
		// Credentials files are the worst thing a whole-context copy
		// takes; the new file lists each one the build does not read.
		secrets := secretIgnoreEntries(bc, &secretScan{bc: bc}, func(string) bool { return false })
		entries := ignoreEntries(p.File, bc, true, secrets...)
		if len(entries) == 0 {
			return
		}
		var present []string
		for _, e := range entries {
			if e.present {
				present = append(present, e.shownPresent()...)
			}
		}
		msg := fmt.Sprintf("there is no .dockerignore, so %s on line %d sends the whole folder to the builder and into the image", strings.TrimSpace(whole.Text(p.File.Source)), whole.StartLine)
		if len(present) > 0 {
			msg += " (including " + strings.Join(present, ", ") + ")"
		}
		msg += "; add a .dockerignore that " + describePatterns(entries)
		reportCheckedAgainstListing(p, whole, msg, &analyzer.Fix{
			Message: "add a .dockerignore for " + ecosystems(p.File, bc),
			Files: []analyzer.GeneratedFile{{
				Path:    path.Join(bc.Dir, ".dockerignore"),
				Content: renderIgnore(entries, true),
			}},
		})
	},
}

// wholeContextCopy returns the first COPY or ADD of the whole context in
// this file's own build: an ONBUILD COPY . runs in the build of an image
// FROM this one, with that build's context and .dockerignore.
func wholeContextCopy(d *analyzer.Dockerfile) *analyzer.Instruction {
	for in := range d.Each("") {
		if in.Onbuild == nil && copiesWholeContext(in) {
			return in
		}
	}
	return nil
}

// ignoreEntry is one thing a .dockerignore should exclude.
type ignoreEntry struct {
	name  string   // for messages
	lines []string // patterns, in order (a ! line re-includes)
	// probes are context paths the lines must exclude; when the current
	// .dockerignore already excludes them all, the entry is not needed.
	probes  []string
	present bool
	// narrower is tried when lines would exclude a path the build reads:
	// the same entry with fewer patterns (.env alone, not .env.*).
	narrower *ignoreEntry
	// files, when set, are the context's files the lines exclude, named
	// instead of name when the entry is present (.env.staging, not a
	// .env the context does not hold).
	files []string
}

// shownPresent names what the context holds of a present entry.
func (e ignoreEntry) shownPresent() []string {
	if e.files == nil {
		return []string{analyzer.PrintableName(e.name)}
	}
	shown := make([]string, len(e.files))
	for i, f := range e.files {
		shown[i] = analyzer.PrintableName(f)
	}
	return shown
}

// describePatterns says what the entries' lines do, every line named as
// it is written, in order: "excludes .git, .env, .env.* (except
// .env.example), **/*.log".
func describePatterns(entries []ignoreEntry) string {
	var parts []string
	for _, e := range entries {
		var excl, kept []string
		for _, l := range e.lines {
			if k, ok := strings.CutPrefix(l, "!"); ok {
				kept = append(kept, k)
			} else {
				excl = append(excl, l)
			}
		}
		part := strings.Join(excl, ", ")
		if len(kept) > 0 {
			part += " (except " + strings.Join(kept, ", ") + ")"
		}
		parts = append(parts, part)
	}
	return "excludes " + strings.Join(parts, ", ")
}

func ecosystems(d *analyzer.Dockerfile, bc *analyzer.BuildContext) string {
	ecos := ecosystemSet(d, bc)
	if len(ecos) == 0 {
		return "the build context"
	}
	return "a " + strings.Join(ecos, " and ") + " project"
}

// ecosystemSet combines the context's manifests with the images used.
func ecosystemSet(d *analyzer.Dockerfile, bc *analyzer.BuildContext) []string {
	var out []string
	add := func(e string) {
		for _, x := range out {
			if x == e {
				return
			}
		}
		out = append(out, e)
	}
	for _, e := range bc.Ecosystems {
		add(e)
	}
	for _, s := range d.Stages {
		switch s.Root().Base.Name() {
		case "node":
			add("node")
		case "python":
			add("python")
		}
	}
	return out
}

// gitignored reads the .gitignore files of the context and its parents:
// what the repository ignores exists on developers' machines even though
// a fresh clone lacks it.
func gitignored(bc *analyzer.BuildContext) map[string]bool {
	out := map[string]bool{}
	rel := ".gitignore"
	for i := 0; i < 8; i++ {
		if b, err := bc.ReadFile(rel); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				l = strings.TrimSpace(l)
				if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "!") {
					continue
				}
				l = strings.TrimPrefix(strings.TrimPrefix(l, "**/"), "/")
				out[strings.TrimSuffix(l, "/")] = true
			}
		}
		if path.Join(bc.Dir, rel) == ".gitignore" || strings.HasPrefix(path.Join(bc.Dir, rel), "..") {
			break
		}
		rel = "../" + rel
	}
	return out
}

// buildsOutput reports whether the Dockerfile produces build output
// itself, so that a local copy of it is stale junk.
func buildsOutput(d *analyzer.Dockerfile) bool {
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			sub := c.Subcommand()
			switch c.Name {
			case "npm", "yarn", "pnpm":
				if sub == "run" || sub == "build" {
					return true
				}
			case "vite", "webpack", "tsc", "ng", "react-scripts", "eleventy", "astro", "gatsby", "parcel":
				return true
			case "mvn", "mvnw", "gradle", "gradlew", "cargo", "dotnet":
				return true
			case "go":
				return sub == "build"
			}
		}
	}
	return false
}

// envReadingBuilders are the front-end build tools that read .env and
// .env.production (or .env.[mode]) at build time, by the program a build
// runs.
var envReadingBuilders = map[string]bool{
	"vite": true, "next": true, "react-scripts": true, "nuxt": true, "nuxi": true,
	"vue-cli-service": true, "gatsby": true, "astro": true, "parcel": true,
}

// bundlerReadsEnv reports a front-end build, whose tools read .env and
// .env.production at build time, or an app that loads its .env itself
// (dotenv, Symfony's Dotenv): the package.json depends on one, or the
// build runs one (RUN next build, or a package.json script the build runs,
// such as "build": "next build", whatever the dependencies list).
func bundlerReadsEnv(d *analyzer.Dockerfile, bc *analyzer.BuildContext) bool {
	if bc.LoadsDotEnv() {
		return true
	}
	if bc.Package != nil && slices.ContainsFunc(frontEndDeps, bc.Package.HasDependency) {
		return true
	}
	runs := func(words []string) bool {
		for i, w := range words {
			if envReadingBuilders[path.Base(w)] && (i == 0 || programPosition(words, i)) {
				return true
			}
		}
		return false
	}
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			words := []string{c.Name}
			for _, a := range c.Args {
				words = append(words, a.Value)
			}
			if runs(words) {
				return true
			}
		}
	}
	for _, body := range buildPackageScripts(d, bc) {
		for _, call := range shellCalls(body) {
			if runs(call) {
				return true
			}
		}
	}
	return false
}

// installLifecycle are the package.json scripts an install of the
// project's dependencies runs (npm ci and npm install run them all).
var installLifecycle = []string{"preinstall", "install", "postinstall", "prepare"}

// buildPackageScripts returns the bodies of the context's package.json
// scripts that the build runs: those a RUN runs (npm run build, yarn
// build, pnpm run build, npm test), with their pre and post scripts, the
// install lifecycle scripts when a RUN installs the dependencies without
// --ignore-scripts, and the scripts those call in turn, three deep.
func buildPackageScripts(d *analyzer.Dockerfile, bc *analyzer.BuildContext) []string {
	if bc == nil || bc.Package == nil || len(bc.Package.Scripts) == 0 {
		return nil
	}
	scripts := bc.Package.Scripts
	seen := map[string]bool{}
	var out []string
	var follow func(names []string, depth int)
	follow = func(names []string, depth int) {
		for _, name := range names {
			body, ok := scripts[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, body)
			if depth == 0 {
				continue
			}
			for _, call := range shellCalls(body) {
				follow(scriptNames(call), depth-1)
			}
		}
	}
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			args := make([]string, len(c.Args))
			for i, a := range c.Args {
				args[i] = a.Value
			}
			follow(scriptNames(append([]string{c.Name}, args...)), 3)
			if pm, pc := analyzer.PackageManagerOf(c); (pm == analyzer.Npm || pm == analyzer.Yarn || pm == analyzer.Pnpm || pm == analyzer.Bun) &&
				pm.InstallsDependencies(pc) && !c.Has("--ignore-scripts") {
				follow(installLifecycle, 3)
			}
		}
	}
	return out
}

// scriptNames returns the package.json scripts a command line runs (with
// their pre and post scripts): npm run X, yarn X, pnpm run X, npx
// npm-run-all X Y, run-s X, run-p X.
func scriptNames(words []string) []string {
	if len(words) == 0 {
		return nil
	}
	name := path.Base(words[0])
	if name == "npx" && len(words) > 1 {
		words = words[1:]
		name = path.Base(words[0])
	}
	switch name {
	case "npm-run-all", "run-s", "run-p":
		var out []string
		for _, w := range words[1:] {
			if !strings.HasPrefix(w, "-") && !strings.ContainsAny(w, "*$") {
				out = append(out, "pre"+w, w, "post"+w)
			}
		}
		return out
	}
	var out []string
	for _, key := range packageScriptKeys(name, words[1:]) {
		out = append(out, strings.TrimPrefix(key, "npm:"))
	}
	return out
}

// scriptReadsGit reports a package.json script that runs git in the
// checkout (git rev-parse HEAD > dist/VERSION), or a shell script of the
// context that does (sh scripts/version.sh, ./scripts/version.sh).
func scriptReadsGit(bc *analyzer.BuildContext, body string) bool {
	for _, call := range shellCalls(body) {
		name := path.Base(call[0])
		if name == "git" {
			if !gitNoRepo[gitSubcommand(call[1:])] {
				return true
			}
			continue
		}
		if name == "hugo" {
			// A Hugo site built through npm (Docsy's "build": "hugo").
			if hugoReadsGit(bc, call[1:]) {
				return true
			}
			continue
		}
		file := ""
		switch {
		case (name == "sh" || name == "bash") && len(call) > 1 && !strings.HasPrefix(call[1], "-"):
			file = call[1]
		case strings.HasPrefix(call[0], "./") && !strings.HasSuffix(call[0], ".js"):
			file = call[0]
		}
		if file == "" || strings.Contains(file, "$") || path.IsAbs(file) {
			continue
		}
		if b, err := bc.ReadFile(path.Clean(file)); err == nil && gitInvocation.Match(b) {
			return true
		}
	}
	return false
}

// gitSubcommand is the subcommand of git's arguments, past -C DIR, -c
// NAME=VALUE, --git-dir and --work-tree.
func gitSubcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-C" || a == "-c" || a == "--git-dir" || a == "--work-tree":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

// ignoreEntries lists what should be excluded for this context: the
// essentials of each ecosystem, plus what the context or the repository's
// .gitignore shows exists, then extra. Entries that would exclude a path
// the Dockerfile copies or names are dropped.
func ignoreEntries(d *analyzer.Dockerfile, bc *analyzer.BuildContext, essentials bool, extra ...ignoreEntry) []ignoreEntry {
	git := gitignored(bc)
	known := func(name string) bool { return bc.Has(name) || git[name] }
	var out []ignoreEntry
	add := func(e ignoreEntry, want bool) {
		if !want {
			return
		}
		for _, p := range e.probes {
			dir := path.Dir(p)
			e.present = e.present || bc.Has(p) || dir != "." && bc.Has(dir)
		}
		if e.files != nil {
			e.present = len(e.files) > 0
		}
		out = append(out, e)
	}
	probesFor := func(name, file string, nested []string) []string {
		ps := []string{name + "/" + file}
		for _, n := range nested {
			ps = append(ps, n+"/"+name+"/"+file)
		}
		return ps
	}
	ecos := ecosystemSet(d, bc)
	has := func(e string) bool {
		for _, x := range ecos {
			if x == e {
				return true
			}
		}
		return false
	}
	add(ignoreEntry{name: ".git", lines: []string{".git"}, probes: []string{".git/HEAD"}}, true)
	// A Dockerfile that installs no Node dependencies while package.json
	// declares some ships the node_modules the build context brings (CI
	// installs them first): excluding it would leave the app without.
	nodeDepsShipped := bc.Package != nil && len(bc.Package.Dependencies) > 0 && !installsNodeDependencies(d)
	add(ignoreEntry{name: "node_modules", lines: []string{"**/node_modules"}, probes: probesFor("node_modules", "x.js", nestedDirs(bc, "package.json"))},
		(has("node") || known("node_modules")) && !nodeDepsShipped)
	add(ignoreEntry{name: "__pycache__", lines: []string{"**/__pycache__", "**/*.py[cod]"}, probes: probesFor("__pycache__", "x.pyc", nestedDirs(bc, ".py"))},
		has("python") && essentials || known("__pycache__") || has("python") && !essentials)
	add(ignoreEntry{name: ".venv", lines: []string{".venv"}, probes: []string{".venv/pyvenv.cfg"}}, has("python") || known(".venv"))
	add(ignoreEntry{name: "venv", lines: []string{"venv"}, probes: []string{"venv/pyvenv.cfg"}}, known("venv") && !copiesNamed(d, "venv"))
	if bc.Has("mix.exs") && runsCommand(d, "mix") {
		// Mix's build and dependency folders, compiled on the developer's
		// machine (another OS, another Erlang), would replace the ones
		// the image's mix deps.get and compile make. A Dockerfile that
		// runs no mix ships what CI built there.
		// deps goes only when the image fetches its own: a project that
		// commits deps and runs mix compile alone builds from them.
		fetches := runsCommand(d, "mix", "deps.get")
		for _, c := range []string{"_build", "deps"} {
			add(ignoreEntry{name: c, lines: []string{c}, probes: []string{c + "/x"}}, (essentials || known(c)) && !copiesNamed(d, c) && (c != "deps" || fetches))
		}
	}
	if runsRenvRestore(d) {
		// renv's project library, installed on the developer's machine
		// (another OS, another R), would replace the one the image's
		// renv::restore() installs; its staging folder and RStudio's
		// .Rproj.user are local state. renv/activate.R, which .Rprofile
		// sources, stays. An image that restores nothing ships the
		// library CI put in the context.
		for _, c := range []string{"renv/library", "renv/staging", ".Rproj.user"} {
			add(ignoreEntry{name: c, lines: []string{c}, probes: []string{c + "/x"}}, (essentials || known(c)) && !copiesNamed(d, c))
		}
	}
	for _, c := range []string{".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", "htmlcov", ".coverage", "coverage", ".nyc_output"} {
		add(ignoreEntry{name: c, lines: []string{c}, probes: []string{c + "/x"}}, known(c))
	}
	// .env files hold local credentials; front-end builds read the
	// non-local ones at build time, so only the *.local ones go then.
	envFiles := contextEnvFiles(bc)
	if len(envFiles) > 0 || git[".env"] || git[".env*"] || git[".env.*"] || essentials {
		if bundlerReadsEnv(d, bc) {
			add(ignoreEntry{name: ".env.local", lines: []string{".env.local", ".env.*.local"}, probes: []string{".env.local"},
				files: envFilesExcluded(envFiles, ".env.local", ".env.*.local")}, true)
		} else {
			add(envEntry(bc, envFiles), true)
		}
	}
	if buildsOutput(d) {
		// The image builds these itself, so a local copy is stale junk;
		// for a new file, the usual output folder of the ecosystem too.
		essentialOut := map[string]bool{}
		if essentials {
			essentialOut["dist"] = has("node") && bundlerReadsEnv(d, bc)
			essentialOut["target"] = has("java") || has("rust")
		}
		for _, o := range []string{"dist", "build", "target", ".next", "out"} {
			add(ignoreEntry{name: o, lines: []string{o}, probes: []string{o + "/x"}}, known(o) || essentialOut[o])
		}
	}
	logs := git["*.log"] || known("logs")
	logProbes := []string{"logs/x.log"}
	for _, f := range bc.Files {
		if strings.HasSuffix(f, ".log") {
			logs = true
			logProbes = append(logProbes, f)
		}
	}
	add(ignoreEntry{name: "logs", lines: []string{"**/*.log"}, probes: logProbes}, logs || essentials && has("node"))
	return safeEntries(d, bc, append(out, extra...))
}

// nestedDirs returns up to three folders below the context's root that
// hold a file whose name ends with suffix: where a node_modules (beside a
// package.json) or a __pycache__ (beside .py files) could sit, to test
// whether patterns reach below the context's top level.
func nestedDirs(bc *analyzer.BuildContext, suffix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range bc.Files {
		dir := path.Dir(f)
		if dir == "." || seen[dir] || strings.HasPrefix(dir, ".") || strings.Contains(f, "node_modules/") {
			continue
		}
		if strings.HasSuffix(f, suffix) {
			seen[dir] = true
			out = append(out, dir)
			if len(out) == 3 {
				break
			}
		}
	}
	return out
}

// envEntry excludes .env and .env.* but keeps .env.example and, when
// something in the context builds a front end that the root package.json
// does not name (a member of its workspace depends on Vite, Next …, or a
// Vite, Next, Nuxt, Astro, SvelteKit, Gatsby or Angular config file is
// there), each committed .env.<mode> the context holds: those tools read
// .env.production and the like at build time, and a repository commits
// them as build configuration, not secrets. The root's .env still goes: a
// monorepo's root .env is as often the back end's secrets.
func envEntry(bc *analyzer.BuildContext, envFiles []string) ignoreEntry {
	lines := []string{".env", ".env.*", "!.env.example"}
	var keep []string
	if frontEndConfigPresent(bc) || workspaceBuildsFrontEnd(bc) {
		for _, f := range envFiles {
			if modeEnvFile(f) {
				keep = append(keep, f)
				lines = append(lines, "!"+f)
			}
		}
	}
	probes := []string{".env"}
	for _, f := range envFiles {
		if !slices.Contains(keep, f) {
			probes = append(probes, f)
		}
	}
	return ignoreEntry{name: ".env", lines: lines, probes: probes, files: envFilesExcluded(envFiles, lines...),
		narrower: &ignoreEntry{name: ".env", lines: []string{".env"}, probes: []string{".env"}, files: envFilesExcluded(envFiles, ".env")}}
}

// modeEnvFile reports a committed-style .env.<mode> at the context's
// root: .env.production, .env.development, .env.staging, .env.test, not
// .env.local or .env.production.local, which hold a developer's values.
func modeEnvFile(f string) bool {
	mode, ok := strings.CutPrefix(f, ".env.")
	return ok && mode != "" && !strings.Contains(mode, "/") && mode != "local" && !strings.HasSuffix(mode, ".local")
}

// envFilesExcluded returns the env files the lines exclude, in order,
// never nil (an entry with files set names only those).
func envFilesExcluded(envFiles []string, lines ...string) []string {
	out := []string{}
	m, err := patternmatcher.New(lines)
	if err != nil {
		return out
	}
	for _, f := range envFiles {
		if ok, err := m.MatchesOrParentMatches(f); ok && err == nil {
			out = append(out, f)
		}
	}
	return out
}

// frontEndDeps are the packages whose build reads .env.[mode] files.
var frontEndDeps = []string{"vite", "react-scripts", "next", "nuxt", "@vue/cli-service", "gatsby", "astro", "@sveltejs/kit", "@angular/cli", "parcel", "webpack"}

// maxWorkspaceManifests bounds the member package.json files read, and
// maxWorkspaceGlobs the member globs each file of the context is matched
// against: real workspaces list a handful, and a hostile list of 80,000
// against 20,000 files took minutes.
const (
	maxWorkspaceManifests = 64
	maxWorkspaceGlobs     = 64
)

// workspaceBuildsFrontEnd reports a member of the context's npm, yarn or
// pnpm workspace (the root package.json's "workspaces", or
// pnpm-workspace.yaml's packages) that depends on a front-end build
// tool: building the monorepo builds it, and it reads the .env files
// (Vite's envDir often points at the root).
func workspaceBuildsFrontEnd(bc *analyzer.BuildContext) bool {
	globs := workspaceGlobs(bc)
	if len(globs) == 0 {
		return false
	}
	read := 0
	for _, f := range bc.Files {
		dir, ok := strings.CutSuffix(f, "/package.json")
		if !ok || strings.Contains(f, "node_modules/") || !slices.ContainsFunc(globs, func(g string) bool { return workspaceMatch(g, dir) }) {
			continue
		}
		if read++; read > maxWorkspaceManifests {
			return false
		}
		b, err := bc.ReadFile(f)
		if err != nil {
			continue
		}
		pkg, ok := analyzer.ParsePackageJSON(b)
		if !ok {
			continue
		}
		if slices.ContainsFunc(frontEndDeps, pkg.HasDependency) {
			return true
		}
	}
	return false
}

// workspaceGlobs returns the member globs of the context's workspace,
// without the negated ones.
func workspaceGlobs(bc *analyzer.BuildContext) []string {
	var globs []string
	if b, err := bc.ReadFile("package.json"); err == nil {
		var pkg struct {
			Workspaces json.RawMessage `json:"workspaces"`
		}
		if json.Unmarshal(b, &pkg) == nil && len(pkg.Workspaces) > 0 {
			var list []string
			var obj struct {
				Packages []string `json:"packages"`
			}
			if json.Unmarshal(pkg.Workspaces, &list) != nil && json.Unmarshal(pkg.Workspaces, &obj) == nil {
				list = obj.Packages
			}
			globs = append(globs, list...)
		}
	}
	if b, err := bc.ReadFile("pnpm-workspace.yaml"); err == nil {
		globs = append(globs, pnpmPackages(b)...)
	}
	var out []string
	for _, g := range globs {
		g = path.Clean(strings.TrimPrefix(strings.TrimSpace(g), "./"))
		if g != "" && g != "." && !strings.HasPrefix(g, "!") && !strings.HasPrefix(g, "..") {
			out = append(out, g)
		}
		if len(out) == maxWorkspaceGlobs {
			break
		}
	}
	return out
}

// pnpmPackages reads the packages list of a pnpm-workspace.yaml.
func pnpmPackages(b []byte) []string {
	var ws struct {
		Packages []string `yaml:"packages"`
	}
	if yaml.Unmarshal(b, &ws) != nil {
		return nil
	}
	return ws.Packages
}

// workspaceMatch reports whether a member folder matches a workspace
// glob: path.Match for each segment, "**" for any folders below.
func workspaceMatch(glob, dir string) bool {
	if prefix, ok := strings.CutSuffix(glob, "/**"); ok {
		return dir != prefix && strings.HasPrefix(dir, prefix+"/") || prefix == "**"
	}
	ok, _ := path.Match(glob, dir)
	return ok
}

// frontEndConfigs are the config files of front-end builds that read
// .env.[mode] files at build time.
var frontEndConfigs = []string{"vite.config.", "next.config.", "nuxt.config.", "astro.config.", "svelte.config.", "gatsby-config.", "angular.json"}

// frontEndConfigPresent reports a front-end build's config file anywhere
// in the context outside node_modules.
func frontEndConfigPresent(bc *analyzer.BuildContext) bool {
	for _, f := range bc.Files {
		base := path.Base(f)
		if strings.Contains(f, "node_modules/") {
			continue
		}
		for _, c := range frontEndConfigs {
			if strings.HasPrefix(base, c) {
				return true
			}
		}
	}
	return false
}

func contextEnvFiles(bc *analyzer.BuildContext) []string {
	var out []string
	for _, f := range bc.Files {
		base := path.Base(f)
		if base == ".env" || strings.HasPrefix(base, ".env.") && !strings.HasSuffix(base, ".example") &&
			!strings.HasSuffix(base, ".sample") && !strings.HasSuffix(base, ".template") && !strings.HasSuffix(base, ".dist") {
			out = append(out, f)
		}
	}
	return out
}

// copiesNamed reports whether a COPY or ADD names the path.
func copiesNamed(d *analyzer.Dockerfile, name string) bool {
	for in := range d.Each("") {
		if c, ok := copyOf(in); ok {
			for _, s := range c.contextSources() {
				if path.Clean(strings.TrimPrefix(s, "/")) == name {
					return true
				}
			}
		}
	}
	return false
}

// neededPaths lists the context paths the build reads: COPY and ADD
// sources (not from other stages), the sources of RUN --mount=type=bind
// from the context, context paths an ARG default or ENV value names,
// relative paths that RUN scripts mention and that exist in the context,
// and .git when the build asks git about the checkout (git describe,
// rev-parse, log …) or installs a package whose version comes from git
// (setuptools-scm, hatch-vcs and the like).
// contextCopiedOnward returns the context paths a COPY --from takes out of
// a stage that got them only from the context: the stage (or one it is
// built on) copies the whole context to a folder, none of them runs
// anything that could make them, and the COPY takes a path inside that
// folder (a node_modules installed before docker build, then picked out
// of the copy). Excluding such a path would fail the COPY. wholeCopies
// remembers each stage's answer, so many COPY --from stay linear.
func contextCopiedOnward(d *analyzer.Dockerfile, bc *analyzer.BuildContext, in *analyzer.Instruction, c copySpec, wholeCopies map[*analyzer.Stage]string) []string {
	if c.from == "" {
		return nil
	}
	from := d.StageByRef(c.from)
	if from == nil || from == in.Stage {
		return nil
	}
	dest, seen := wholeCopies[from]
	if !seen {
		dest = contextOnlyFolder(from)
		wholeCopies[from] = dest
	}
	if dest == "" {
		return nil
	}
	var out []string
	for _, s := range c.sources {
		src := path.Clean("/" + s)
		rel, ok := strings.CutPrefix(src, strings.TrimSuffix(dest, "/")+"/")
		if !ok || rel == "" || strings.ContainsAny(rel, "*?[$") {
			continue
		}
		out = append(out, rel)
		out = append(out, filesUnder(bc, rel)...)
	}
	return out
}

// contextOnlyFolder returns the folder a stage's lineage copies the whole
// context to, "" when it copies none, runs anything after that copy, or
// installs packages anywhere before it: such a RUN may have made what a
// later COPY --from takes (npm ci before COPY . .). An apt-get install of
// tzdata before the copy makes no node_modules.
func contextOnlyFolder(s *analyzer.Stage) string {
	dest := ""
	for _, x := range s.LineageInstructions() {
		if x.Keyword == "RUN" && (dest != "" || installsPackages(x)) {
			return ""
		}
		if xc, ok := copyOf(x); ok && xc.from == "" && slices.ContainsFunc(xc.contextSources(), isWholeContext) {
			dest = analyzer.ResolvePath(x.WorkdirBefore(), xc.dest)
		}
	}
	return dest
}

// installsPackages reports a RUN that installs a project's dependencies
// with a language package manager (npm ci, pip install -r …).
func installsPackages(in *analyzer.Instruction) bool {
	if in.Script == nil {
		return true // unreadable: it may
	}
	for _, c := range in.Script.Commands() {
		if pm, pc := analyzer.PackageManagerOf(c); pm != nil && pm.InstallsDependencies(pc) {
			return true
		}
	}
	return false
}

// filesUnder returns the context's files below dir; Files is sorted.
func filesUnder(bc *analyzer.BuildContext, dir string) []string {
	prefix := dir + "/"
	i := sort.SearchStrings(bc.Files, prefix)
	j := i
	for j < len(bc.Files) && strings.HasPrefix(bc.Files[j], prefix) {
		j++
	}
	return bc.Files[i:j]
}

func neededPaths(d *analyzer.Dockerfile, bc *analyzer.BuildContext) []string {
	var out []string
	wholeCopies := map[*analyzer.Stage]string{}
	added := map[string]bool{}
	if readsGitMetadata(d, bc) {
		out = append(out, ".git", ".git/HEAD")
	}
	if installsNodeDependencies(d) {
		// The install reads the registry and its token from these, in
		// the folder of the package it installs, which may be any
		// (WORKDIR /app/web, RUN cd web && npm ci).
		for _, f := range bc.Files {
			if b := path.Base(f); b == ".npmrc" || b == ".yarnrc.yml" {
				out = append(out, f)
			}
		}
	}
	named := func(v string) {
		v = path.Clean(strings.TrimPrefix(strings.Trim(v, `"'`), "./"))
		if v != "." && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "..") && bc.Has(v) {
			out = append(out, v)
		}
	}
	for in := range d.Each("") {
		switch c := in.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if kv.Value != nil {
					named(*kv.Value)
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				named(kv.Value)
			}
		}
		for _, m := range in.Mounts() {
			if m.Type == "bind" && m.From == "" && m.Source != "" {
				if rel := path.Clean(strings.TrimPrefix(m.Source, "/")); bc.Has(rel) && !added[rel] {
					added[rel] = true
					out = append(out, rel)
					out = append(out, filesUnder(bc, rel)...)
				}
			}
		}
		if c, ok := copyOf(in); ok {
			out = append(out, contextCopiedOnward(d, bc, in, c, wholeCopies)...)
			for _, s := range c.contextSources() {
				if isWholeContext(s) || strings.Contains(s, "$") {
					continue
				}
				rel := path.Clean(strings.TrimPrefix(s, "/"))
				if added[rel] {
					// Each source once: thousands of COPYs of one folder
					// would list its files thousands of times.
					continue
				}
				added[rel] = true
				if strings.ContainsAny(rel, "*?[") {
					for _, f := range bc.Files {
						if ok, _ := path.Match(rel, f); ok {
							out = append(out, f)
						}
					}
					continue
				}
				out = append(out, rel)
				out = append(out, filesUnder(bc, rel)...)
			}
		}
		if in.Keyword == "RUN" && in.Script != nil {
			for _, c := range in.Script.Commands() {
				for _, a := range c.Args {
					v := path.Clean(strings.TrimPrefix(a.Value, "./"))
					if !a.Dynamic && !strings.HasPrefix(v, "/") && bc.Has(v) {
						out = append(out, v)
					}
				}
			}
		}
	}
	return out
}

// safeEntries drops entries that would exclude a needed path.
func safeEntries(d *analyzer.Dockerfile, bc *analyzer.BuildContext, entries []ignoreEntry) []ignoreEntry {
	needed := neededPaths(d, bc)
	var base []string
	if bc.DockerIgnore != nil {
		base = bc.DockerIgnore.Patterns
	}
	baseCompiles := bc.DockerIgnore.Compiles()
	// What the file's own patterns say of each needed path, asked once: a
	// pattern that fails when matched makes the whole match fail, and the
	// path counts as kept, so no entry may exclude it.
	excludedByBase := make([]bool, len(needed))
	if baseCompiles {
		for i, n := range needed {
			excluded, err := bc.DockerIgnore.Match(n)
			excludedByBase[i] = excluded && err == nil
		}
	}
	safe := func(e ignoreEntry) bool {
		if !baseCompiles || slices.ContainsFunc(e.lines, unwritableIgnoreLine) {
			return false
		}
		if slices.ContainsFunc(e.lines, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "!") }) {
			var m *patternmatcher.PatternMatcher
			if len(base) == 0 {
				// The entry's lines alone, as a missing .dockerignore
				// has it: a matcher compiled once for every file.
				lent, err := borrowMatcher(e.lines)
				if err != nil {
					return false
				}
				defer lent.giveBack()
				m = lent.PatternMatcher
			} else {
				var err error
				if m, err = compileIgnoreLines(append(append([]string{}, base...), e.lines...)); err != nil {
					return false
				}
			}
			for _, n := range needed {
				if excluded, _ := m.MatchesOrParentMatches(n); excluded && !bc.DockerIgnore.Excludes(n) {
					return false
				}
			}
			return true
		}
		// Lines that only exclude, after the file's own patterns, exclude a
		// path when the file did or when one of them matches it (the
		// matcher reads the patterns in order, and the last match wins):
		// so a needed path the file kept is lost exactly when a line
		// matches it. Matching the lines alone spares compiling the file's
		// patterns again for each entry of each analysis.
		m, err := borrowMatcher(e.lines)
		if err != nil {
			return false
		}
		defer m.giveBack()
		for i, n := range needed {
			if excludedByBase[i] {
				continue
			}
			if hit, err := m.MatchesOrParentMatches(n); hit && err == nil {
				return false
			}
		}
		return true
	}
	var out []ignoreEntry
	for _, e := range entries {
		switch {
		case safe(e):
			out = append(out, e)
		case e.narrower != nil && safe(*e.narrower):
			n := *e.narrower
			n.present = e.present && (n.files == nil || len(n.files) > 0)
			out = append(out, n)
		}
	}
	return out
}

// unwritableIgnoreLine reports a pattern that would not be read back as
// itself from a .dockerignore: a line break starts another pattern (a file
// named "*\nx.key" would write "*", excluding everything), and the reader
// trims spaces around each line.
func unwritableIgnoreLine(l string) bool {
	return strings.ContainsAny(l, "\r\n") || strings.TrimSpace(l) != l
}

// renderIgnore writes the entries as .dockerignore lines.
func renderIgnore(entries []ignoreEntry, header bool) string {
	var b strings.Builder
	if header {
		b.WriteString("# Keep the build context to what the image needs (generated by dockopt).\n")
	}
	for _, e := range entries {
		for _, l := range e.lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// gitNoRepo are git subcommands that need no repository.
var gitNoRepo = map[string]bool{"clone": true, "init": true, "config": true, "ls-remote": true, "version": true, "--version": true, "help": true, "": true}

// versionFromGit are the build backends and plugins that compute a
// package's version from the checkout's git metadata.
var versionFromGit = []string{"setuptools_scm", "setuptools-scm", "hatch-vcs", "versioningit", "dunamai", "poetry-dynamic-versioning", "pbr", "versioneer"}

// readsGitMetadata reports a build that reads the context's .git: a RUN
// that runs git in the checkout, a package.json script the build runs
// that does, a RUN that installs the context's Python package when its
// version comes from git, or a hugo build with git info enabled.
func readsGitMetadata(d *analyzer.Dockerfile, bc *analyzer.BuildContext) bool {
	installsGit := installsGitOnce(d)
	makefiles := map[string]bool{}
	scm := false
	for _, f := range []string{"pyproject.toml", "setup.py", "setup.cfg"} {
		if b, err := bc.ReadFile(f); err == nil {
			for _, v := range versionFromGit {
				scm = scm || strings.Contains(string(b), v)
			}
		}
	}
	for _, body := range buildPackageScripts(d, bc) {
		if scriptReadsGit(bc, body) {
			return true
		}
	}
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			switch c.Name {
			case "git":
				if !gitNoRepo[c.Subcommand("-C", "-c", "--git-dir", "--work-tree")] {
					return true
				}
			case "pip", "pip3", "uv", "poetry", "pdm", "hatch", "python", "python3":
				if scm {
					return true
				}
			case "make", "gmake":
				if makeReadsGit(bc, c, installsGit, makefiles) {
					return true
				}
			case "hugo":
				if hugoReadsGit(bc, argValues(c)) || hugoGitInfoEnv(in) {
					return true
				}
			}
		}
	}
	return false
}

// hugoConfigNames are the files a Hugo site is configured by, at the
// site's root or under config/_default.
var hugoConfigNames = []string{"hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml", "config.json"}

// enableGitInfo matches Hugo's enableGitInfo set to true in TOML, YAML or
// JSON; Hugo reads its keys without regard to case.
var enableGitInfo = regexp.MustCompile(`(?im)^\s*"?enablegitinfo"?\s*[:=]\s*true\b`)

// hugoReadsGit reports a hugo build that reads the checkout's git log for
// each page's last commit: --enableGitInfo on the command, or
// enableGitInfo = true in a site configuration of the context. Without
// .git that build fails (or loses every page's dates), so .git stays.
func hugoReadsGit(bc *analyzer.BuildContext, args []string) bool {
	for _, a := range args {
		if v := strings.ToLower(a); v == "--enablegitinfo" || v == "--enablegitinfo=true" {
			return true
		}
	}
	checked := 0
	for _, f := range bc.Files {
		dir, base := path.Split(f)
		if !slices.Contains(hugoConfigNames, base) {
			continue
		}
		if dir != "" && !strings.HasSuffix(dir, "config/_default/") && strings.Count(dir, "/") > 1 {
			// A site's root is the context or a folder of it; deeper
			// config.yaml files are some other program's.
			continue
		}
		if checked++; checked > 32 {
			return false
		}
		if b, err := bc.ReadFile(f); err == nil && enableGitInfo.Match(b) {
			return true
		}
	}
	return false
}

// hugoGitInfoEnv reports a RUN whose environment sets
// HUGO_ENABLEGITINFO=true, which Hugo reads as its enableGitInfo setting.
func hugoGitInfoEnv(in *analyzer.Instruction) bool {
	v, ok := in.EnvBefore("HUGO_ENABLEGITINFO")
	return ok && strings.EqualFold(v, "true")
}

// makeReadsGit reports a make whose Makefile runs git (a version stamp
// from git describe, a commit from git rev-parse), or whose Makefile
// cannot be read while the Dockerfile installs git (installsGit, asked
// once per file). makefiles remembers what each Makefile read said.
func makeReadsGit(bc *analyzer.BuildContext, c analyzer.Command, installsGit func() bool, makefiles map[string]bool) bool {
	dir, file := ".", ""
	for i := 0; i < len(c.Args); i++ {
		v := c.Args[i].Value
		next := ""
		if i+1 < len(c.Args) {
			next = c.Args[i+1].Value
		}
		switch {
		case v == "-C" || v == "--directory":
			dir, i = next, i+1
		case strings.HasPrefix(v, "--directory="):
			dir = strings.TrimPrefix(v, "--directory=")
		case strings.HasPrefix(v, "-C") && len(v) > 2:
			dir = v[2:]
		case v == "-f" || v == "--file" || v == "--makefile":
			file, i = next, i+1
		case strings.HasPrefix(v, "--file="), strings.HasPrefix(v, "--makefile="):
			_, file, _ = strings.Cut(v, "=")
		}
	}
	key := dir + "\x00" + file
	if runs, seen := makefiles[key]; seen {
		// Each make location is looked up, read and searched once.
		return runs
	}
	runs := makefileRunsGit(bc, dir, file, installsGit)
	makefiles[key] = runs
	return runs
}

func makefileRunsGit(bc *analyzer.BuildContext, dir, file string, installsGit func() bool) bool {
	names := []string{"GNUmakefile", "makefile", "Makefile"}
	if file != "" {
		names = []string{file}
	}
	if !path.IsAbs(dir) && !strings.Contains(dir, "$") {
		for _, name := range names {
			if path.IsAbs(name) || strings.Contains(name, "$") {
				break
			}
			if b, err := bc.ReadFile(path.Join(dir, name)); err == nil {
				return gitInvocation.Match(b)
			}
		}
	}
	return installsGit()
}

// installsGitOnce returns whether any RUN installs git with an OS
// package manager, worked out on the first call.
func installsGitOnce(d *analyzer.Dockerfile) func() bool {
	return sync.OnceValue(func() bool {
		installed := map[string]bool{}
		for in := range d.Each("RUN") {
			addInstalled(installed, in, osInstallers...)
		}
		return installed["git"]
	})
}

var gitInvocation = regexp.MustCompile(`\bgit\s+(-C\s+\S+\s+)?(describe|rev-parse|rev-list|log|show|status|symbolic-ref|tag|branch)\b`)

// entryMatchers lends compiled matchers for the patterns of the entries
// above, by their lines. Compiling them anew for each entry of each
// analysis, patch candidates included, was 2 % of the CPU time of
// `analyze --format json`. A PatternMatcher compiles each pattern on its
// first match and is not safe for concurrent use, so a matcher is lent to
// one analysis at a time. Most entries are this file's constants, but
// some name what a repository holds (a secret file found in the context),
// and the App lives through many repositories: past maxPooledEntries
// line sets, a matcher is compiled for its one use and not kept.
var entryMatchers sync.Map // strings.Join(lines, "\n") -> *sync.Pool of *patternmatcher.PatternMatcher

// maxPooledEntries bounds the line sets entryMatchers keeps pools for:
// the constant entries are a few dozen.
const maxPooledEntries = 512

// pooledEntries counts the line sets entryMatchers holds.
var pooledEntries atomic.Int64

// lentMatcher is a matcher borrowed from entryMatchers until giveBack.
type lentMatcher struct {
	*patternmatcher.PatternMatcher
	pool *sync.Pool
}

func borrowMatcher(lines []string) (lentMatcher, error) {
	key := strings.Join(lines, "\n")
	pool, ok := entryMatchers.Load(key)
	if !ok {
		if pooledEntries.Add(1) <= maxPooledEntries {
			var loaded bool
			if pool, loaded = entryMatchers.LoadOrStore(key, &sync.Pool{}); loaded {
				pooledEntries.Add(-1)
			}
			ok = true
		} else {
			pooledEntries.Add(-1)
		}
	}
	var p *sync.Pool
	if ok {
		p = pool.(*sync.Pool)
		if m, ok := p.Get().(*patternmatcher.PatternMatcher); ok {
			return lentMatcher{m, p}, nil
		}
	}
	m, err := compileIgnoreLines(lines)
	if err != nil {
		return lentMatcher{}, err
	}
	return lentMatcher{m, p}, nil
}

// compileIgnoreLines compiles lines as the builder reads them from a
// .dockerignore: ReadAll cleans each one and drops a leading slash, which
// patternmatcher.New alone keeps, so "/id_rsa" would match nothing.
func compileIgnoreLines(lines []string) (*patternmatcher.PatternMatcher, error) {
	patterns, err := ignorefile.ReadAll(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		return nil, err
	}
	return patternmatcher.New(patterns)
}

func (m lentMatcher) giveBack() {
	if m.pool != nil {
		m.pool.Put(m.PatternMatcher)
	}
}

// runsRenvRestore reports a RUN of the file that calls renv::restore()
// through R or Rscript.
func runsRenvRestore(d *analyzer.Dockerfile) bool {
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			if c.Name != "R" && c.Name != "Rscript" {
				continue
			}
			for _, a := range c.Args {
				if strings.Contains(a.Value, "renv::restore(") {
					return true
				}
			}
		}
	}
	return false
}

// runsCommand reports a RUN of the file that calls name, with sub as
// its first argument when sub is given.
func runsCommand(d *analyzer.Dockerfile, name string, sub ...string) bool {
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			if c.Name == name && (len(sub) == 0 || len(c.Args) > 0 && slices.Contains(sub, c.Args[0].Value)) {
				return true
			}
		}
	}
	return false
}

// installsNodeDependencies reports a RUN of the file that installs Node
// dependencies from the manifests (npm ci, yarn install, pnpm install).
func installsNodeDependencies(d *analyzer.Dockerfile) bool {
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			pm, pc := analyzer.PackageManagerOf(c)
			if (pm == analyzer.Npm || pm == analyzer.Yarn || pm == analyzer.Pnpm || pm == analyzer.Bun) && pm.InstallsDependencies(pc) {
				return true
			}
		}
	}
	return false
}
