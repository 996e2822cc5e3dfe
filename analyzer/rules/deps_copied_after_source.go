package rules

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// DepsCopiedAfterSource finds dependency installs that the whole source
// tree invalidates.
var DepsCopiedAfterSource = &analyzer.Rule{
	ID:       "deps-copied-after-source",
	Category: analyzer.CategoryBuildCache,
	Severity: analyzer.SeverityWarning,
	Title:    "Whole source is copied before dependencies are installed",
	Rationale: `Docker reuses a layer only while everything before it is unchanged. When COPY . comes before ` +
		`npm ci, pip install -r, go mod download or bundle install, any edit to any file invalidates the ` +
		`install and every build downloads and installs all dependencies again: minutes per build, load on ` +
		`registries, and flaky builds when a registry hiccups. Copy only the manifests and lockfiles first, ` +
		`install, then copy the rest. The fix does that when the install needs nothing but the manifests; ` +
		`it is for review because a postinstall script or a local path dependency may need more.`,
	Bad:  "WORKDIR /app\nCOPY . .\nRUN npm ci\n",
	Good: "WORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n",
	Fix:  analyzer.Review,
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			checkStageDepsOrder(p, s)
		}
	},
}

// depInstall is one dependency install found in a RUN.
type depInstall struct {
	pm        *analyzer.PackageManager
	text      string
	manifests []string // files it reads from the context, existing ones only
	// dir is the folder it installs in; reads the requirement files it
	// names there (pip), as image paths.
	dir   string
	reads []string
	// blocker explains why the install cannot move before the source.
	blocker string
}

func checkStageDepsOrder(p *analyzer.Pass, s *analyzer.Stage) {
	ins := s.Instructions
	for ai, a := range ins {
		if !copiesWholeContext(a) || a.Onbuild != nil {
			continue
		}
		c, _ := copyOf(a)
		dest := analyzer.ResolvePath(a.WorkdirBefore(), c.dest)
		// Find the first RUN after the copy that installs from manifests.
		for ri := ai + 1; ri < len(ins); ri++ {
			r := ins[ri]
			if r.Keyword == "FROM" || copiesWholeContext(r) {
				break
			}
			if r.Keyword != "RUN" || r.Script == nil {
				continue
			}
			installs, pure := depInstalls(p.Context, r, dest)
			if len(installs) == 0 {
				continue
			}
			first := installs[0]
			if installedBefore(p.Context, ins[:ai], first, dest) {
				// The two-step layering: the dependencies were installed
				// from the manifests alone above the whole copy (uv sync
				// --no-install-project, poetry install --no-root, npm ci
				// after COPY package*.json); this install adds the project.
				return
			}
			msg := fmt.Sprintf("%s on line %d copies the whole source before %s on line %d: every source change invalidates the cache and reinstalls all dependencies; copy the manifests first, install, then copy the rest",
				strings.TrimSpace(a.Text(p.File.Source)), a.StartLine, first.text, r.StartLine)
			var fix *analyzer.Fix
			if first.blocker != "" {
				msg += " (" + first.blocker + ")"
			} else {
				fix = depsOrderFix(p, s, ai, ri, dest)
				if fix == nil && !pure {
					msg += " (the install shares its RUN with commands that need the source: give it a RUN of its own)"
				}
			}
			reportNamingContextFiles(p, a, msg, fix, "the manifests the fix copies")
			return
		}
	}
}

