package rules

import (
	"fmt"
	"iter"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/imagedata"
	"github.com/dockopt/dockopt/analyzer/imagedata/contents"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// FullBaseImage suggests the slim variant of the final stage's image.
var FullBaseImage = &analyzer.Rule{
	ID:       "full-base-image",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "Final stage on a full-size image where a slim variant exists",
	Rationale: `The default tags of the language images carry a complete build toolchain — compilers, headers, ` +
		`version control, hundreds of libraries — that a service rarely needs at run time. They are several ` +
		`times the size of the slim or alpine variants, take longer to pull on every deploy and scale-out, ` +
		`and every extra package is one more source of vulnerability reports. Keep the full image for build ` +
		`stages and run on the smallest variant that works.`,
	Bad:       "FROM python:3.12\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
	Good:      "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		root := final.Root()
		ref := root.Base
		if ref.Unresolved {
			return
		}
		alt, ok := imagedata.SlimAlternative(ref)
		if !ok {
			return
		}
		msg := fmt.Sprintf("the final image is built on %s; %s is much smaller", root.BaseRaw, alt)
		if full, _, ok := imagedata.CompressedSizeMB(ref); ok {
			if slim, _, ok := imagedata.CompressedSizeMB(analyzer.ParseImageRef(alt)); ok {
				msg = fmt.Sprintf("the final image is built on %s (about %.0f MB compressed); %s is about %.0f MB, roughly %.0f MB less to store and pull (approximate published sizes for linux/amd64 as of %s)",
					root.BaseRaw, full, alt, slim, full-slim, imagedata.AsOf())
			}
		}
		if ref.Name() == "golang" {
			msg += "; build the binary in a golang stage and copy it into " + alt
		}
		var fix *analyzer.Fix
		name := ref.Name()
		if (name == "python" || name == "node") && !ref.Pinned() && !strings.Contains(root.BaseRaw, "$") {
			if ok, why := p.RuntimeChangeAllowed(final); !ok {
				// A base image's users build on what the full image has.
				msg += "; " + why
			} else if why := needsFullImage(p, final, ref, alt); why != "" {
				msg += "; no fix proposed because " + why
			} else {
				fix = slimFix(p.File, root, alt)
			}
		}
		p.Report(root.From, msg, fix)
	},
}

// nativeBuildPackages are packages whose presence means the stage
// compiles native code, which the slim images cannot do out of the box.
var nativeBuildPackages = []string{"gcc", "g++", "build-essential", "make", "cmake", "node-gyp", "python3-dev",
	"python-dev", "libffi-dev", "libssl-dev", "libpq-dev", "default-libmysqlclient-dev", "musl-dev", "clang", "cargo", "rustc"}

