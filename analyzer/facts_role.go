package analyzer

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Role is what an image or stage is for. Runtime changes (USER,
// HEALTHCHECK, an init, SHELL) belong only in the final stage of an
// application image: a base image passes them on to every image built
// FROM it, a dev environment needs its root-owned tools, and a fixture
// is shaped on purpose.
type Role string

const (
	// RoleApplication: the final stage runs the project's own code.
	RoleApplication Role = "application"
	// RoleBase: built to be FROMed or published as is (official-image
	// style): no project code copied, a generic command, variant folders.
	RoleBase Role = "base"
	// RoleDev: a development environment (devcontainer, dev target).
	RoleDev Role = "dev"
	// RoleFixture: a test fixture or test image.
	RoleFixture Role = "fixture"
	// RoleBuild: an intermediate stage that only feeds other stages.
	RoleBuild Role = "build"
)

// RoleFact is a role and the evidence for it, for messages that say why
// no change is proposed.
type RoleFact struct {
	Role Role
	Why  string
}

// RuntimeChangeAllowed reports whether a runtime change (USER,
// HEALTHCHECK, an init or ENTRYPOINT, SHELL) may be proposed in stage s:
// only in the final stage of an application image that is not generated.
// It is the one place rules and rewrites decide that. When it may not,
// why is a clause for the finding's message or the withheld rewrite.
func (f *Facts) RuntimeChangeAllowed(s *Stage) (ok bool, why string) {
	if g := f.Generated(); g.Generated {
		return false, "no change proposed: this file is generated (" + g.Why + "); change its template"
	}
	if s == nil || !s.Final {
		return false, "no change proposed: this is not the stage the image is built from"
	}
	role := f.Role()
	if role.Role != RoleApplication {
		return false, fmt.Sprintf("no change proposed: this is a %s image (%s), and every image built from it or run as it would inherit the change", role.Role, role.Why)
	}
	return true, ""
}

// Role returns the role of the file: the role of the image it builds by
// default.
func (f *Facts) Role() RoleFact {
	f.roles()
	return f.role
}

// StageRole returns the role of one stage.
func (f *Facts) StageRole(s *Stage) RoleFact {
	f.roles()
	if s.Index < len(f.stageRoles) {
		return f.stageRoles[s.Index]
	}
	return RoleFact{Role: RoleBuild}
}

func (f *Facts) roles() {
	f.roleOnce.Do(func() {
		f.role = f.fileRole()
		for _, s := range f.file.Stages {
			f.stageRoles = append(f.stageRoles, f.stageRole(s))
		}
	})
}

var (
	fixtureDirs = setOf("testdata", "test-data", "fixtures", "fixture", "__fixtures__", "e2e", "test", "tests", "__tests__", "spec",
		"integration-test", "integration-tests", "integration_test", "integration_tests")
	devDirs        = setOf(".devcontainer", "devcontainer", ".gitpod")
	devWords       = setOf("dev", "development", "local", "debug", "devcontainer", "devel")
	testWords      = setOf("test", "tests", "e2e", "testing")
	devUsers       = setOf("vscode", "codespace", "gitpod", "coder")
	variantSegment = regexp.MustCompile(`^(alpine[\d.]*|slim|(slim-)?(bookworm|bullseye|buster|stretch|trixie)(-slim)?|jammy|noble|focal|bionic|` +
		`windowsservercore(-[\w.]+)?|nanoserver(-[\w.]+)?|ubi\d*(-minimal)?|centos\d*|oraclelinux\d*|rockylinux\d*|debian|ubuntu|` +
		`jdk\d*|jre\d*|fpm|apache|cli|zts|(0|[1-9]\d*)(\.\d+)*(-(rc|beta|alpha)\d*)?)$`)
)

// nameWords splits a Dockerfile's name into the words around
// "Dockerfile": dev.Dockerfile and Dockerfile.dev both give [dev].
func nameWords(p string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(path.Base(p)), func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		if w != "dockerfile" && w != "containerfile" {
			out = append(out, w)
		}
	}
	return out
}

// InTestFolder reports a path under a test or fixture folder (test/,
// testdata/, __fixtures__/, spec/, …): what is there serves the tests,
// not the image built from the folders around it.
func InTestFolder(p string) bool {
	for _, d := range strings.Split(path.Dir(p), "/") {
		if fixtureDirs[strings.ToLower(d)] {
			return true
		}
	}
	return false
}