// installedBefore reports a RUN among ins (the stage's instructions
// above the whole copy) that installed the same dependencies as later
// with the same package manager: in the same folder, from the same
// requirement files. An install of other manifests (a tools folder, the
// dev requirements) does not make the later one cheap.
func installedBefore(bc *analyzer.BuildContext, ins []*analyzer.Instruction, later depInstall, dest string) bool {
	for _, r := range ins {
		if r.Keyword != "RUN" || r.Script == nil || r.Onbuild != nil {
			continue
		}
		wd := r.WorkdirBefore()
		for _, c := range r.Script.Commands() {
			if next, isCd := cdTo(wd, c); isCd {
				wd = next
				continue
			}
			m, pc := analyzer.PackageManagerOf(c)
			if m == nil || m != later.pm || !m.InstallsDependencies(pc) {
				continue
			}
			at := wd
			if dir, ok := installDir(m, pc); ok {
				at = analyzer.ResolvePath(at, dir)
			}
			d, ok := depInstallOf(bc, m, pc, at, dest)
			if !ok || d.dir != later.dir {
				continue
			}
			// The same requirement files; or, for the project's own
			// install (pip install .), any install from requirements.
			if slices.Equal(d.reads, later.reads) || (len(later.reads) == 0 && len(d.reads) > 0) {
				return true
			}
		}
	}
	return false
}

// installDir returns the folder a node package manager installs into
// when an option names one (npm --prefix, yarn --cwd, pnpm --dir or -C).
func installDir(pm *analyzer.PackageManager, c analyzer.Command) (string, bool) {
	var opts []string
	switch pm {
	case analyzer.Npm:
		opts = []string{"--prefix"}
	case analyzer.Yarn:
		opts = []string{"--cwd"}
	case analyzer.Pnpm:
		opts = []string{"--dir", "-C"}
	default:
		return "", false
	}
	for i, a := range c.Args {
		for _, o := range opts {
			switch {
			case a.Value == o && i+1 < len(c.Args) && !c.Args[i+1].Dynamic:
				return c.Args[i+1].Value, true
			case strings.HasPrefix(a.Value, o+"=") && !a.Dynamic:
				return strings.TrimPrefix(a.Value, o+"="), true
			}
		}
	}
	return "", false
}

// depInstalls lists the manifest-driven installs of a RUN, and whether
// the RUN does nothing else that needs the source.
func depInstalls(bc *analyzer.BuildContext, r *analyzer.Instruction, dest string) (installs []depInstall, pure bool) {
	pure = true
	wd := r.WorkdirBefore()
	for _, c := range r.Script.Commands() {
		if next, isCd := cdTo(wd, c); isCd {
			wd = next
			continue
		}
		pm, pc := analyzer.PackageManagerOf(c)
		if pm == nil || !pm.InstallsDependencies(pc) {
			if !independentCommand(c, wd, dest) {
				pure = false
			}
			continue
		}
		wd := wd
		if dir, ok := installDir(pm, pc); ok {
			wd = analyzer.ResolvePath(wd, dir)
		}
		d, ok := depInstallOf(bc, pm, pc, wd, dest)
		if !ok {
			continue
		}
		d.pm = pm
		if d.blocker == "" && len(pm.Lockfiles) > 0 && pm.InstallsFrozen(pc) && len(present(bc, pm.Lockfiles)) == 0 {
			// Copying the manifest alone would keep the install failing
			// once the lockfile it asks for is committed.
			d.blocker = "it installs from a lockfile, and the build context has no " + strings.Join(pm.Lockfiles, " or ") + " to copy with " + pm.Manifests[0]
		}
		for _, m := range d.manifests {
			if !bc.Has(m) && d.blocker == "" {
				d.blocker = m + " is not in the build context"
			}
		}
		if wd != dest && d.blocker == "" {
			d.blocker = "it runs in " + wd + ", not where the source is copied"
		}
		if d.blocker == "" {
			if other := otherSourceRead(bc, pm, c, wd, dest, d.manifests); other != "" {
				d.blocker = "the install also reads " + other + ", which comes with the whole copy: moved above it, the install would run without " + other
			}
		}
		installs = append(installs, d)
	}
	return installs, pure
}

