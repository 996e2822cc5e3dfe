package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// PackageCacheMountMissing proposes BuildKit cache mounts for package
// managers whose downloads are thrown away on every uncached build.
var PackageCacheMountMissing = &analyzer.Rule{
	ID:       "package-cache-mount-missing",
	Category: analyzer.CategoryBuildCache,
	Severity: analyzer.SeverityInfo,
	Title:    "Package manager runs without a BuildKit cache mount",
	Rationale: `When a dependency layer is rebuilt, the package manager downloads everything again, because its ` +
		`cache lived in a layer that was just invalidated, or was deleted to keep the image small. A BuildKit ` +
		`cache mount (RUN --mount=type=cache,target=<cache dir>) keeps the download cache on the builder ` +
		`between builds and never puts it in the image: faster rebuilds and smaller layers at once. Where ` +
		`the Dockerfile already cleans a cache in the same RUN (pip --no-cache-dir, apk --no-cache, yarn ` +
		`cache clean) and does not otherwise use BuildKit features, that choice is respected and nothing is ` +
		`reported: a cache mount or a cleanup, not both. For apt the mount only helps once the Debian ` +
		`images' docker-clean hook is removed, so apt is only reported in Dockerfiles that remove it. No mount ` +
		`is proposed over a folder the RUN already mounts something on, nor over one an earlier layer filled ` +
		`(dependencies fetched by mvn dependency:go-offline or go mod download would be hidden from the RUN), ` +
		`counting a make, task or build script of the stage as one that may run the tool.`,
	Bad:       "RUN npm ci\n",
	Good:      "RUN --mount=type=cache,target=/root/.npm npm ci\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	// Deleting or disabling the cache the mount keeps would throw the
	// mount's work away (apk --no-cache never reads /etc/apk/cache).
	Supersedes: []string{"apk-no-cache", "pip-no-cache-dir", "apt-lists-not-removed", "yarn-cache-clean"},
	Check: func(p *analyzer.Pass) {
		aware := usesBuildKitFeatures(p.File)
		var named map[string]namedCache // read once, when a fix needs it
		npmrc := &npmrcCache{}
		dockerClean := newChainFirst(removesDockerClean)
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			if len(in.CacheMountTargets()) > 0 {
				continue // caching is configured here; its targets may be custom
			}
			var sf *analyzer.StageFacts
			if in.Stage != nil {
				sf = p.Facts().Stage(in.Stage)
			}
			var needs []cacheNeed
			seen := map[string]bool{}
			for _, c := range in.Script.Commands() {
				for _, n := range cacheNeeds(in, c, aware, dockerClean) {
					if seen[n.target] || authorHandles(sf, in, n.target) || n.tool == "npm" && npmrc.moves(p.Context, in) {
						continue
					}
					seen[n.target] = true
					needs = append(needs, n)
				}
			}
			if len(needs) == 0 {
				continue
			}
			if in.Onbuild != nil {
				// The trigger runs in someone else's build, on a builder
				// this file does not choose; the legacy builder and Kaniko
				// refuse RUN --mount.
				p.ReportWithheld(in, fmt.Sprintf("%s runs without a BuildKit cache mount; no fix: this RUN is an ONBUILD trigger, run by the builds of images FROM this one, whose builders may not support RUN --mount", needs[0].tool), analyzer.PreconditionTool)
				continue
			}
			if hidden := hiddenByMount(p, sf, in, needs, aware, dockerClean); hidden != "" {
				p.ReportWithheld(in, fmt.Sprintf("%s runs without a BuildKit cache mount; no fix: %s", needs[0].tool, hidden), analyzer.PreconditionMount)
				continue
			}
			var flags, tools []string
			fixable := runsAsRoot(in)
			for _, n := range needs {
				opt := "--mount=type=cache,target=" + n.target
				if named == nil {
					named = namedCaches(p.File)
				}
				id, sharing := named[n.target].id, named[n.target].sharing
				if id != "" {
					// The file already names this cache: the same id
					// shares it instead of starting a second one.
					opt = "--mount=type=cache,id=" + id + ",target=" + n.target
				}
				if n.locked && sharing == "" {
					sharing = "locked"
				}
				if sharing != "" {
					opt += ",sharing=" + sharing
				}
				flags = append(flags, opt)
				if len(tools) == 0 || tools[len(tools)-1] != n.tool {
					tools = append(tools, n.tool)
				}
				fixable = fixable && !n.noFix
			}
			msg := fmt.Sprintf("%s starts from an empty cache on every build that misses the layer cache; a BuildKit cache mount keeps its cache between builds and out of the image: RUN %s",
				strings.Join(tools, " and "), strings.Join(flags, " "))
			var fix *analyzer.Fix
			if fixable {
				fix = &analyzer.Fix{
					Message: "mount a build cache for " + strings.Join(tools, " and "),
					Edits:   []analyzer.TextEdit{{Start: in.ArgsStart, End: in.ArgsStart, New: strings.Join(flags, " ") + " "}},
				}
			} else if !runsAsRoot(in) {
				msg = fmt.Sprintf("%s starts from an empty cache on every build that misses the layer cache; a BuildKit cache mount keeps its cache between builds and out of the image (this RUN runs as %s: mount that user's cache folder with uid= and gid= options)",
					strings.Join(tools, " and "), runUser(in))
			}
			p.Report(in, msg, fix)
		}
	},
}

