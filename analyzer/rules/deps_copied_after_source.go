package rules

import (
	"fmt"
	"path"
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
			checkStageDepsOrderA(p, s)
		}
	},
}

// depInstallA is one dependency install found in a RUN.
type depInstallA struct {
	text      string
	manifests []string // files it reads from the context, existing ones only
	// blocker explains why the install cannot move before the source.
	blocker string
}

func checkStageDepsOrderA(p *analyzer.Pass, s *analyzer.Stage) {
	ins := s.Instructions
	for ai, a := range ins {
		if !copiesWholeContextA(a) || a.Onbuild != nil {
			continue
		}
		c, _ := copyOf(a)
		dest := resolvePathA(workdirBeforeA(a), c.dest)
		// Find the first RUN after the copy that installs from manifests.
		for ri := ai + 1; ri < len(ins); ri++ {
			r := ins[ri]
			if r.Keyword == "FROM" || copiesWholeContextA(r) {
				break
			}
			if r.Keyword != "RUN" || r.Script == nil {
				continue
			}
			installs, pure := depInstallsA(p.Context, r, dest)
			if len(installs) == 0 {
				continue
			}
			first := installs[0]
			msg := fmt.Sprintf("%s on line %d copies the whole source before %s on line %d: every source change invalidates the cache and reinstalls all dependencies; copy the manifests first, install, then copy the rest",
				strings.TrimSpace(a.Text(p.File.Source)), a.StartLine, first.text, r.StartLine)
			var fix *analyzer.Fix
			if first.blocker != "" {
				msg += " (" + first.blocker + ")"
			} else {
				fix = depsOrderFixA(p, s, ai, ri, dest)
				if fix == nil && !pure {
					msg += " (the install shares its RUN with commands that need the source: give it a RUN of its own)"
				}
			}
			p.Report(a, msg, fix)
			return
		}
	}
}