// depInstallOf describes an install from the manifest: the files it reads
// and what keeps it from moving before the source. It reports false for
// installs of named packages, which do not depend on the source.
func depInstallOf(bc *analyzer.BuildContext, pm *analyzer.PackageManager, c analyzer.Command, wd, dest string) (depInstall, bool) {
	d := depInstall{text: pm.Commands[0] + " " + pm.Install[0], dir: wd}
	if pm != analyzer.Pip {
		d.manifests = append([]string{pm.Manifests[0]}, present(bc, slices.Concat(pm.Lockfiles, pm.Config))...)
		if bc.DockerIgnore.Excludes(pm.Manifests[0]) {
			d.blocker = bc.DockerIgnore.Path + " keeps " + pm.Manifests[0] + " out of the build context"
		}
	}
	switch pm {
	case analyzer.Npm:
		if c.Has("-g", "--global") || len(c.Positional(pm.Valued...)) > 1 {
			return d, false // npm install <package>: not from the manifest
		}
		d.text = "npm " + pm.Subcommand(c)
		d.blocker = cmp.Or(d.blocker, nodeBlocker(bc))
	case analyzer.Yarn:
		if bc.Has(".yarnrc.yml") {
			d.blocker = cmp.Or(d.blocker, "Yarn Berry also needs .yarnrc.yml and .yarn/")
		}
		d.blocker = cmp.Or(d.blocker, nodeBlocker(bc))
	case analyzer.Pnpm:
		if bc.Has("pnpm-workspace.yaml") {
			d.blocker = cmp.Or(d.blocker, "a pnpm workspace needs every member's package.json")
		}
		d.blocker = cmp.Or(d.blocker, nodeBlocker(bc))
	case analyzer.Pip:
		req := pipRequirements(c)
		if len(req) == 0 {
			if pipInstallsSource(c) {
				return depInstall{text: "pip install .", blocker: "it installs the project itself, which needs the source", dir: wd}, true
			}
			return d, false // pip install <package>: independent of the source
		}
		d.text = "pip install -r " + strings.Join(req, " -r ")
		for _, f := range req {
			d.reads = append(d.reads, analyzer.ResolvePath(wd, f))
		}
		slices.Sort(d.reads)
		for _, f := range req {
			rel := relToDest(analyzer.ResolvePath(wd, f), dest)
			if rel == "" || !bc.Has(rel) {
				d.blocker = "the requirements file is not at a known place in the context"
				break
			}
			if bc.DockerIgnore.Excludes(rel) {
				d.blocker = bc.DockerIgnore.Path + " keeps " + rel + " out of the build context"
				break
			}
			d.manifests = append(d.manifests, rel)
			if b, err := bc.ReadFile(rel); err == nil && requirementsReferenceFiles(string(b)) {
				d.blocker = rel + " refers to other files or local paths"
			}
		}
	case analyzer.Poetry:
		if !c.Has("--no-root") && !c.Has("--only-root") {
			d.blocker = "add --no-root so that the install does not need the project's own source"
		}
	case analyzer.Uv:
		if !c.Has("--no-install-project") {
			d.blocker = "add --no-install-project so that the install does not need the project's own source"
		}
	case analyzer.Go:
		if b, err := bc.ReadFile("go.mod"); err == nil && (strings.Contains(string(b), "=> ./") || strings.Contains(string(b), "=> ../")) {
			d.blocker = "go.mod replaces modules with local folders"
		}
		if bc.Has("go.work") {
			d.blocker = "a go.work workspace needs every module's go.mod"
		}
	case analyzer.Bundler:
		if b, err := bc.ReadFile("Gemfile"); err == nil && (strings.Contains(string(b), "gemspec") || strings.Contains(string(b), "path:")) {
			d.blocker = "the Gemfile refers to local gems"
		}
	case analyzer.Composer:
		if !c.Has("--no-scripts") || !c.Has("--no-autoloader") {
			d.blocker = "install with --no-scripts --no-autoloader first, then dump the autoloader after copying the source"
		}
	case analyzer.Maven:
		if b, err := bc.ReadFile("pom.xml"); err == nil && strings.Contains(string(b), "<modules>") {
			d.blocker = "a multi-module build needs every module's pom.xml"
		}
		if c.Name == "mvnw" {
			d.blocker = "the Maven wrapper also needs mvnw and .mvn/"
		}
	}
	return d, true
}