type cacheNeed struct {
	tool   string
	target string
	locked bool
	noFix  bool
}

// cacheNeeds returns the cache mounts a command would benefit from.
// dockerClean finds the RUN that removes the Debian images' apt hook that
// deletes downloaded packages, without which an apt cache mount stays
// empty.
func cacheNeeds(in *analyzer.Instruction, c analyzer.Command, aware bool, dockerClean *chainFirst) []cacheNeed {
	switch c.Name {
	case "apt-get", "apt":
		if c.Subcommand("-o", "-t", "-c") != "install" || !removesDockerCleanBy(dockerClean, in) {
			return nil
		}
		return []cacheNeed{{tool: "apt", target: "/var/cache/apt", locked: true}, {tool: "apt", target: "/var/lib/apt", locked: true}}
	case "apk":
		if c.Subcommand("-o", "-t", "-c") != "add" || c.Has("--no-cache") || !aware || removesPath(in.Script, "/var/cache/apk") {
			return nil
		}
		return []cacheNeed{{tool: "apk", target: "/etc/apk/cache", locked: true}}
	}
	pm, pc := analyzer.PackageManagerOf(c)
	if pm == nil {
		return nil
	}
	installs := pm.InstallsDependencies(pc)
	sub := pm.Subcommand(pc)
	caches := pm.Caches
	noFix := false
	switch pm {
	case analyzer.Pip:
		if !installs || c.Has("--no-cache-dir") || !aware {
			return nil
		}
		if _, ok := in.EnvBefore("PIP_NO_CACHE_DIR"); ok || inlineEnvTruthy(c, "PIP_NO_CACHE_DIR") || exportsOf(in.Script, "PIP_NO_CACHE_DIR").truthyBefore(c.Start) {
			return nil
		}
	case analyzer.Npm:
		if !installs || cleansInRun(in, "npm", "cache") || npmChoosesCache(c) {
			return nil
		}
	case analyzer.Yarn:
		if !installs || cleansInRun(in, "yarn", "cache") || !aware {
			return nil
		}
	case analyzer.Pnpm:
		if !installs {
			return nil
		}
	case analyzer.Go:
		switch {
		case installs:
			caches = caches[:1] // downloads only
		case sub != "build" && sub != "install" && sub != "test":
			return nil
		}
	case analyzer.Cargo:
		if sub != "build" && sub != "install" && sub != "fetch" || usesCargoChef(in) {
			return nil
		}
	case analyzer.Maven, analyzer.Gradle:
	case analyzer.Bundler:
		if !installs {
			return nil
		}
		dir, ok := bundlerCacheDir(in, c)
		if !ok || removesBundlerCache(in, dir) {
			return nil
		}
		return []cacheNeed{{tool: pm.Name, target: dir, noFix: true}}
	case analyzer.Composer:
		noFix = true
		if sub != "install" && sub != "update" || c.Has("--no-cache") {
			return nil
		}
	default:
		return nil
	}
	img := ""
	if in.Stage != nil {
		img = in.Stage.Root().Base.Name()
	}
	env := func(name string) (string, bool) { return in.EnvBefore(name) }
	var out []cacheNeed
	for _, cache := range caches {
		out = append(out, cacheNeed{tool: pm.Name, target: cache.In(img, env), locked: cache.Locked, noFix: noFix})
	}
	return out
}