// needsFullImage says why the final stage, built on full, may depend on
// it rather than on its slim variant alt, "" when nothing suggests it does.
func needsFullImage(p *analyzer.Pass, final *analyzer.Stage, full analyzer.ImageRef, alt string) string {
	sf := p.Facts().Stage(final)
	if len(sf.StartCommand()) == 0 {
		return "the Dockerfile sets no CMD or ENTRYPOINT, so what the container runs, and which of " + full.Raw + "'s tools that needs, is up to whoever runs it"
	}
	if full.Name() == "node" {
		if prog := analyzer.RunsOtherThanNode(p.File, p.Context); prog != "" {
			return "the container runs " + prog + ", not node: the image is no Node service, and which of " + full.Raw + "'s tools " + prog + " needs (or where it comes from) is not known"
		}
	}
	pkgs := installedPackages(final, slices.Concat(osInstallers, languageInstallers)...)
	for _, n := range nativeBuildPackages {
		if pkgs[n] {
			return "the stage installs " + n + " to compile native code"
		}
	}
	if tool, probe := slimLacks(sf, final, full, alt); probe != nil {
		return fmt.Sprintf("line %d checks whether %s is there and does something else without it: %s ships it and %s does not, so the image would quietly change", probe.StartLine, tool, full.Raw, alt)
	} else if tool != "" {
		return "it runs " + tool + ", which " + full.Raw + " ships and " + alt + " does not"
	}
	if why := slimLacksInScripts(p, sf, final, full, alt); why != "" {
		return why
	}
	if why := slimBreaksHTTPS(p, sf, final, full, alt); why != "" {
		return why
	}
	for _, in := range final.LineageInstructions() {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			switch c.Name {
			case "gcc", "g++", "make", "cc", "node-gyp", "git":
				if sf.ToolAtOffset(c.Start, c.Name).Line != 0 {
					continue
				}
				if isProbe(in.Script, c) {
					if sf.Tool(0, c.Name).Line != 0 {
						continue
					}
					return fmt.Sprintf("line %d checks whether %s is there and does something else without it, and the slim image does not have it, so the image would quietly change", in.StartLine, c.Name)
				}
				return "it runs " + c.Name + ", which the slim image does not have"
			}
		}
	}
	if why := dependencyNeedsFull(p.Context, final, full.Name()); why != "" {
		return why
	}
	if why := gitDependency(p, sf, final, full, alt); why != "" {
		return why
	}
	if full.Name() == "node" && (p.Context == nil || p.Context.Package == nil) {
		if install := nodeInstall(final); install != nil {
			manifests, why := copiedManifests(p.Context, final)
			if why != "" {
				return why
			}
			if len(manifests) == 0 {
				return fmt.Sprintf("line %d installs the project's packages, and no package.json it copies is in the build context to read: whether one of them compiles native code, which needs the compilers of the full image, is unknown", install.StartLine)
			}
		}
	}
	if full.Name() == "python" {
		if why := pythonDependenciesUnknown(p.Context, final); why != "" {
			return why
		}
	}
	if p.Context != nil {
		// The lockfiles at the top and beside each package.json the
		// stage copies (a monorepo's apps/web/package-lock.json).
		dirs := []string{"."}
		if manifests, _ := copiedManifests(p.Context, final); len(manifests) > 0 {
			for _, m := range manifests {
				if d := path.Dir(m.rel); !slices.Contains(dirs, d) {
					dirs = append(dirs, d)
				}
			}
		}
		for _, dir := range dirs {
			for _, name := range []string{"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock"} {
				lock := path.Join(dir, name)
				if b, err := p.Context.ReadFile(lock); err == nil {
					if why := lockNativeBuild(name, b); why != "" {
						return lock + " " + why
					}
				}
			}
		}
	}
	return ""
}

// nativeBuildMarkers are the packages a Node lockfile holds when a
// dependency compiles a native addon at install: node-gyp itself (npm and
// pnpm lock it when a package depends on it; Yarn Berry adds it to every
// package with a binding.gyp) and nan, the headers addons compile
// against, which nothing uses but a build.
var nativeBuildMarkers = []string{"node-gyp", "nan"}

// lockNativeBuild says how a Node lockfile (package-lock.json,
// npm-shrinkwrap.json, yarn.lock classic or Berry, pnpm-lock.yaml, Bun's
// text bun.lock) shows that the install compiles native code with
// node-gyp, "" when it does not. Bun's older bun.lockb is binary and not
// read.
func lockNativeBuild(name string, b []byte) string {
	var locked func(pkg string) bool
	switch name {
	case "package-lock.json", "npm-shrinkwrap.json":
		if strings.Contains(string(b), `"gypfile": true`) {
			return "holds packages built with node-gyp, which needs the compilers of the full image"
		}
		locked = func(pkg string) bool {
			// lockfile v2 and v3 key packages by path, v1 by name.
			return strings.Contains(string(b), `node_modules/`+pkg+`"`) || strings.Contains(string(b), `"`+pkg+`": {`)
		}
	case "yarn.lock":
		names := yarnLockNames(b)
		locked = func(pkg string) bool { return names[pkg] }
	case "pnpm-lock.yaml":
		names := pnpmLockNames(b)
		locked = func(pkg string) bool { return names[pkg] }
	case "bun.lock":
		names := bunLockNames(b)
		locked = func(pkg string) bool { return names[pkg] }
	default:
		return ""
	}
	for _, pkg := range nativeBuildMarkers {
		if !locked(pkg) {
			continue
		}
		if pkg == "node-gyp" {
			return "holds node-gyp: a dependency compiles native code with it, which needs the compilers of the full image"
		}
		return "holds " + pkg + ", which native addons compile against with node-gyp when no prebuilt binary fits, and node-gyp needs the compilers of the full image"
	}
	return ""
}