// present returns the files of names that reach the build: the context
// holds them and its .dockerignore does not keep them out (the whole
// copy did not bring those either).
func present(bc *analyzer.BuildContext, names []string) []string {
	var out []string
	for _, n := range names {
		if bc.Has(n) && !bc.DockerIgnore.Excludes(n) {
			out = append(out, n)
		}
	}
	return out
}

func nodeBlocker(bc *analyzer.BuildContext) string {
	if pkg := bc.Package; pkg != nil {
		for _, s := range []string{"preinstall", "install", "postinstall", "prepare"} {
			if pkg.Scripts[s] != "" {
				return "package.json has a " + s + " script that may need the source"
			}
		}
	}
	if b, err := bc.ReadFile("package.json"); err == nil && strings.Contains(string(b), `"workspaces"`) {
		return "workspaces need every member's package.json"
	}
	return ""
}

func pipRequirements(c analyzer.Command) []string {
	var out []string
	for i, a := range c.Args {
		switch {
		case (a.Value == "-r" || a.Value == "--requirement") && i+1 < len(c.Args):
			out = append(out, c.Args[i+1].Value)
		case strings.HasPrefix(a.Value, "--requirement="):
			out = append(out, strings.TrimPrefix(a.Value, "--requirement="))
		case strings.HasPrefix(a.Value, "-r") && len(a.Value) > 2:
			out = append(out, a.Value[2:])
		}
	}
	return out
}

func pipInstallsSource(c analyzer.Command) bool {
	for _, a := range c.Args {
		if a.Value == "." || a.Value == "./" || strings.HasPrefix(a.Value, ".[") || a.Value == "-e" {
			return true
		}
	}
	return false
}

// requirementsReferenceFiles reports requirement files that include
// other files or install local paths.
func requirementsReferenceFiles(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "-r"), strings.HasPrefix(l, "-c"), strings.HasPrefix(l, "--requirement"),
			strings.HasPrefix(l, "--constraint"), strings.HasPrefix(l, "-e"), strings.HasPrefix(l, "--editable"),
			strings.HasPrefix(l, "."), strings.HasPrefix(l, "/"), strings.Contains(l, "file:"),
			strings.HasPrefix(l, "-f"), strings.HasPrefix(l, "--find-links"):
			return true
		}
	}
	return false
}

// otherSourceRead returns a path of the context, besides the manifests,
// that the install reads: a flag's value (npm ci --cache .npm, pip install
// --find-links ./wheels), a path its config files name (.npmrc cache=,
// .yarnrc yarn-offline-mirror), or a cache the copy puts where the tool
// looks by default (.npm copied to /root). Moved above the whole copy, the
// install would run without it: offline installs fail, cached ones
// download all. Only values written as paths count (./x, x/y, .x), or any
// value of a flag that takes a folder (pip's --find-links wheels), so that
// npm ci --omit dev does not take a dev/ folder for what it reads.
func otherSourceRead(bc *analyzer.BuildContext, pm *analyzer.PackageManager, c analyzer.Command, wd, dest string, manifests []string) string {
	inSource := func(base, v string) string {
		v = strings.Trim(v, `"'`)
		if v == "" || strings.Contains(v, "://") || strings.Contains(v, "$") || !pathLike(v) {
			return ""
		}
		rel := relToDest(analyzer.ResolvePath(base, v), dest)
		if rel == "" || slices.Contains(manifests, rel) || !bc.Has(rel) || bc.DockerIgnore.Excludes(rel) {
			return ""
		}
		return rel
	}
	for i, a := range c.Args {
		if a.Dynamic {
			continue
		}
		v := ""
		switch {
		case strings.HasPrefix(a.Value, "--") && strings.Contains(a.Value, "="):
			_, v, _ = strings.Cut(a.Value, "=")
		case i > 0 && strings.HasPrefix(c.Args[i-1].Value, "-") && !strings.HasPrefix(a.Value, "-"):
			v = a.Value
			if folderFlag(pm, c.Args[i-1].Value) && !pathLike(v) {
				v = "./" + v
			}
		}
		if rel := inSource(wd, v); rel != "" {
			return rel
		}
	}
	for _, cache := range pm.Caches {
		if rel := relToDest(cache.Dir, dest); rel != "" && bc.Has(rel) && !bc.DockerIgnore.Excludes(rel) {
			return rel
		}
	}
	for _, m := range manifests {
		base := path.Base(m)
		if base != ".npmrc" && base != ".yarnrc" && base != ".yarnrc.yml" {
			continue
		}
		b, err := bc.ReadFile(m)
		if err != nil {
			continue
		}
		dir := analyzer.ResolvePath(dest, path.Dir(m))
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
				continue
			}
			// key=value (.npmrc), key "value" (.yarnrc), key: value (.yarnrc.yml)
			_, v, ok := strings.Cut(line, "=")
			if !ok {
				if f := strings.Fields(strings.Replace(line, ":", " ", 1)); len(f) == 2 {
					v = f[1]
				}
			}
			if rel := inSource(dir, strings.TrimSpace(v)); rel != "" {
				return rel
			}
		}
	}
	return ""
}

