package analyzer

import (
	"path"
	"slices"
	"strings"
	"sync"
)

// PackageManager is what dockopt knows of one language package manager:
// how a Dockerfile runs it, what an install from its manifest reads and
// where it keeps downloads. Rules, rewrites and the build-context facts all
// read these values, so that they agree on what an install is.
type PackageManager struct {
	Name      string
	Ecosystem string
	// Commands are the command names that run it, after wrappers such as
	// sudo. Versioned names ("pip3.12") count when Versioned is set.
	Commands  []string
	Versioned bool
	// Valued are options that take the next word as their value, which
	// must be skipped to find the subcommand.
	Valued []string
	// Install lists every spelling of the subcommand that installs what the
	// manifest lists, the usual one first ("" when the bare command does;
	// "mod download" when it takes two words); Frozen those that install
	// exactly the lockfile.
	// Goals is set for tools whose install is a goal anywhere on the line.
	Install, Frozen []string
	Goals           bool
	// Manifests are the files an install reads, Lockfiles those that pin
	// it, Config the files it also reads when they exist.
	Manifests, Lockfiles, Config []string
	// Caches are where it keeps downloads (and, for Go, builds).
	Caches []Cache
}

// Cache is a folder a package manager fills on every install.
type Cache struct {
	// Dir is the folder when the tool runs as root; ImageDirs are the
	// folders official images of that name use instead.
	Dir       string
	ImageDirs map[string]string
	// Env moves the folder; HomeEnv moves the tool's home, in which the
	// folder is HomeRel.
	Env, HomeEnv, HomeRel string
	// Locked caches must not be shared by concurrent builds
	// (sharing=locked): the tool locks them itself and would wait or fail.
	Locked bool
}

// In returns the folder for a stage on image (the official image's
// name) whose environment env reads; only absolute values count.
func (c Cache) In(image string, env func(name string) (string, bool)) string {
	abs := func(name string) (string, bool) {
		if name == "" || env == nil {
			return "", false
		}
		v, ok := env(name)
		if !ok || !strings.HasPrefix(v, "/") {
			return "", false
		}
		return path.Clean(v), true
	}
	if v, ok := abs(c.Env); ok {
		return v
	}
	if v, ok := abs(c.HomeEnv); ok {
		return v + "/" + c.HomeRel
	}
	if d, ok := c.ImageDirs[image]; ok {
		return d
	}
	return c.Dir
}