// yarnLockNames returns the package names of a yarn.lock's entries,
// classic (`nan@^2.19.0:`) or Berry (`"nan@npm:^2.19.0":`), and of their
// dependencies (classic `    nan "^2.19.0"`, Berry `    nan: "npm:^2"`).
func yarnLockNames(b []byte) map[string]bool {
	names := map[string]bool{}
	inDeps := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			field := strings.TrimSpace(line)
			inDeps = field == "dependencies:" || field == "optionalDependencies:"
			continue
		}
		if strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") {
			if inDeps {
				dep, _, _ := strings.Cut(strings.TrimSpace(line), " ")
				names[strings.Trim(strings.TrimSuffix(dep, ":"), `"`)] = true
			}
			continue
		}
		inDeps = false
		if line == "" || line[0] == ' ' || line[0] == '#' || !strings.HasSuffix(line, ":") {
			continue
		}
		for _, entry := range strings.Split(strings.TrimSuffix(line, ":"), ",") {
			entry = strings.Trim(strings.TrimSpace(entry), `"`)
			if at := strings.Index(entry[min(1, len(entry)):], "@") + 1; at > 0 {
				names[entry[:at]] = true
			}
		}
	}
	return names
}

// pnpmLockNames returns the package names of a pnpm-lock.yaml's packages
// and snapshots: `/nan@2.19.0:` (v6), `/nan/2.19.0:` (v5), `nan@2.19.0:`
// (v9), scoped ones with their scope.
func pnpmLockNames(b []byte) map[string]bool {
	names := map[string]bool{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if line != "" && line[0] != ' ' {
			section = strings.TrimSuffix(line, ":")
			continue
		}
		if section != "packages" && section != "snapshots" || !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") || !strings.HasSuffix(line, ":") {
			continue
		}
		key := strings.TrimPrefix(strings.Trim(strings.TrimSuffix(strings.TrimSpace(line), ":"), `'"`), "/")
		scope := ""
		if strings.HasPrefix(key, "@") {
			s, rest, ok := strings.Cut(key, "/")
			if !ok {
				continue
			}
			scope, key = s+"/", rest
		}
		if i := strings.IndexAny(key, "@/"); i > 0 {
			names[scope+key[:i]] = true
		}
	}
	return names
}

// bunLockEntry is a package line of a bun.lock (JSON with trailing
// commas): `    "nan": ["nan@2.19.0", "", {}, "sha512-…"],`, keyed by its
// path in node_modules ("parent/nan" when nested) and led by its own
// name@version, which is what names it.
var bunLockEntry = regexp.MustCompile(`^\s*"[^"]+":\s*\[\s*"(@?[^@"]+)@`)

// bunLockNames returns the package names of a bun.lock's packages, read
// line by line: Bun writes one package per line, and the workspaces'
// dependency lines ("nan": "^2.19.0") are strings, not arrays.
func bunLockNames(b []byte) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := bunLockEntry.FindStringSubmatch(line); m != nil {
			names[m[1]] = true
		}
	}
	return names
}

// dependencyNeedsFull says which dependency of the project loads a
// system library the full language image ships and its slim variant does
// not (Wand and ImageMagick, canvas and cairo), "" when none is known.
func dependencyNeedsFull(bc *analyzer.BuildContext, final *analyzer.Stage, ecosystem string) string {
	if bc == nil {
		return ""
	}
	switch ecosystem {
	case "node":
		if bc.Package == nil {
			return ""
		}
		for _, dep := range slices.Sorted(maps.Keys(bc.Package.Dependencies)) {
			if need, ok := analyzer.FullImageNeedOf("node", dep); ok {
				return need.Why(dep) + " (package.json depends on it)"
			}
		}
	case "python":
		need, _, _ := pythonDependencyNeed(bc, final)
		return need
	}
	return ""
}

// pythonDependenciesUnknown says why what the stage's Python install
// brings in is not known: it installs from the project's dependency files
// and none of them could be read, as Node's install without a package.json
// to read; "" otherwise. An unread project may need the compilers or
// libraries of the full image as much as a read one.
func pythonDependenciesUnknown(bc *analyzer.BuildContext, final *analyzer.Stage) string {
	// Any install of the stage, not only the first: pip install
	// --upgrade pip names its package, the pip install . after it does
	// not.
	var in *analyzer.Instruction
	for i := range projectInstalls(final, "python") {
		if installsFromProject(i.pm, i.c) {
			in = i.in
			break
		}
	}
	if in == nil {
		return ""
	}
	_, readable, unread := pythonDependencyNeed(bc, final)
	if unread != "" {
		return fmt.Sprintf("line %d installs the project's dependencies, and %s: whether one of them compiles native code or loads a library of the full image is unknown", in.StartLine, unread)
	}
	if readable > 0 {
		return ""
	}
	return fmt.Sprintf("line %d installs the project's dependencies, and the build context holds none of the dependency files dockopt reads (requirements*.txt, pyproject.toml, Pipfile or their lockfiles; setup.py is not read): whether one of them compiles native code or loads a library of the full image is unknown", in.StartLine)
}