// folderFlag reports a flag of pm whose value is a folder, written as a
// path or not: pip's --find-links (-f), npm's --cache, yarn's
// --cache-folder.
func folderFlag(pm *analyzer.PackageManager, flag string) bool {
	switch pm {
	case analyzer.Pip:
		return flag == "-f" || flag == "--find-links"
	case analyzer.Npm:
		return flag == "--cache"
	case analyzer.Yarn:
		return flag == "--cache-folder"
	}
	return false
}

// pathLike reports a value written as a relative or absolute path.
func pathLike(v string) bool {
	return strings.HasPrefix(v, ".") || strings.HasPrefix(v, "/") || strings.Contains(v, "/")
}

// relToDest maps an absolute path inside dest back to the context.
func relToDest(p, dest string) string {
	if p == dest {
		return ""
	}
	if !strings.HasPrefix(p, strings.TrimSuffix(dest, "/")+"/") && dest != "/" {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(p, dest), "/")
}

// independentCommand reports commands that neither need nor change the
// copied source: package installs by name, cache cleanups, messages.
func independentCommand(c analyzer.Command, wd, dest string) bool {
	sub := c.Subcommand()
	switch c.Name {
	case "true", ":", "echo", "printf", "set", "export":
		return true
	case "npm":
		return sub == "cache" || sub == "config" || (sub == "install" || sub == "i") && c.Has("-g", "--global")
	case "yarn":
		return sub == "cache" || sub == "config"
	case "pip", "pip3":
		return sub == "cache" || sub == "config" || sub == "install" && len(pipRequirements(c)) == 0 && !pipInstallsSource(c)
	case "apt-get", "apt", "apk", "yum", "dnf", "microdnf":
		return true
	case "rm":
		for _, a := range c.Positional() {
			t := analyzer.ResolvePath(wd, a.Value)
			if a.Dynamic || t == dest || strings.HasPrefix(t, strings.TrimSuffix(dest, "/")+"/") || strings.HasPrefix(dest, t+"/") {
				return false
			}
		}
		return true
	}
	return false
}