// The package managers, in the order that ecosystems are reported:
// the first ecosystem whose manifest a context holds is its main one.
var (
	Npm = &PackageManager{Name: "npm", Ecosystem: "node", Commands: []string{"npm"},
		Valued: []string{"--prefix", "-w", "--workspace", "--cache", "--registry", "--loglevel", "--omit", "--include",
			"--tag", "--userconfig", "-C"},
		// npm's own alias table, typos included.
		Install:   []string{"install", "i", "add", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall"},
		Frozen:    []string{"ci", "clean-install", "ic", "install-clean", "isntall-clean"},
		Manifests: []string{"package.json"}, Lockfiles: []string{"package-lock.json", "npm-shrinkwrap.json"},
		Config: []string{".npmrc"},
		Caches: []Cache{{Dir: "/root/.npm", Env: "npm_config_cache"}}}
	Yarn = &PackageManager{Name: "yarn", Ecosystem: "node", Commands: []string{"yarn"},
		Valued:    []string{"--cwd", "--modules-folder", "--cache-folder", "--network-timeout", "--mutex"},
		Install:   []string{"install", ""},
		Manifests: []string{"package.json"}, Lockfiles: []string{"yarn.lock"}, Config: []string{".npmrc", ".yarnrc"},
		Caches: []Cache{{Dir: "/usr/local/share/.cache/yarn", Env: "YARN_CACHE_FOLDER", Locked: true}}}
	Pnpm = &PackageManager{Name: "pnpm", Ecosystem: "node", Commands: []string{"pnpm"},
		Valued:    []string{"-C", "--dir", "--filter", "-F", "--store-dir"},
		Install:   []string{"install", "i"},
		Manifests: []string{"package.json"}, Lockfiles: []string{"pnpm-lock.yaml"}, Config: []string{".npmrc"},
		Caches: []Cache{{Dir: "/root/.local/share/pnpm/store", HomeEnv: "PNPM_HOME", HomeRel: "store"}}}
	Bun = &PackageManager{Name: "bun", Ecosystem: "node", Commands: []string{"bun"},
		Manifests: []string{"package.json"}, Lockfiles: []string{"bun.lockb", "bun.lock"}}
	Pip = &PackageManager{Name: "pip", Ecosystem: "python", Commands: []string{"pip"}, Versioned: true,
		Valued: []string{"--proxy", "--log", "--cache-dir", "--timeout", "--retries", "--exists-action",
			"--trusted-host", "--cert", "--client-cert", "--python", "--root-user-action", "-r", "--requirement",
			"-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target",
			"--prefix", "--root", "-e", "--editable", "--platform", "--python-version", "--implementation", "--abi"},
		Install:   []string{"install"},
		Manifests: []string{"requirements.txt", "setup.py"},
		Caches:    []Cache{{Dir: "/root/.cache/pip", Env: "PIP_CACHE_DIR"}}}
	Poetry = &PackageManager{Name: "poetry", Ecosystem: "python", Commands: []string{"poetry"},
		Install: []string{"install"}, Manifests: []string{"pyproject.toml"}, Lockfiles: []string{"poetry.lock"}}
	Pipenv = &PackageManager{Name: "pipenv", Ecosystem: "python", Commands: []string{"pipenv"},
		Install: []string{"install"}, Manifests: []string{"Pipfile"}, Lockfiles: []string{"Pipfile.lock"}}
	Uv = &PackageManager{Name: "uv", Ecosystem: "python", Commands: []string{"uv"},
		Install: []string{"sync"}, Manifests: []string{"pyproject.toml"}, Lockfiles: []string{"uv.lock"}}
	Pdm = &PackageManager{Name: "pdm", Ecosystem: "python", Commands: []string{"pdm"},
		Manifests: []string{"pyproject.toml"}, Lockfiles: []string{"pdm.lock"}}
	Rye = &PackageManager{Name: "rye", Ecosystem: "python", Commands: []string{"rye"},
		Manifests: []string{"pyproject.toml"}, Lockfiles: []string{"requirements.lock"}}
	Go = &PackageManager{Name: "go", Ecosystem: "go", Commands: []string{"go"},
		Install: []string{"mod download"}, Manifests: []string{"go.mod"}, Lockfiles: []string{"go.sum"},
		// The module cache, then the build cache.
		Caches: []Cache{
			{Dir: "/root/go/pkg/mod", ImageDirs: map[string]string{"golang": "/go/pkg/mod"}, Env: "GOMODCACHE", HomeEnv: "GOPATH", HomeRel: "pkg/mod"},
			{Dir: "/root/.cache/go-build", Env: "GOCACHE"},
		}}
	Maven = &PackageManager{Name: "maven", Ecosystem: "java", Commands: []string{"mvn", "mvnw"},
		Install: []string{"dependency:go-offline", "dependency:resolve"}, Goals: true, Manifests: []string{"pom.xml"},
		Caches: []Cache{{Dir: "/root/.m2"}}}
	Gradle = &PackageManager{Name: "gradle", Ecosystem: "java", Commands: []string{"gradle", "gradlew"},
		Manifests: []string{"build.gradle", "build.gradle.kts"}, Lockfiles: []string{"gradle.lockfile"},
		Caches: []Cache{{Dir: "/root/.gradle/caches", ImageDirs: map[string]string{"gradle": "/home/gradle/.gradle/caches"},
			HomeEnv: "GRADLE_USER_HOME", HomeRel: "caches"}}}
	Bundler = &PackageManager{Name: "bundler", Ecosystem: "ruby", Commands: []string{"bundle"},
		Install: []string{"install", ""}, Manifests: []string{"Gemfile"}, Lockfiles: []string{"Gemfile.lock"},
		// Without BUNDLE_PATH, gems go to GEM_HOME, which the ruby images
		// set to /usr/local/bundle; their downloads to its cache folder.
		Caches: []Cache{{Dir: "/usr/local/bundle/cache", HomeEnv: "GEM_HOME", HomeRel: "cache"}}}
	Composer = &PackageManager{Name: "composer", Ecosystem: "php", Commands: []string{"composer"},
		Install: []string{"install"}, Manifests: []string{"composer.json"}, Lockfiles: []string{"composer.lock"},
		// The composer image sets COMPOSER_HOME=/tmp; the cache is in its home.
		Caches: []Cache{{Dir: "/root/.composer/cache", ImageDirs: map[string]string{"composer": "/tmp/cache"},
			Env: "COMPOSER_CACHE_DIR", HomeEnv: "COMPOSER_HOME", HomeRel: "cache"}}}
	Cargo = &PackageManager{Name: "cargo", Ecosystem: "rust", Commands: []string{"cargo"},
		Manifests: []string{"Cargo.toml"}, Lockfiles: []string{"Cargo.lock"},
		Caches: []Cache{
			{Dir: "/root/.cargo/registry", ImageDirs: map[string]string{"rust": "/usr/local/cargo/registry"}, HomeEnv: "CARGO_HOME", HomeRel: "registry"},
			{Dir: "/root/.cargo/git", ImageDirs: map[string]string{"rust": "/usr/local/cargo/git"}, HomeEnv: "CARGO_HOME", HomeRel: "git"},
		}}
	NuGet = &PackageManager{Name: "nuget", Ecosystem: "dotnet", Commands: []string{"dotnet"},
		Lockfiles: []string{"packages.lock.json"}}
)

// PackageManagers is the table, in the order of the variables above.
var PackageManagers = []*PackageManager{Npm, Yarn, Pnpm, Bun, Pip, Poetry, Pipenv, Uv, Pdm, Rye, Go, Maven, Gradle, Bundler, Composer, Cargo, NuGet}

// PackageManagerOf returns the package manager a command runs and the
// command as that manager sees it: `python3 -m pip install x` is pip with
// the arguments after `pip`. It returns nil for other commands.
func PackageManagerOf(c Command) (*PackageManager, Command) {
	if strings.HasPrefix(c.Name, "python") && strings.Trim(c.Name[len("python"):], "0123456789.") == "" {
		for i, a := range c.Args {
			if a.Value == "-m" && i+1 < len(c.Args) && c.Args[i+1].Value == "pip" {
				m := c
				m.Name, m.Args = "pip", c.Args[i+2:]
				return Pip, m
			}
		}
		return nil, c
	}
	for _, pm := range PackageManagers {
		name := c.Name
		if pm.Versioned {
			name = strings.TrimRight(name, "0123456789.")
		}
		if slices.Contains(pm.Commands, name) {
			return pm, c
		}
	}
	return nil, c
}

// Subcommand returns the command's first positional argument, skipping the
// manager's valued options, or "".
func (pm *PackageManager) Subcommand(c Command) string { return c.Subcommand(pm.Valued...) }

// InstallsDependencies reports whether the command (as PackageManagerOf
// returns it) is one of the manager's installs from the manifest or the
// lockfile, in any spelling.
func (pm *PackageManager) InstallsDependencies(c Command) bool {
	return pm.spelled(c, pm.Install) || pm.spelled(c, pm.Frozen)
}

// InstallsFrozen reports an install of exactly what the lockfile records.
func (pm *PackageManager) InstallsFrozen(c Command) bool { return pm.spelled(c, pm.Frozen) }

func (pm *PackageManager) spelled(c Command, spellings []string) bool {
	if pm.Goals {
		return c.Has(spellings...)
	}
	pos := c.Positional(pm.Valued...)
	for _, s := range spellings {
		first, second, two := strings.Cut(s, " ")
		switch {
		case first == "" && len(pos) == 0:
			return true
		case len(pos) > 0 && pos[0].Value == first && (!two || c.Has(second)):
			return true
		}
	}
	return false
}

// lockfileNames returns every lockfile name the table knows, listed once
// for every context to look for.
var lockfileNames = sync.OnceValue(func() []string {
	var out []string
	for _, pm := range PackageManagers {
		for _, l := range pm.Lockfiles {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
})

// OmitsDev reports an install (the command as PackageManagerOf returns it) that leaves the devDependencies out, so a
// git one among them is not fetched: --production, --omit=dev or
// --only=prod[uction] (npm's --omit names what to leave out, so --omit
// prod or --omit=optional keeps them), pnpm's -P, or, for npm,
// NODE_ENV=production (an ENV before the RUN or an assignment before the
// command), which makes "dev" npm's default omit. npm's --include=dev and
// --production=false take them back.
func (pm *PackageManager) OmitsDev(in *Instruction, c Command) bool {
	omit, include := false, false
	for i, a := range c.Args {
		next := ""
		if i+1 < len(c.Args) {
			next = c.Args[i+1].Value
		}
		switch v := a.Value; {
		case v == "--production" || v == "--production=true" || v == "--prod" || v == "--omit=dev" ||
			v == "--only=prod" || v == "--only=production":
			omit = true
		case v == "--omit" && next == "dev", v == "--only" && (next == "prod" || next == "production"):
			omit = true
		case v == "-P" && pm.Name == "pnpm":
			omit = true
		case v == "--include=dev" || v == "--include" && next == "dev" || v == "--production=false":
			include = true
		}
	}
	if include {
		return false
	}
	if omit || pm.Name != "npm" {
		return omit
	}
	env, set := in.EnvBefore("NODE_ENV")
	if c.Call != nil {
		for _, as := range c.Call.Assigns {
			if as.Name != nil && as.Name.Value == "NODE_ENV" {
				v, ok := Literal(as.Value)
				env, set = v, ok
			}
		}
	}
	for _, w := range c.Prefix {
		switch v, ok := strings.CutPrefix(w.Value, "NODE_ENV="); {
		case w.Value == "sudo" || w.Value == "-i" || w.Value == "--ignore-environment" || w.Value == "-":
			// sudo resets the environment, env -i empties it.
			env, set = "", false
		case ok:
			env, set = v, !w.Dynamic
		}
	}
	return set && env == "production"
}