// installsFromProject reports an install whose packages come from the
// project's files rather than from its command line: pip install -r
// FILE, pip install . (or another local path, -e included), and the
// installs of poetry, pipenv, uv and the others, which read the manifest.
func installsFromProject(pm *analyzer.PackageManager, c analyzer.Command) bool {
	if pm != analyzer.Pip {
		return true
	}
	if c.Has("-r", "--requirement", "-e", "--editable") || c.HasPrefixArg("-r") || c.HasPrefixArg("--requirement=") {
		return true
	}
	for _, a := range c.Positional(pm.Valued...) {
		if v := a.Value; v == "." || strings.HasPrefix(v, "./") || strings.HasPrefix(v, ".[") || strings.HasPrefix(v, "/") {
			return true
		}
	}
	return false
}

// pythonDependencyNeed says which dependency a Python project's
// dependency files name that needs the full image, "" when none does,
// and how many of those files it read: none means what the project
// installs is not known. unread names a requirements file that a read one
// includes (-r base.txt) and the context does not hold, which leaves what
// is installed unknown too.
func pythonDependencyNeed(bc *analyzer.BuildContext, final *analyzer.Stage) (need string, readable int, unread string) {
	if bc == nil {
		return "", 0, ""
	}
	// The requirements files and manifests of the top two levels
	// (requirements.txt, pyproject.toml, Pipfile) and those the
	// stage copies or pip install -r names from deeper (COPY
	// services/api/requirements.txt, with the context the folder
	// above), then their lockfiles, which also name the dependencies'
	// dependencies. The files an -r names, and those they include in
	// turn, are requirements files whatever their names
	// (requirements/production.txt's -r base.txt).
	named := pipRequirementFilesNamed(bc, final)
	copied := append(copiedPythonDependencyFiles(bc, final), named...)
	files := append(slices.Clone(bc.Files), copied...)
	included := map[string]int{} // requirements files by how deep -r includes them
	for _, f := range named {
		included[f] = 1
	}
	seen := map[string]bool{}
	tried := 0
	for _, locks := range []bool{false, true} {
		for i := 0; i < len(files); i++ {
			f := files[i]
			ok, lock := analyzer.PythonDependencyFile(f)
			if _, req := included[f]; req {
				ok, lock = true, false
			}
			if !ok || lock != locks || seen[f] {
				continue
			}
			if strings.Count(f, "/") > 1 && !slices.Contains(copied, f) {
				continue
			}
			seen[f] = true
			if tried++; tried > 64 {
				return "", readable, ""
			}
			b, err := bc.ReadFile(f)
			if err != nil {
				continue
			}
			readable++
			for _, name := range analyzer.PythonDependencyNames(f, b) {
				if need, ok := analyzer.FullImageNeedOf("python", name); ok {
					verb := " lists it)"
					if lock {
						verb = " locks it)"
					}
					return need.Why(name) + " (" + f + verb, readable, ""
				}
			}
			if lock || !strings.HasSuffix(f, ".txt") {
				continue
			}
			for _, inc := range nestedRequirements(f, b) {
				if _, ok := included[inc]; ok {
					continue
				}
				if !bc.Has(inc) {
					return "", readable, fmt.Sprintf("%s includes %s (-r), which the build context does not hold", f, inc)
				}
				if included[f] >= maxRequirementDepth {
					return "", readable, fmt.Sprintf("%s includes %s (-r), more than %d deep for dockopt to follow", f, inc, maxRequirementDepth)
				}
				included[inc] = included[f] + 1
				files = append(files, inc)
				copied = append(copied, inc)
			}
		}
	}
	return "", readable, ""
}