// depInstallsA lists the manifest-driven installs of a RUN, and whether
// the RUN does nothing else that needs the source.
func depInstallsA(bc *analyzer.BuildContext, r *analyzer.Instruction, dest string) (installs []depInstallA, pure bool) {
	pure = true
	wd := workdirBeforeA(r)
	for _, c := range r.Script.Commands() {
		sub := c.Subcommand()
		has := func(f string) bool { return bc.Has(f) }
		lockfiles := func(names ...string) []string {
			out := []string{}
			for _, n := range names {
				if has(n) {
					out = append(out, n)
				}
			}
			return out
		}
		switch {
		case c.Name == "cd":
			if pos := c.Positional(); len(pos) == 1 && !pos[0].Dynamic {
				wd = resolvePathA(wd, pos[0].Value)
			}
			continue
		case c.Name == "npm" && (sub == "ci" || sub == "install" || sub == "i") && !c.Has("-g", "--global"):
			if len(c.Positional()) > 1 {
				continue // npm install <package>: not from the manifest
			}
			d := depInstallA{text: "npm " + sub, manifests: append([]string{"package.json"}, lockfiles("package-lock.json", "npm-shrinkwrap.json", ".npmrc")...)}
			d.blocker = nodeBlockerA(bc)
			installs = append(installs, d)
		case c.Name == "yarn" && (sub == "" || sub == "install"):
			d := depInstallA{text: "yarn install", manifests: append([]string{"package.json"}, lockfiles("yarn.lock", ".npmrc", ".yarnrc")...)}
			d.blocker = nodeBlockerA(bc)
			if has(".yarnrc.yml") {
				d.blocker = "Yarn Berry also needs .yarnrc.yml and .yarn/"
			}
			installs = append(installs, d)
		case c.Name == "pnpm" && (sub == "install" || sub == "i"):
			d := depInstallA{text: "pnpm install", manifests: append([]string{"package.json"}, lockfiles("pnpm-lock.yaml", ".npmrc")...)}
			d.blocker = nodeBlockerA(bc)
			if has("pnpm-workspace.yaml") {
				d.blocker = "a pnpm workspace needs every member's package.json"
			}
			installs = append(installs, d)
		case (c.Name == "pip" || c.Name == "pip3" || strings.HasPrefix(c.Name, "python")) && pipInstallA(c):
			req := pipRequirementsA(c)
			if len(req) == 0 {
				if pipInstallsSourceA(c) {
					installs = append(installs, depInstallA{text: "pip install .", blocker: "it installs the project itself, which needs the source"})
				}
				continue // pip install <package>: independent of the source
			}
			d := depInstallA{text: "pip install -r " + strings.Join(req, " -r ")}
			for _, f := range req {
				rel := relToDestA(resolvePathA(wd, f), dest)
				if rel == "" || !has(rel) {
					d.blocker = "the requirements file is not at a known place in the context"
					break
				}
				d.manifests = append(d.manifests, rel)
				if b, err := bc.ReadFile(rel); err == nil && requirementsReferenceFilesA(string(b)) {
					d.blocker = rel + " refers to other files or local paths"
				}
			}
			installs = append(installs, d)
		case c.Name == "poetry" && sub == "install":
			d := depInstallA{text: "poetry install", manifests: append([]string{"pyproject.toml"}, lockfiles("poetry.lock")...)}
			if !c.Has("--no-root") && !c.Has("--only-root") {
				d.blocker = "add --no-root so that the install does not need the project's own source"
			}
			installs = append(installs, d)
		case c.Name == "pipenv" && sub == "install":
			installs = append(installs, depInstallA{text: "pipenv install", manifests: append([]string{"Pipfile"}, lockfiles("Pipfile.lock")...)})
		case c.Name == "uv" && sub == "sync":
			d := depInstallA{text: "uv sync", manifests: append([]string{"pyproject.toml"}, lockfiles("uv.lock")...)}
			if !c.Has("--no-install-project") {
				d.blocker = "add --no-install-project so that the install does not need the project's own source"
			}
			installs = append(installs, d)
		case c.Name == "go" && sub == "mod" && c.Has("download"):
			d := depInstallA{text: "go mod download", manifests: append([]string{"go.mod"}, lockfiles("go.sum")...)}
			if b, err := bc.ReadFile("go.mod"); err == nil && (strings.Contains(string(b), "=> ./") || strings.Contains(string(b), "=> ../")) {
				d.blocker = "go.mod replaces modules with local folders"
			}
			if has("go.work") {
				d.blocker = "a go.work workspace needs every module's go.mod"
			}
			installs = append(installs, d)
		case c.Name == "bundle" && (sub == "install" || sub == ""):
			d := depInstallA{text: "bundle install", manifests: append([]string{"Gemfile"}, lockfiles("Gemfile.lock")...)}
			if b, err := bc.ReadFile("Gemfile"); err == nil && (strings.Contains(string(b), "gemspec") || strings.Contains(string(b), "path:")) {
				d.blocker = "the Gemfile refers to local gems"
			}
			installs = append(installs, d)
		case c.Name == "composer" && sub == "install":
			d := depInstallA{text: "composer install", manifests: append([]string{"composer.json"}, lockfiles("composer.lock")...)}
			if !c.Has("--no-scripts") || !c.Has("--no-autoloader") {
				d.blocker = "install with --no-scripts --no-autoloader first, then dump the autoloader after copying the source"
			}
			installs = append(installs, d)
		case (c.Name == "mvn" || c.Name == "mvnw") && (c.Has("dependency:go-offline") || c.Has("dependency:resolve")):
			d := depInstallA{text: "mvn dependency:go-offline", manifests: []string{"pom.xml"}}
			if b, err := bc.ReadFile("pom.xml"); err == nil && strings.Contains(string(b), "<modules>") {
				d.blocker = "a multi-module build needs every module's pom.xml"
			}
			if c.Name == "mvnw" {
				d.blocker = "the Maven wrapper also needs mvnw and .mvn/"
			}
			installs = append(installs, d)
		default:
			if !independentCommandA(c, wd, dest) {
				pure = false
			}
			continue
		}
		for _, m := range installs[len(installs)-1].manifests {
			if !has(m) && installs[len(installs)-1].blocker == "" {
				installs[len(installs)-1].blocker = m + " is not in the build context"
			}
		}
		if wd != dest && installs[len(installs)-1].blocker == "" {
			installs[len(installs)-1].blocker = "it runs in " + wd + ", not where the source is copied"
		}
	}
	return installs, pure
}