// npmChoosesCache reports an npm command that picks its cache itself: one
// named with --cache (often a folder of the repository), or none used
// but the one there (--offline), so a mount over ~/.npm would hold
// nothing it reads.
func npmChoosesCache(c analyzer.Command) bool {
	for _, a := range c.Args {
		if a.Value == "--cache" || strings.HasPrefix(a.Value, "--cache=") || a.Value == "--offline" {
			return true
		}
	}
	return false
}

// npmrcCache answers whether the project's .npmrc moves npm's cache
// (cache=./vendor/npm-cache) for an npm install: when the context's .npmrc
// sets cache= and the install's stage copies that file in before it (by
// name, or with the whole context). The file is read once per analysis,
// and each stage's instructions once.
type npmrcCache struct {
	read, sets bool
	// copiedAt is, per stage, the index of the first instruction that
	// brings .npmrc in (-1: none; an ancestor's copy counts as 0).
	copiedAt map[*analyzer.Stage]int
}

func (x *npmrcCache) moves(bc *analyzer.BuildContext, in *analyzer.Instruction) bool {
	if !x.read {
		x.read, x.sets = true, npmrcSetsCache(bc)
	}
	if !x.sets || in.Stage == nil {
		return false
	}
	at := x.copied(in.Stage)
	return at >= 0 && at < in.Index
}

func (x *npmrcCache) copied(s *analyzer.Stage) int {
	if x.copiedAt == nil {
		x.copiedAt = map[*analyzer.Stage]int{}
	}
	if at, ok := x.copiedAt[s]; ok {
		return at
	}
	at := -1
	if s.BaseStage != nil && x.copied(s.BaseStage) >= 0 {
		at = 0
	} else {
		for _, in := range s.Instructions {
			if c, ok := copyOf(in); ok && slices.ContainsFunc(c.contextSources(), func(src string) bool {
				return isWholeContext(src) || path.Base(src) == ".npmrc"
			}) {
				at = in.Index
				break
			}
		}
	}
	x.copiedAt[s] = at
	return at
}

// npmrcSetsCache reports a context whose .npmrc moves npm's cache.
func npmrcSetsCache(bc *analyzer.BuildContext) bool {
	b, err := bc.ReadFile(".npmrc")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "cache" {
			return true
		}
	}
	return false
}

// usesCargoChef reports a stage whose lineage runs cargo chef: cook bakes
// the dependencies into a layer on purpose, and a cache mount over cargo's
// folders would hide them from the build after it.
func usesCargoChef(in *analyzer.Instruction) bool {
	if in.Stage == nil {
		return false
	}
	for _, x := range in.Stage.LineageInstructions() {
		if x.Script == nil {
			continue
		}
		for _, c := range x.Script.CommandsNamed("cargo") {
			if c.Subcommand() == "chef" {
				return true
			}
		}
	}
	return false
}

// removesDockerClean reports whether an instruction removes the Debian
// images' docker-clean apt hook.
func removesDockerClean(in *analyzer.Instruction) bool {
	if in.Script == nil {
		return false
	}
	for _, c := range in.Script.CommandsNamed("rm") {
		for _, a := range c.Args {
			if strings.HasSuffix(a.Value, "apt.conf.d/docker-clean") {
				return true
			}
		}
	}
	return false
}

// removesDockerCleanBy reports whether the stage chain removes the hook
// up to and including in; for an ONBUILD trigger, anywhere in the chain
// of the stage that declares it.
func removesDockerCleanBy(dockerClean *chainFirst, in *analyzer.Instruction) bool {
	if in.Onbuild != nil {
		return dockerClean.anywhere(in)
	}
	return dockerClean.upTo(in)
}