// maxRequirementDepth bounds the chain of requirements files that include
// one another (production.txt includes base.txt).
const maxRequirementDepth = 4

// nestedRequirements are the requirements files a requirements file f
// includes (-r base.txt, --requirement=common.txt), as paths of the
// context: pip reads them relative to the including file. Names with a
// variable or a URL, and paths out of the context, are left out.
func nestedRequirements(f string, src []byte) []string {
	var out []string
	for line := range strings.Lines(string(src)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name := ""
		switch a := fields[0]; {
		case (a == "-r" || a == "--requirement") && len(fields) > 1:
			name = fields[1]
		case strings.HasPrefix(a, "--requirement="):
			name = strings.TrimPrefix(a, "--requirement=")
		case strings.HasPrefix(a, "-r") && len(a) > 2:
			name = a[2:]
		}
		if name == "" || strings.ContainsAny(name, "$") || strings.Contains(name, "://") || path.IsAbs(name) {
			continue
		}
		p := path.Join(path.Dir(f), name)
		if p == ".." || strings.HasPrefix(p, "../") || len(out) >= 16 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// copiedPythonDependencyFiles lists the Python dependency files of the
// context that the stage's lineage copies: literal COPY and ADD sources
// named like one, and those names in a copied folder.
func copiedPythonDependencyFiles(bc *analyzer.BuildContext, final *analyzer.Stage) []string {
	var out []string
	for rel := range copiedContextPaths(final) {
		if rel == "." || len(out) >= 64 {
			continue
		}
		if ok, _ := analyzer.PythonDependencyFile(rel); ok {
			out = append(out, rel)
			continue
		}
		for _, name := range []string{"requirements.txt", "pyproject.toml", "Pipfile", "poetry.lock", "uv.lock", "Pipfile.lock"} {
			if f := path.Join(rel, name); bc.Has(f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// pipRequirementFilesNamed lists the context's files (of any name) that a
// pip install -r of the stage names (-r services/api/requirements.txt
// after COPY . ., or -r /app/requirements.txt): the path named ends with
// the file's path in the context. At most 16 names are looked up.
func pipRequirementFilesNamed(bc *analyzer.BuildContext, final *analyzer.Stage) []string {
	var out []string
	looked := 0
	for i := range projectInstalls(final, "python") {
		if i.pm != analyzer.Pip {
			continue
		}
		for _, r := range pipRequirements(i.c) {
			if strings.Contains(r, "$") {
				continue
			}
			if looked++; looked > 16 {
				return out
			}
			named := "/" + strings.TrimPrefix(path.Clean(r), "/")
			for _, f := range bc.Files {
				if strings.HasSuffix(named, "/"+f) && !slices.Contains(out, f) {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// copiedContextPaths yields the build-context paths the stage's lineage
// copies by name (COPY and ADD sources, cleaned; patterns and variables
// left out).
func copiedContextPaths(final *analyzer.Stage) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, in := range final.LineageInstructions() {
			c, ok := copyOf(in)
			if !ok {
				continue
			}
			for _, src := range c.contextSources() {
				rel := path.Clean(strings.TrimPrefix(src, "/"))
				if strings.ContainsAny(rel, "*?[$") {
					continue
				}
				if !yield(rel) {
					return
				}
			}
		}
	}
}

// slimLacks returns a command the stage runs (in a RUN, or as the
// program of a CMD, ENTRYPOINT or HEALTHCHECK) that comes from the full
// image, not from the Dockerfile's own installs or copies, and that the
// slim image alt is known not to ship; "" when there is none. curl piped
// into a shell on the full python image is the common case: on -slim the
// build fails. probe is the RUN when the use is a handled probe (isProbe).
func slimLacks(sf *analyzer.StageFacts, final *analyzer.Stage, full analyzer.ImageRef, alt string) (tool string, probe *analyzer.Instruction) {
	slimImage, slimKnown := analyzer.ImageContents(analyzer.ParseImageRef(alt))
	if !slimKnown {
		return "", nil
	}
	lacks := func(name string, st analyzer.ToolState) bool { return lackedBySlim(slimImage, name, st) }
	for _, in := range final.LineageInstructions() {
		if in.Script != nil {
			for _, c := range in.Script.Commands() {
				if lacks(c.Name, sf.ToolAtOffset(c.Start, c.Name)) {
					if isProbe(in.Script, c) {
						if sf.Tool(0, c.Name).Line != 0 {
							// command -v git || apt-get install git: the
							// image ends up with git either way.
							continue
						}
						return path.Base(c.Name), in
					}
					return c.Name, nil
				}
			}
			continue
		}
		if program := startProgram(in); program != "" && lacks(program, sf.Tool(0, program)) {
			return path.Base(program), nil
		}
		if text := startShellText(in); text != "" {
			// CMD ["sh", "-c", "git config … && node server.js"]: the
			// string's commands run when the container starts.
			if tool := firstLacking(text, func(name string) bool { return lacks(name, sf.Tool(0, name)) }); tool != "" {
				return tool, nil
			}
		}
	}
	return "", nil
}

// lackedBySlim reports a command the full image ships (st: present, and
// not put there by the Dockerfile, which would do so on the slim image
// too) that the slim image is known not to.
func lackedBySlim(slim contents.Image, name string, st analyzer.ToolState) bool {
	if st.Presence != analyzer.Present || st.Line != 0 {
		return false
	}
	inSlim, known := slim.Tool(path.Base(name))
	return known && !inSlim
}

// isProbe reports `command -v git` whose failure the script handles: the
// left side of || whose right side does not exit, or the condition of an
// if without else. The build works either way, but does something else
// without the tool (skips a revision stamp), so it still counts as a use:
// only the reason told differs from a bare use's.
func isProbe(s *analyzer.Script, c analyzer.Command) bool {
	probe := false
	for i, w := range c.Prefix {
		if w.Value == "command" && i+1 < len(c.Prefix) && (c.Prefix[i+1].Value == "-v" || c.Prefix[i+1].Value == "-V") {
			probe = true
		}
	}
	if !probe || s == nil || s.File == nil {
		return false
	}
	handled := false
	syntax.Walk(s.File, func(n syntax.Node) bool {
		if handled {
			return false
		}
		switch n := n.(type) {
		case *syntax.BinaryCmd:
			if n.Op == syntax.OrStmt && containsCall(n.X, c.Call) && !fails(n.Y) {
				handled = true
			}
		case *syntax.IfClause:
			if n.Else == nil {
				for _, st := range n.Cond {
					if !st.Negated && containsCall(st, c.Call) {
						handled = true
					}
				}
			}
		}
		return !handled
	})
	return handled
}

// containsCall reports whether call is inside node.
func containsCall(node syntax.Node, call *syntax.CallExpr) bool {
	found := false
	syntax.Walk(node, func(n syntax.Node) bool {
		if n == syntax.Node(call) {
			found = true
		}
		return !found
	})
	return found
}

// fails reports a command list that can stop the script with an error:
// exit, return or false.
func fails(node syntax.Node) bool {
	found := false
	syntax.Walk(node, func(n syntax.Node) bool {
		if ce, ok := n.(*syntax.CallExpr); ok && len(ce.Args) > 0 {
			if w, lit := analyzer.Literal(ce.Args[0]); lit && (w == "exit" || w == "return" || w == "false") {
				found = true
			}
		}
		return !found
	})
	return found
}

// startForm returns the words of a CMD, ENTRYPOINT or HEALTHCHECK and
// whether they are its shell form; nothing for other instructions.
func startForm(in *analyzer.Instruction) (words []string, shell bool) {
	switch c := in.Command.(type) {
	case *instructions.CmdCommand:
		return c.CmdLine, c.PrependShell
	case *instructions.EntrypointCommand:
		return c.CmdLine, c.PrependShell
	case *instructions.HealthCheckCommand:
		if c.Health != nil && len(c.Health.Test) > 1 {
			return c.Health.Test[1:], c.Health.Test[0] == "CMD-SHELL"
		}
	}
	return nil, false
}

// startProgram returns the program a CMD, ENTRYPOINT or HEALTHCHECK runs
// first: the first word of its command, in either form; "" for other
// instructions.
func startProgram(in *analyzer.Instruction) string {
	words, shell := startForm(in)
	if shell && len(words) > 0 {
		words = strings.Fields(words[0])
	}
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

// startShellText returns the shell command string a CMD, ENTRYPOINT or
// HEALTHCHECK runs: the whole command in shell form, or the string of an
// exec form's sh -c (after an init such as tini); "" for other forms and
// instructions.
func startShellText(in *analyzer.Instruction) string {
	words, shell := startForm(in)
	if shell {
		return strings.Join(words, " ")
	}
	words = startWords(words)
	if len(words) >= 3 && slices.Contains([]string{"sh", "bash", "ash", "dash"}, path.Base(words[0])) && words[1] == "-c" {
		return words[2]
	}
	return ""
}

// slimFix rewrites the tag of the FROM image word.
func slimFix(d *analyzer.Dockerfile, root *analyzer.Stage, alt string) *analyzer.Fix {
	_, newTag, ok := strings.Cut(alt, ":")
	if !ok {
		return nil
	}
	for _, w := range rawWords(d, root.From.ArgsStart, root.From.End) {
		if w.Text != root.BaseRaw {
			continue
		}
		img := w.Text
		if root.Base.Tag != "" {
			img = strings.TrimSuffix(img, ":"+root.Base.Tag)
		}
		return &analyzer.Fix{
			Message: "run on " + alt + " (check that the service needs nothing the full image adds)",
			Edits:   []analyzer.TextEdit{{Start: w.Start, End: w.End, New: img + ":" + newTag}},
		}
	}
	return nil
}

// nodeInstall returns the first RUN of the stage's lineage that installs
// a Node project's dependencies, nil when none does.
func nodeInstall(final *analyzer.Stage) *analyzer.Instruction {
	in, _, _ := projectInstall(final, "node")
	return in
}

// projectInstall returns the first command of the stage's lineage that
// installs the project's dependencies in the ecosystem (node, python), as
// the package-manager table spells it (npm ci/install, yarn, pnpm or bun
// install; pip install), its RUN and its package manager; a nil RUN when
// none does. A global install (-g) is not the project's, nor is yarn
// --version.
func projectInstall(final *analyzer.Stage, ecosystem string) (*analyzer.Instruction, analyzer.Command, *analyzer.PackageManager) {
	for i := range projectInstalls(final, ecosystem) {
		return i.in, i.c, i.pm
	}
	return nil, analyzer.Command{}, nil
}

// installCommand is a command that installs dependencies: its RUN, the
// command as its package manager reads it, and that package manager.
type installCommand struct {
	in *analyzer.Instruction
	c  analyzer.Command
	pm *analyzer.PackageManager
}

// projectInstalls yields each command of the stage's lineage that
// installs dependencies in the ecosystem, as projectInstall finds the
// first: a build that upgrades pip first installs the project after.
func projectInstalls(final *analyzer.Stage, ecosystem string) iter.Seq[installCommand] {
	return func(yield func(installCommand) bool) {
		for _, in := range final.LineageInstructions() {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.Commands() {
				pm, pc := analyzer.PackageManagerOf(c)
				if pm == nil || pm.Ecosystem != ecosystem || !pm.InstallsDependencies(pc) {
					continue
				}
				if pc.Has("-g", "--global", "-v", "--version", "-h", "--help") || (len(pc.Args) > 0 && pc.Args[0].Value == "global") {
					continue
				}
				if !yield(installCommand{in, pc, pm}) {
					return
				}
			}
		}
	}
}

// copiedManifest is a package.json the stage copies, parsed once for the
// checks that read it.
type copiedManifest struct {
	rel string
	pkg *analyzer.PackageJSON
}

// copiedManifests reads the package.json files the stage's lineage copies
// from the context below its top (a monorepo's apps/web/package.json) and
// returns them parsed, or why one of their dependencies needs the full
// image. One it cannot read counts as none.
func copiedManifests(bc *analyzer.BuildContext, final *analyzer.Stage) (read []copiedManifest, why string) {
	if bc == nil {
		return nil, ""
	}
	seen := map[string]bool{}
	for rel := range copiedContextPaths(final) {
		if path.Base(rel) != "package.json" || seen[rel] {
			continue
		}
		seen[rel] = true
		b, err := bc.ReadFile(rel)
		if err != nil {
			continue
		}
		pkg, ok := analyzer.ParsePackageJSON(b)
		if !ok {
			continue
		}
		read = append(read, copiedManifest{rel, pkg})
		for _, dep := range slices.Sorted(maps.Keys(pkg.Dependencies)) {
			if need, ok := analyzer.FullImageNeedOf("node", dep); ok {
				return read, need.Why(dep) + " (" + rel + " depends on it)"
			}
		}
	}
	return read, ""
}