func (f *Facts) fileRole() RoleFact {
	p := f.file.Path
	dirs := strings.Split(path.Dir(p), "/")
	for _, d := range dirs {
		if fixtureDirs[strings.ToLower(d)] {
			return RoleFact{RoleFixture, fmt.Sprintf("it is under %s/, a test folder", d)}
		}
	}
	for _, w := range nameWords(p) {
		if testWords[w] {
			return RoleFact{RoleFixture, fmt.Sprintf("its name (%s) marks a test image", path.Base(p))}
		}
	}
	for _, d := range dirs {
		if devDirs[strings.ToLower(d)] {
			return RoleFact{RoleDev, fmt.Sprintf("it is under %s/, a development-environment folder", d)}
		}
	}
	if strings.EqualFold(path.Base(p), ".gitpod.Dockerfile") {
		return RoleFact{RoleDev, "it is Gitpod's workspace image"}
	}
	for _, w := range nameWords(p) {
		if devWords[w] {
			return RoleFact{RoleDev, fmt.Sprintf("its name (%s) marks a development image", path.Base(p))}
		}
	}
	final := f.file.FinalStage()
	if r := f.devStage(final); r.Role == RoleDev {
		return r
	}
	return f.runtimeRole(final)
}

// devStage recognises a development stage by its name, its base image
// or its user.
func (f *Facts) devStage(s *Stage) RoleFact {
	if s.Name != "" {
		for _, w := range strings.FieldsFunc(strings.ToLower(s.Name), func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if devWords[w] {
				return RoleFact{RoleDev, fmt.Sprintf("the stage is named %s, a development target", s.Name)}
			}
		}
	}
	base := s.Root().Base
	if strings.Contains(base.Repository, "devcontainers") || strings.HasPrefix(base.Repository, "gitpod/workspace") {
		return RoleFact{RoleDev, "it is built FROM the development-container image " + base.Raw}
	}
	if u, line := lastUser(s); devUsers[u] {
		return RoleFact{RoleDev, fmt.Sprintf("it runs as %s (USER on line %d), a development-environment user", u, line)}
	}
	return RoleFact{}
}

// lastUser returns the account the last USER of a stage's lineage names,
// read without building the stage's facts (every stage's role is needed
// for output, most stages' facts never are).
func lastUser(s *Stage) (string, int) {
	chain := lineage(s)
	for i := len(chain) - 1; i >= 0; i-- {
		ins := chain[i].Instructions
		for j := len(ins) - 1; j >= 0; j-- {
			if c, ok := ins[j].Command.(*instructions.UserCommand); ok {
				u, _, _ := strings.Cut(c.User, ":")
				return u, ins[j].StartLine
			}
		}
	}
	return "", 0
}

// unpackedRootfs returns the ADD that extracts a local tar archive to / of
// a lineage that starts from scratch: how an operating system's base
// image (debian, alpine, busybox) is made. nil when there is none.
func unpackedRootfs(chain []*Stage) *Instruction {
	if len(chain) == 0 || !chain[0].Base.IsScratch() {
		return nil
	}
	for _, st := range chain {
		for _, in := range st.Instructions {
			c, ok := in.Command.(*instructions.AddCommand)
			if !ok || path.Clean(c.DestPath) != "/" {
				continue
			}
			for _, src := range c.SourcePaths {
				if !strings.Contains(src, "://") && isTarName(src) {
					return in
				}
			}
		}
	}
	return nil
}

// startsGeneric reports a lineage that keeps no command or starts a
// generic shell or interpreter: what a distribution's image leaves for its
// users, unlike an application shipped as a tarball with its own
// ENTRYPOINT.
func startsGeneric(chain []*Stage) bool {
	words := startWords(chain)
	return len(words) == 0 || genericCommand(words)
}