// cleansInRun reports `tool sub clean` in the same RUN.
func cleansInRun(in *analyzer.Instruction, tool, sub string) bool {
	for _, c := range in.Script.CommandsNamed(tool) {
		if c.Subcommand() == sub && c.Has("clean") {
			return true
		}
	}
	return false
}

// authorHandles reports a cache folder the RUN already decides about: one
// of its mounts (cache, tmpfs or bind) covers or lies inside it, or the
// RUN cleans it (apk --no-cache, npm cache clean, rm -rf ~/.npm). A mount
// there would collide with the author's, or undo the cleanup they chose:
// a cache mount or a cleanup, by context, not both.
func authorHandles(sf *analyzer.StageFacts, in *analyzer.Instruction, target string) bool {
	mounts := in.Mounts()
	if sf != nil {
		mounts = sf.Mounts(in)
	}
	for _, m := range mounts {
		if m.Target != "" && pathsOverlap(m.Target, target) {
			return true
		}
	}
	if sf == nil {
		return false
	}
	for _, c := range sf.CacheCleaning(in) {
		if pathsOverlap(c.Dir, target) {
			return true
		}
	}
	return false
}

// hiddenByMount says why a cache mount would change the build. A mount
// hides what is in its folder from the RUN and keeps what the RUN writes
// there out of the layer. That is harmless for a download cache, which the
// tool fills again; not for a store of dependencies a build reads (Go's
// module cache, ~/.m2, Gradle's and Cargo's), where an earlier layer's
// content (mvn dependency:go-offline before mvn -o, go mod download) would
// be hidden, or a later RUN without the mount would miss what this one
// fetched. And never over what a COPY or the base image put there. ""
// when no mount would change anything.
func hiddenByMount(p *analyzer.Pass, sf *analyzer.StageFacts, in *analyzer.Instruction, needs []cacheNeed, aware bool, dockerClean *chainFirst) string {
	if sf == nil {
		return ""
	}
	for _, n := range needs {
		// What a RUN left in a download cache is harmless under a mount:
		// only the base image's and copied files count there.
		for w := range sf.FillsBefore(in, n.target, downloadCache(n.target)) {
			where := w.How
			if w.Line == 0 {
				where = "the base image"
			}
			return fmt.Sprintf("a cache mount at %s would hide what %s put there from this RUN", n.target, where)
		}
		if downloadCache(n.target) {
			continue
		}
		reads := func(run *analyzer.Instruction) bool { return readsCacheUnmounted(run, n.target, aware, dockerClean) }
		if earlier := earlierRun(in, reads); earlier != nil {
			return fmt.Sprintf("line %d fetches into %s in its layer, which a cache mount here would hide from this RUN", earlier.StartLine, n.target)
		}
		if later := laterRun(p.File, in, reads); later != nil {
			return fmt.Sprintf("line %d reads %s from the layer this RUN leaves, which a cache mount here would keep empty", later.StartLine, n.target)
		}
		// A build dockopt does not follow (make, a script) may run the
		// tool in its own RUN, with the folder in the layers.
		var driver string
		drives := func(run *analyzer.Instruction) bool {
			driver = buildDriver(run, n.tool, n.target)
			return driver != ""
		}
		may := func() string {
			if strings.HasPrefix(driver, n.tool+" ") {
				return driver + ", which may"
			}
			return driver + ", which may run " + n.tool + " and"
		}
		if earlier := earlierRun(in, drives); earlier != nil {
			return fmt.Sprintf("line %d runs %s fill %s in its layer; a cache mount here would hide that from this RUN", earlier.StartLine, may(), n.target)
		}
		if later := laterRun(p.File, in, drives); later != nil {
			return fmt.Sprintf("line %d runs %s read %s from the layer this RUN leaves; a cache mount here would keep it empty", later.StartLine, may(), n.target)
		}
	}
	return ""
}

// buildDrivers run builds whose commands dockopt does not read.
var buildDrivers = []string{"make", "gmake", "task", "mage", "just"}

