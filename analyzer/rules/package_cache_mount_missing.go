package rules

import (
	"fmt"
	"path"
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
		aware := buildKitAwareA(p.File)
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			mounted := cacheMountTargetsA(in)
			if len(mounted) > 0 {
				continue // caching is configured here; its targets may be custom
			}
			var needs []cacheNeedA
			seen := map[string]bool{}
			for _, c := range in.Script.Commands() {
				for _, n := range cacheNeedsA(in, c, aware) {
					if seen[n.target] || covered(mounted, n.target) {
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
			fixable := runsAsRootA(in)
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
			} else if !runsAsRootA(in) {
				msg = fmt.Sprintf("%s starts from an empty cache on every build that misses the layer cache; a BuildKit cache mount keeps its cache between builds and out of the image (this RUN runs as %s: mount that user's cache folder with uid= and gid= options)",
					strings.Join(tools, " and "), userBeforeA(in))
			}
			p.Report(in, msg, fix)
		}
	},
}

func covered(mounted []string, target string) bool {
	for _, m := range mounted {
		if m == target || strings.HasPrefix(target, m+"/") || strings.HasPrefix(m, target+"/") {
			return true
		}
	}
	return false
}

type cacheNeedA struct {
	tool   string
	target string
	locked bool
	noFix  bool
}

// cacheNeedsA returns the cache mounts a command would benefit from.
func cacheNeedsA(in *analyzer.Instruction, c analyzer.Command, aware bool) []cacheNeedA {
	sub := c.Subcommand("-o", "-t", "-c")
	img := ""
	if in.Stage != nil {
		img = in.Stage.Root().Base.Name()
	}
	envOr := func(name, def string) string {
		if v, ok := envBeforeA(in, name); ok && strings.HasPrefix(v, "/") {
			return path.Clean(v)
		}
		return def
	}
	switch c.Name {
	case "apt-get", "apt":
		if sub != "install" || !removesDockerCleanA(in) {
			return nil
		}
		return []cacheNeedA{{tool: "apt", target: "/var/cache/apt", locked: true}, {tool: "apt", target: "/var/lib/apt", locked: true}}
	case "apk":
		if sub != "add" || c.Has("--no-cache") || !aware {
			return nil
		}
		return []cacheNeedA{{tool: "apk", target: "/etc/apk/cache", locked: true}}
	case "pip", "pip3", "python", "python3":
		if !pipInstallA(c) || c.Has("--no-cache-dir") || !aware {
			return nil
		}
		if _, ok := envBeforeA(in, "PIP_NO_CACHE_DIR"); ok {
			return nil
		}
		return []cacheNeedA{{tool: "pip", target: envOr("PIP_CACHE_DIR", "/root/.cache/pip")}}
	case "npm":
		if sub != "ci" && sub != "install" && sub != "i" || cleansInRunA(in, "npm", "cache") {
			return nil
		}
		return []cacheNeedA{{tool: "npm", target: envOr("npm_config_cache", "/root/.npm")}}
	case "yarn":
		if (sub != "" && sub != "install") || cleansInRunA(in, "yarn", "cache") || !aware {
			return nil
		}
		return []cacheNeedA{{tool: "yarn", target: envOr("YARN_CACHE_FOLDER", "/usr/local/share/.cache/yarn"), locked: true}}
	case "pnpm":
		if sub != "install" && sub != "i" {
			return nil
		}
		return []cacheNeedA{{tool: "pnpm", target: envOr("PNPM_HOME", "/root/.local/share/pnpm") + "/store"}}
	case "go":
		gopath := "/root/go"
		if img == "golang" {
			gopath = "/go"
		}
		mod := envOr("GOMODCACHE", envOr("GOPATH", gopath)+"/pkg/mod")
		switch {
		case sub == "mod" && c.Has("download"):
			return []cacheNeedA{{tool: "go", target: mod}}
		case sub == "build" || sub == "install" || sub == "test":
			return []cacheNeedA{{tool: "go", target: mod}, {tool: "go", target: envOr("GOCACHE", "/root/.cache/go-build")}}
		}
	case "cargo":
		if sub != "build" && sub != "install" && sub != "fetch" {
			return nil
		}
		home := "/root/.cargo"
		if img == "rust" {
			home = "/usr/local/cargo"
		}
		home = envOr("CARGO_HOME", home)
		return []cacheNeedA{{tool: "cargo", target: home + "/registry"}, {tool: "cargo", target: home + "/git"}}
	case "mvn", "mvnw":
		return []cacheNeedA{{tool: "maven", target: "/root/.m2"}}
	case "gradle", "gradlew":
		home := "/root/.gradle"
		if img == "gradle" {
			home = "/home/gradle/.gradle"
		}
		return []cacheNeedA{{tool: "gradle", target: envOr("GRADLE_USER_HOME", home) + "/caches"}}
	case "bundle":
		if sub != "install" && sub != "" {
			return nil
		}
		return []cacheNeedA{{tool: "bundler", target: "/usr/local/bundle/cache", noFix: true}}
	case "composer":
		if sub != "install" && sub != "update" || c.Has("--no-cache") {
			return nil
		}
		return []cacheNeedA{{tool: "composer", target: envOr("COMPOSER_CACHE_DIR", "/root/.composer/cache"), noFix: true}}
	}
	return nil
}

// removesDockerCleanA reports whether the stage chain, up to and
// including in, removes the Debian images' apt hook that deletes
// downloaded packages (without which an apt cache mount stays empty).
func removesDockerCleanA(in *analyzer.Instruction) bool {
	if in.Stage == nil {
		return false
	}
	for _, i := range chainInstructionsA(chainA(in.Stage)) {
		if i.Script != nil {
			for _, c := range i.Script.CommandsNamed("rm") {
				for _, a := range c.Args {
					if strings.HasSuffix(a.Value, "apt.conf.d/docker-clean") {
						return true
					}
				}
			}
		}
		if i == in {
			break
		}
	}
	return false
}

// cleansInRunA reports `tool sub clean` in the same RUN.
func cleansInRunA(in *analyzer.Instruction, tool, sub string) bool {
	for _, c := range in.Script.CommandsNamed(tool) {
		if c.Subcommand() == sub && c.Has("clean") {
			return true
		}
	}
	return false
}