func nodeBlockerA(bc *analyzer.BuildContext) string {
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

func pipInstallA(c analyzer.Command) bool {
	if c.Name == "pip" || c.Name == "pip3" {
		return c.Subcommand() == "install"
	}
	// python -m pip install …
	for i, a := range c.Args {
		if a.Value == "-m" && i+2 < len(c.Args) && c.Args[i+1].Value == "pip" {
			return c.Args[i+2].Value == "install"
		}
	}
	return false
}

func pipRequirementsA(c analyzer.Command) []string {
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

func pipInstallsSourceA(c analyzer.Command) bool {
	for _, a := range c.Args {
		if a.Value == "." || a.Value == "./" || strings.HasPrefix(a.Value, ".[") || a.Value == "-e" {
			return true
		}
	}
	return false
}

// requirementsReferenceFilesA reports requirement files that include
// other files or install local paths.
func requirementsReferenceFilesA(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "-r"), strings.HasPrefix(l, "-c"), strings.HasPrefix(l, "--requirement"),
			strings.HasPrefix(l, "--constraint"), strings.HasPrefix(l, "-e"), strings.HasPrefix(l, "--editable"),
			strings.HasPrefix(l, "."), strings.HasPrefix(l, "/"), strings.Contains(l, "file:"):
			return true
		}
	}
	return false
}

// relToDestA maps an absolute path inside dest back to the context.
func relToDestA(p, dest string) string {
	if p == dest {
		return ""
	}
	if !strings.HasPrefix(p, strings.TrimSuffix(dest, "/")+"/") && dest != "/" {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(p, dest), "/")
}

// independentCommandA reports commands that neither need nor change the
// copied source: package installs by name, cache cleanups, messages.
func independentCommandA(c analyzer.Command, wd, dest string) bool {
	sub := c.Subcommand()
	switch c.Name {
	case "true", ":", "echo", "printf", "set", "export":
		return true
	case "npm":
		return sub == "cache" || sub == "config" || (sub == "install" || sub == "i") && c.Has("-g", "--global")
	case "yarn":
		return sub == "cache" || sub == "config"
	case "pip", "pip3":
		return sub == "cache" || sub == "config" || sub == "install" && len(pipRequirementsA(c)) == 0 && !pipInstallsSourceA(c)
	case "apt-get", "apt", "apk", "yum", "dnf", "microdnf":
		return true
	case "rm":
		for _, a := range c.Positional() {
			t := resolvePathA(wd, a.Value)
			if a.Dynamic || t == dest || strings.HasPrefix(t, strings.TrimSuffix(dest, "/")+"/") || strings.HasPrefix(dest, t+"/") {
				return false
			}
		}
		return true
	}
	return false
}

// depsOrderFixA copies the manifests where the whole copy was, and moves
// the whole copy after the install RUNs, when only installs and
// environment settings lie between.
func depsOrderFixA(p *analyzer.Pass, s *analyzer.Stage, ai, ri int, dest string) *analyzer.Fix {
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
		installs, pure := depInstallsA(p.Context, in, dest)
		if !pure || (i > ri && len(installs) == 0 && !installsSomethingA(in)) {
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
	whole := string(src[a.Start:endOfTextA(d, a)])
	var edits []analyzer.TextEdit
	if copiedBeforeA(ins[:ai], manifests, dest) {
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
			parts = append(parts, quoteA(m))
		}
		target := c.dest
		if target == "." || target == "./" {
			target = "./"
		} else if !strings.HasSuffix(target, "/") {
			target += "/"
		}
		parts = append(parts, target)
		edits = append(edits, analyzer.TextEdit{Start: a.Start, End: endOfTextA(d, a), New: strings.Join(parts, " ")})
	}
	lastIn := ins[last]
	end := endOfTextA(d, lastIn)
	edits = append(edits, analyzer.TextEdit{Start: end, End: end, New: nl + d.Indent(a.StartLine) + whole})
	return &analyzer.Fix{
		Message: fmt.Sprintf("copy %s first and the rest of the source after the install", strings.Join(manifests, ", ")),
		Edits:   edits,
	}
}

// installsSomethingA reports a RUN that installs packages by name.
func installsSomethingA(in *analyzer.Instruction) bool {
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

// copiedBeforeA reports whether earlier COPYs already put every manifest
// at dest.
func copiedBeforeA(earlier []*analyzer.Instruction, manifests []string, dest string) bool {
	for _, m := range manifests {
		found := false
		for _, in := range earlier {
			c, ok := copyOf(in)
			if !ok || c.from != "" {
				continue
			}
			cdest := resolvePathA(workdirBeforeA(in), c.dest)
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