// isTarName reports a file name that ADD extracts as a tar archive.
func isTarName(name string) bool {
	name = strings.ToLower(name)
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// runtimeRole tells an application stage from a base image: an
// application copies the project's code in.
func (f *Facts) runtimeRole(s *Stage) RoleFact {
	// Read from the lineage directly: the role is needed for every file's
	// output, the stage's full facts only when a rule asks.
	chain := lineage(s)
	for _, st := range chain {
		for _, in := range st.Instructions {
			if in.Keyword == "ONBUILD" {
				return RoleFact{RoleBase, fmt.Sprintf("it declares ONBUILD triggers (line %d), which run in the images built FROM it", in.StartLine)}
			}
		}
	}
	if rootfs := unpackedRootfs(chain); rootfs != nil && startsGeneric(chain) {
		return RoleFact{RoleBase, fmt.Sprintf("it unpacks a root file system onto scratch (line %d), as distribution base images do", rootfs.StartLine)}
	}
	if copiesOnlyManifests(chain) {
		if watcher := devWatcher(startWords(chain), f.ctx); watcher != "" {
			// The code it watches is not in the image: a bind mount
			// brings it, and the image is a development environment.
			return RoleFact{RoleDev, "it starts " + watcher + " and copies no code beyond dependency manifests: a bind mount brings the code it watches"}
		}
	}
	content := f.stageContent(s, map[*Stage]bool{})
	if content.code != "" {
		return RoleFact{RoleApplication, "it copies the project's code into the image (" + content.code + ")"}
	}
	var signs []string
	if seg := variantFolder(f.file.Path); seg != "" {
		signs = append(signs, fmt.Sprintf("it sits in a variant folder (%s)", seg))
	}
	if content.config == "" {
		if words := startWords(chain); len(words) == 0 {
			signs = append(signs, "it keeps its base image's command")
		} else if genericCommand(words) {
			signs = append(signs, fmt.Sprintf("its command (%s) is a generic shell or interpreter", strings.Join(words, " ")))
		}
	}
	if content.entrypoint != "" && content.config == "" {
		signs = append(signs, "it copies in only an entrypoint script ("+content.entrypoint+"), in the style of the official images")
	}
	if len(signs) == 0 {
		// Last, because it reads the repository around the file.
		if g := f.Generated(); g.Generated {
			signs = append(signs, "it is generated ("+g.Why+")")
		}
	}
	if len(signs) > 0 {
		return RoleFact{RoleBase, "no project code is copied into it, and " + strings.Join(signs, "; ")}
	}
	if content.config != "" {
		return RoleFact{RoleApplication, "it configures its server with the project's files (" + content.config + ")"}
	}
	return RoleFact{RoleApplication, "it runs its own command (" + strings.Join(startWords(chain), " ") + ")"}
}

// variantFolder returns the folder that marks a variant tree
// (3.12/bookworm/Dockerfile), "" when there is none.
func variantFolder(p string) string {
	for _, d := range strings.Split(path.Dir(p), "/") {
		if d != "." && variantSegment.MatchString(strings.ToLower(d)) {
			return d
		}
	}
	return ""
}

// genericCommand recognises commands that start a shell or an
// interpreter without a program: what base images leave for their users.
func genericCommand(words []string) bool {
	first := strings.ToLower(path.Base(words[0]))
	switch first {
	case "sh", "bash", "ash", "zsh", "dash", "pwsh", "powershell", "powershell.exe", "cmd", "cmd.exe", "python", "python3", "python2",
		"node", "irb", "ruby", "php", "jshell", "ghci", "iex", "erl", "r", "julia", "lua", "perl", "bun", "deno", "scala", "groovysh", "tclsh":
	default:
		return false
	}
	for _, w := range words[1:] {
		if !strings.HasPrefix(w, "-") {
			return false
		}
	}
	return true
}

// stageContent is what a stage (and the stages it copies from) takes from
// the build context, by kind: the first code, configuration and
// entrypoint source seen.
type stageContent struct{ code, config, entrypoint string }

func (f *Facts) stageContent(s *Stage, seen map[*Stage]bool) stageContent {
	var out stageContent
	merge := func(c stageContent) {
		if out.code == "" {
			out.code = c.code
		}
		if out.config == "" {
			out.config = c.config
		}
		if out.entrypoint == "" {
			out.entrypoint = c.entrypoint
		}
	}
	for _, st := range lineage(s) {
		if seen[st] {
			continue
		}
		seen[st] = true
		for _, in := range st.Instructions {
			switch in.Keyword {
			case "COPY", "ADD":
				if from, ok := in.Flag("from"); ok {
					if src := f.stageRef(from); src != nil && src.Index < st.Index {
						merge(f.stageContent(src, seen))
					}
					continue
				}
				for _, src := range copySources(in) {
					merge(f.classifySource(src, in.StartLine))
				}
			case "RUN":
				for _, m := range in.Mounts() {
					if m.Type != "bind" {
						continue
					}
					if m.From != "" {
						if src := f.stageRef(m.From); src != nil && src.Index < st.Index {
							merge(f.stageContent(src, seen))
						}
						continue
					}
					src := m.Source
					if src == "" {
						src = "."
					}
					merge(f.classifySource(src, in.StartLine))
				}
			}
		}
	}
	return out
}

// copySources returns the context sources of a COPY or ADD (not URLs).
func copySources(in *Instruction) []string {
	var srcs []string
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		srcs = c.SourcePaths
	case *instructions.AddCommand:
		srcs = c.SourcePaths
	}
	var out []string
	for _, s := range srcs {
		if !strings.Contains(s, "://") && !strings.HasPrefix(s, "git@") && !strings.HasPrefix(s, "<<") {
			out = append(out, s)
		}
	}
	return out
}