// buildDriver names the first command of a RUN that may run tool with
// its folder target where the layers hold it, without saying so: a build
// driver (make, task, mage, just), a script of the project (./build.sh,
// sh scripts/build.sh), or for go, a go command that reads the module
// cache without being one cacheNeeds knows (go run, go generate, go vet,
// go mod tidy). "" when there is none, or the RUN mounts the folder.
func buildDriver(run *analyzer.Instruction, tool, target string) string {
	if run.Keyword != "RUN" || run.Script == nil || mountHolds(run, target) {
		return ""
	}
	for _, c := range run.Script.Commands() {
		if slices.Contains(buildDrivers, c.Name) {
			return c.Name
		}
		if _, ok := scriptRun(run.WorkdirBefore(), c.Name, commandWord(c), argValues(c)); ok {
			return commandWord(c)
		}
		if tool == "go" && c.Name == "go" {
			switch sub := c.Subcommand(); sub {
			case "run", "generate", "vet", "list", "get", "mod", "work":
				return "go " + sub
			}
		}
	}
	return ""
}

// downloadCache reports a folder that only caches downloads, which the
// tool fetches again when it is empty.
func downloadCache(dir string) bool {
	switch dir {
	case "/go/pkg/mod", "/root/go/pkg/mod", "/root/.m2", "/root/.gradle", "/root/.cargo/registry", "/root/.cargo/git", "/usr/local/cargo/registry", "/usr/local/cargo/git":
		return false
	}
	return true
}

// earlierRun returns an earlier RUN of the stage's lineage that uses
// the folder without mounting it (uses tells): what it fetched is in the
// layers this RUN starts from (whoever the facts say it ran as).
func earlierRun(in *analyzer.Instruction, uses func(*analyzer.Instruction) bool) *analyzer.Instruction {
	if in.Stage == nil {
		return nil
	}
	for _, earlier := range in.Stage.LineageInstructions() {
		if earlier == in {
			break
		}
		if uses(earlier) {
			return earlier
		}
	}
	return nil
}

// readsCacheUnmounted reports a RUN whose package manager uses the cache
// folder without a mount there: it reads and writes the layers' copy.
func readsCacheUnmounted(run *analyzer.Instruction, target string, aware bool, dockerClean *chainFirst) bool {
	if run.Keyword != "RUN" || run.Script == nil || mountHolds(run, target) {
		return false
	}
	for _, c := range run.Script.Commands() {
		for _, n := range cacheNeeds(run, c, aware, dockerClean) {
			if n.target == target {
				return true
			}
		}
	}
	return false
}

// laterRun returns a later RUN, in the stage or one built FROM it, that
// uses the folder and does not mount it (uses tells).
func laterRun(d *analyzer.Dockerfile, in *analyzer.Instruction, uses func(*analyzer.Instruction) bool) *analyzer.Instruction {
	if in.Stage == nil {
		return nil
	}
	for _, s := range d.Stages {
		if !builtFrom(s, in.Stage) {
			continue
		}
		for _, later := range s.Instructions {
			// An ONBUILD RUN reads this layer too, wherever it is written:
			// it runs in the builds of the images FROM this one, after
			// every layer of it. A base image that fills a cache for them
			// ships it on purpose.
			if t := later.Trigger; t != nil && t != in && uses(t) {
				return later
			}
			if s == in.Stage && later.StartLine <= in.EndLine {
				continue
			}
			if uses(later) {
				return later
			}
		}
	}
	return nil
}

// namedCache is a cache mount's id and sharing mode.
type namedCache struct{ id, sharing string }

// namedCaches returns, by target, the first cache mount of the file at
// that target that has an id: a second RUN caching the same folder
// should share it. One pass over the file's RUNs, whatever their number.
func namedCaches(d *analyzer.Dockerfile) map[string]namedCache {
	out := map[string]namedCache{}
	for in := range d.Each("RUN") {
		for _, m := range in.Mounts() {
			if _, seen := out[m.Target]; seen || m.Type != "cache" || m.Relative || m.ID == "" || strings.ContainsAny(m.ID, "$,\"\n") {
				continue
			}
			out[m.Target] = namedCache{m.ID, m.Sharing}
		}
	}
	return out
}