// depsOrderFix copies the manifests where the whole copy was, and moves
// the whole copy after the install RUNs, when only installs and
// environment settings lie between.
func depsOrderFix(p *analyzer.Pass, s *analyzer.Stage, ai, ri int, dest string) *analyzer.Fix {
	d := p.File
	ins := s.Instructions
	a := ins[ai]
	c, _ := copyOf(a)
	if a.StartLine != a.EndLine || len(a.Heredocs) > 0 || strings.Contains(c.dest, "$") {
		return nil
	}
	var manifests []string
	seen := map[string]bool{}
	last := ri
	for i := ai + 1; i < len(ins); i++ {
		in := ins[i]
		switch in.Keyword {
		case "ENV", "ARG", "LABEL":
			if i > ri {
				goto done
			}
			continue
		case "RUN":
		default:
			if i <= ri {
				return nil
			}
			goto done
		}
		if in.Script == nil || len(in.Heredocs) > 0 {
			if i <= ri {
				return nil
			}
			goto done
		}
		installs, pure := depInstalls(p.Context, in, dest)
		if !pure || (i > ri && len(installs) == 0 && !installsSomething(in)) {
			if i <= ri {
				return nil
			}
			goto done
		}
		for _, inst := range installs {
			if inst.blocker != "" {
				if i <= ri {
					return nil
				}
				goto done
			}
			for _, m := range inst.manifests {
				if !seen[m] {
					seen[m] = true
					manifests = append(manifests, m)
				}
			}
		}
		last = i
	}
done:
	if len(manifests) == 0 {
		return nil
	}
	src := d.Source
	nl := d.Newline()
	whole := string(src[a.Start:a.ContentEnd(d.Source)])
	var edits []analyzer.TextEdit
	if copiedBefore(ins[:ai], manifests, dest) {
		// The manifests are already in place: only move the whole copy.
		edits = append(edits, analyzer.TextEdit{Start: d.Offset(a.StartLine), End: d.Offset(a.EndLine + 1), New: ""})
	} else {
		keyword := "COPY"
		if strings.ToLower(a.Written) == a.Written {
			keyword = "copy"
		}
		var parts []string
		parts = append(parts, keyword)
		for _, f := range a.Flags {
			if strings.HasPrefix(f, "--chown") || strings.HasPrefix(f, "--chmod") || strings.HasPrefix(f, "--link") {
				parts = append(parts, f)
			}
		}
		for _, m := range manifests {
			parts = append(parts, shellQuote(m))
		}
		target := c.dest
		if target == "." || target == "./" {
			target = "./"
		} else if !strings.HasSuffix(target, "/") {
			target += "/"
		}
		parts = append(parts, target)
		edits = append(edits, analyzer.TextEdit{Start: a.Start, End: a.ContentEnd(d.Source), New: strings.Join(parts, " ")})
	}
	lastIn := ins[last]
	end := lastIn.ContentEnd(d.Source)
	edits = append(edits, analyzer.TextEdit{Start: end, End: end, New: nl + d.Indent(a.StartLine) + whole})
	return &analyzer.Fix{
		Message: fmt.Sprintf("copy %s first and the rest of the source after the install", strings.Join(manifests, ", ")),
		Edits:   edits,
	}
}

// installsSomething reports a RUN that installs packages by name.
func installsSomething(in *analyzer.Instruction) bool {
	for _, c := range in.Script.Commands() {
		sub := c.Subcommand()
		switch c.Name {
		case "pip", "pip3", "npm", "yarn", "pnpm", "gem":
			if sub == "install" || sub == "i" || sub == "add" {
				return true
			}
		case "apt-get", "apt", "apk", "yum", "dnf":
			if sub == "install" || sub == "add" {
				return true
			}
		}
	}
	return false
}

// copiedBefore reports whether earlier COPYs already put every manifest
// at dest.
func copiedBefore(earlier []*analyzer.Instruction, manifests []string, dest string) bool {
	for _, m := range manifests {
		found := false
		for _, in := range earlier {
			c, ok := copyOf(in)
			if !ok || c.from != "" {
				continue
			}
			cdest := analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
			if cdest != dest {
				continue
			}
			for _, s := range c.contextSources() {
				if ok, _ := path.Match(strings.TrimPrefix(s, "./"), m); ok {
					found = true
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// cdTo returns the folder a `cd DIR` command moves the rest of a RUN to,
// resolved against wd, and whether c is a cd at all (one to a folder
// given by a variable leaves wd as it is).
func cdTo(wd string, c analyzer.Command) (string, bool) {
	if c.Name != "cd" {
		return wd, false
	}
	if pos := c.Positional(); len(pos) == 1 && !pos[0].Dynamic {
		return analyzer.ResolvePath(wd, pos[0].Value), true
	}
	return wd, true
}