var (
	configExt = setOf(".conf", ".cnf", ".ini", ".yml", ".yaml", ".json", ".toml", ".xml", ".properties", ".cfg", ".env",
		".pem", ".crt", ".key", ".template", ".tmpl", ".j2", ".html", ".htm", ".css", ".txt", ".md", ".envsh")
	scriptExt = setOf(".sh", ".bash", ".envsh", ".ps1")
)

// classifySource sorts one context source into code, configuration or an
// entrypoint-style script.
func (f *Facts) classifySource(src string, line int) stageContent {
	rel := strings.TrimPrefix(path.Clean("/"+src), "/")
	where := fmt.Sprintf("%s on line %d", src, line)
	bc := f.ctx
	var files []string
	switch {
	case rel == "" || strings.ContainsAny(rel, "*?["):
		if rel == "" || f.globBudget <= 0 {
			// The whole context, or more patterns than are worth matching
			// against every file: count it as code, as an unknown source.
			return stageContent{code: where}
		}
		f.globBudget--
		for _, file := range bc.Files {
			if ok, _ := path.Match(rel, file); ok {
				files = append(files, file)
			}
		}
	case bc.dirs[rel]:
		// Files is sorted: the folder's files are one run of it.
		for i := sort.SearchStrings(bc.Files, rel+"/"); i < len(bc.Files) && strings.HasPrefix(bc.Files[i], rel+"/"); i++ {
			files = append(files, bc.Files[i])
		}
	default:
		files = []string{rel}
	}
	if len(files) == 0 {
		return stageContent{code: where}
	}
	var out stageContent
	for _, file := range files {
		switch sourceKind(file) {
		case "code":
			return stageContent{code: where}
		case "config":
			out.config = where
		case "script":
			if out.entrypoint == "" {
				out.entrypoint = where
			}
		}
	}
	return out
}

// sourceKind is "code" for anything the project builds or runs (manifests
// included), "config" for configuration and static files, "script" for
// shell scripts an image's entrypoint is made of.
func sourceKind(file string) string {
	base := path.Base(file)
	for _, pm := range PackageManagers {
		if slices.Contains(pm.Manifests, base) || slices.Contains(pm.Lockfiles, base) {
			return "code"
		}
	}
	if strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt") {
		return "code"
	}
	ext := strings.ToLower(path.Ext(base))
	switch {
	case scriptExt[ext] || strings.Contains(base, "entrypoint") || strings.HasSuffix(base, "-foreground") || strings.HasPrefix(base, "docker-") || strings.HasPrefix(base, "healthcheck"):
		return "script"
	case configExt[ext]:
		return "config"
	}
	return "code"
}

// stageRole classifies one stage; the final stage takes the file's role.
func (f *Facts) stageRole(s *Stage) RoleFact {
	if r := f.devStage(s); r.Role == RoleDev {
		return r
	}
	if s.Name != "" {
		for _, w := range strings.FieldsFunc(strings.ToLower(s.Name), func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if testWords[w] || w == "lint" || w == "check" {
				return RoleFact{RoleFixture, fmt.Sprintf("the stage is named %s, a test target", s.Name)}
			}
		}
	}
	if s.Final {
		return f.role
	}
	if used := f.usedBy(s); used != "" {
		return RoleFact{RoleBuild, "a later stage uses it (" + used + ")"}
	}
	for _, in := range s.Instructions {
		if in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT" {
			r := f.runtimeRole(s)
			r.Why = "it is a build target of its own with a start command; " + r.Why
			return r
		}
	}
	return RoleFact{RoleBuild, "an intermediate stage: no later stage uses it and it has no start command of its own"}
}

