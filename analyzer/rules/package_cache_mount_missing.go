package rules

import (
	"fmt"
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
		`images' docker-clean hook is removed, so apt is only reported in Dockerfiles that remove it.`,
	Bad:       "RUN npm ci\n",
	Good:      "RUN --mount=type=cache,target=/root/.npm npm ci\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		aware := usesBuildKitFeatures(p.File)
		dockerClean := newChainFirst(removesDockerClean)
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			if len(in.CacheMountTargets()) > 0 {
				continue // caching is configured here; its targets may be custom
			}
			var needs []cacheNeed
			seen := map[string]bool{}
			for _, c := range in.Script.Commands() {
				for _, n := range cacheNeeds(in, c, aware, dockerClean) {
					if seen[n.target] {
						continue
					}
					seen[n.target] = true
					needs = append(needs, n)
				}
			}
			if len(needs) == 0 {
				continue
			}
			var flags, tools []string
			fixable := runsAsRoot(in)
			for _, n := range needs {
				opt := "--mount=type=cache,target=" + n.target
				if n.locked {
					opt += ",sharing=locked"
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
					strings.Join(tools, " and "), in.UserBefore())
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
		if c.Subcommand("-o", "-t", "-c") != "add" || c.Has("--no-cache") || !aware {
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
		if _, ok := in.EnvBefore("PIP_NO_CACHE_DIR"); ok {
			return nil
		}
	case analyzer.Npm:
		if !installs || cleansInRun(in, "npm", "cache") {
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
		if sub != "build" && sub != "install" && sub != "fetch" {
			return nil
		}
	case analyzer.Maven, analyzer.Gradle:
	case analyzer.Bundler:
		noFix = true
		if !installs {
			return nil
		}
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