// bundlerCacheDir returns where bundle install keeps the .gem files it
// downloads: the cache folder of the gem path it installs into. That is
// GEM_HOME's (/usr/local/bundle in the ruby images) unless BUNDLE_PATH
// names another, which Bundler extends with the Ruby ABI version
// (Bundler.bundle_path joins BUNDLE_PATH with ruby_scope, "ruby/" and
// RbConfig's ruby_version: 3.4.0 for every Ruby 3.4), as the Rails
// Dockerfile template's BUNDLE_PATH="/usr/local/bundle" does. ok is false
// when the folder is not known: a relative BUNDLE_PATH, a Ruby version
// the image's tag does not give, a deployment or --path install (into
// vendor/bundle), or a RUN that sets bundler's path itself (bundle config
// set path, deployment or system).
func bundlerCacheDir(in *analyzer.Instruction, c analyzer.Command) (string, bool) {
	for _, a := range c.Args {
		switch v, _, _ := strings.Cut(a.Value, "="); v {
		case "--path", "--deployment", "--system":
			return "", false
		}
	}
	for _, name := range []string{"BUNDLE_PATH=", "BUNDLE_DEPLOYMENT=", "GEM_HOME=", "BUNDLE_APP_CONFIG="} {
		if strings.Contains(in.Script.Src, name) {
			return "", false
		}
	}
	for _, b := range in.Script.CommandsNamed("bundle") {
		if b.Subcommand() != "config" {
			continue
		}
		for _, a := range b.Args {
			switch v, _, _ := strings.Cut(strings.TrimLeft(a.Value, "-"), "="); v {
			case "path", "deployment", "system":
				return "", false
			}
		}
	}
	if p, ok := in.EnvBefore("BUNDLE_PATH"); ok {
		abi := rubyABI(in)
		if !strings.HasPrefix(p, "/") || abi == "" {
			return "", false
		}
		return path.Clean(p) + "/ruby/" + abi + "/cache", true
	}
	if v, ok := in.EnvBefore("BUNDLE_DEPLOYMENT"); ok && v != "" && v != "false" && v != "0" {
		return "", false
	}
	img := ""
	if in.Stage != nil {
		img = in.Stage.Root().Base.Name()
	}
	return analyzer.Bundler.Caches[0].In(img, func(name string) (string, bool) { return in.EnvBefore(name) }), true
}

// rubyABI is the ABI version of the Ruby a stage's official ruby base
// image runs (3.4.0 for ruby:3.4.7-slim), "" when its tag names none.
func rubyABI(in *analyzer.Instruction) string {
	if in.Stage == nil {
		return ""
	}
	base := in.Stage.Root().Base
	if base.Name() != "ruby" {
		return ""
	}
	m := rubyTagVersion.FindStringSubmatch(base.Tag)
	if m == nil {
		return ""
	}
	return m[1] + ".0"
}

var rubyTagVersion = regexp.MustCompile(`^(\d+\.\d+)(?:[.-]|$)`)

// removesBundlerCache reports an rm in the RUN that deletes dir or a
// folder above it, with a pattern and BUNDLE_PATH as the Rails template
// writes it: rm -rf "${BUNDLE_PATH}"/ruby/*/cache. A cache mount there
// would make that rm fail (a mount point cannot be removed), and the
// author chose to drop the downloads instead.
func removesBundlerCache(in *analyzer.Instruction, dir string) bool {
	bundlePath, _ := in.EnvBefore("BUNDLE_PATH")
	for _, c := range in.Script.CommandsNamed("rm") {
		for _, a := range c.Args {
			v := a.Value
			if a.Dynamic {
				v = strings.NewReplacer(`"`, "", "${BUNDLE_PATH}", bundlePath, "$BUNDLE_PATH", bundlePath).Replace(v)
				if strings.Contains(v, "$") || bundlePath == "" && strings.Contains(a.Value, "BUNDLE_PATH") {
					continue
				}
			}
			v = path.Clean(v)
			if !strings.HasPrefix(v, "/") {
				continue
			}
			for d := dir; d != "/" && d != "."; d = path.Dir(d) {
				if ok, _ := path.Match(v, d); ok {
					return true
				}
			}
		}
	}
	return false
}