// usedBy names how a later stage uses s: FROM it, COPY --from or a mount.
func (f *Facts) usedBy(s *Stage) string {
	f.useOnce.Do(func() {
		f.uses = map[*Stage]string{}
		note := func(used *Stage, how string) {
			if used != nil {
				if _, seen := f.uses[used]; !seen {
					f.uses[used] = how
				}
			}
		}
		for _, later := range f.file.Stages {
			if later.BaseStage != nil {
				note(later.BaseStage, fmt.Sprintf("FROM on line %d", later.From.StartLine))
			}
			for _, in := range later.Instructions {
				if from, ok := in.Flag("from"); ok && in.Keyword != "RUN" {
					if used := f.stageRef(from); used != nil && used.Index < later.Index {
						note(used, fmt.Sprintf("COPY --from on line %d", in.StartLine))
					}
				}
				if in.Keyword == "RUN" && strings.Contains(strings.Join(in.Flags, " "), "from=") {
					for _, m := range in.Mounts() {
						if used := f.stageRef(m.From); m.From != "" && used != nil && used.Index < later.Index {
							note(used, fmt.Sprintf("a --mount from it on line %d", in.StartLine))
						}
					}
				}
			}
		}
	})
	return f.uses[s]
}

// devWatchers are programs that serve or rerun code as it is edited.
var devWatchers = map[string]bool{"nodemon": true, "ts-node-dev": true, "webpack-dev-server": true, "live-server": true}

// devWatcher names the development watcher a start command runs, through
// npm run, yarn or pnpm scripts of the context's package.json, "" when it
// runs none: nodemon, ts-node-dev, vite without build or preview, next
// dev, webpack serve, uvicorn or flask with --reload, air.
func devWatcher(words []string, bc *BuildContext) string {
	for depth := 0; depth < 3 && len(words) > 0; depth++ {
		first := path.Base(words[0])
		if first == "npx" && len(words) > 1 {
			words = words[1:]
			first = path.Base(words[0])
		}
		switch {
		case devWatchers[first]:
			return first
		case first == "vite" && (len(words) == 1 || words[1] == "dev" || words[1] == "serve" || strings.HasPrefix(words[1], "-")):
			return strings.Join(words, " ")
		case (first == "next" || first == "nuxt" || first == "remix") && len(words) > 1 && words[1] == "dev",
			first == "webpack" && len(words) > 1 && words[1] == "serve",
			(first == "uvicorn" || first == "flask") && slices.Contains(words, "--reload"),
			first == "air":
			return strings.Join(words, " ")
		}
		script := ""
		switch {
		case (first == "npm" || first == "pnpm" || first == "yarn") && len(words) > 2 && (words[1] == "run" || words[1] == "run-script"):
			script = words[2]
		case (first == "yarn" || first == "pnpm") && len(words) > 1 && !strings.HasPrefix(words[1], "-"):
			script = words[1]
		case first == "npm" && len(words) > 1 && words[1] == "start":
			script = "start"
		}
		if script == "" || bc == nil || bc.Package == nil || bc.Package.Scripts[script] == "" {
			return ""
		}
		words = strings.Fields(bc.Package.Scripts[script])
	}
	return ""
}

// dependencyManifests are the files an install reads (the package
// managers' manifests, lockfiles and configuration), which a development
// image copies while the code itself comes from a bind mount. Manifests
// that are code (setup.py, build.gradle.kts) are left out: COPY *.py
// matches setup.py and copies the app.
var dependencyManifests = func() map[string]bool {
	m := map[string]bool{}
	for _, pm := range PackageManagers {
		for _, name := range slices.Concat(pm.Manifests, pm.Lockfiles, pm.Config) {
			switch path.Ext(name) {
			case ".py", ".gradle", ".kts":
				continue
			}
			m[name] = true
		}
	}
	return m
}()

// copiesOnlyManifests reports a lineage whose COPY and ADD bring nothing
// from the context but dependency manifests (and copy from no stage).
func copiesOnlyManifests(chain []*Stage) bool {
	for _, st := range chain {
		for _, in := range st.Instructions {
			if in.Keyword != "COPY" && in.Keyword != "ADD" {
				continue
			}
			if _, ok := in.Flag("from"); ok {
				return false
			}
			for _, src := range copySources(in) {
				if !isManifestSource(path.Base(src)) {
					return false
				}
			}
		}
	}
	return true
}

// isManifestSource reports a COPY source naming dependency manifests only:
// one by name, or a pattern such as package*.json that matches some.
func isManifestSource(base string) bool {
	if dependencyManifests[base] || strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt") {
		return true
	}
	if !strings.ContainsAny(base, "*?[") {
		return false
	}
	for name := range dependencyManifests {
		if ok, _ := path.Match(base, name); ok {
			return true
		}
	}
	return false
}
