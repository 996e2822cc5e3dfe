package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// gitDependency says why the slim image alt would fail the stage's install
// of the project's dependencies: a manifest or lockfile it reads names one
// that the package manager fetches from a git repository, which it does by
// running git, and full ships git where alt does not. npm ci then stops
// with `spawn git ENOENT`, pip with "Cannot find command 'git'". "" when
// the stage installs nothing, no dependency comes from git, or the
// Dockerfile installs git itself (then the slim image has it too).
func gitDependency(p *analyzer.Pass, sf *analyzer.StageFacts, final *analyzer.Stage, full analyzer.ImageRef, alt string) string {
	if p.Context == nil {
		return ""
	}
	slimImage, known := analyzer.ImageContents(analyzer.ParseImageRef(alt))
	if !known {
		return ""
	}
	in, c, pm := projectInstall(final, full.Name())
	if in == nil || !lackedBySlim(slimImage, "git", sf.ToolAtOffset(commandEnd(in, c), "git")) {
		return ""
	}
	var what string
	switch pm.Ecosystem {
	case "node":
		if pm.Name != "npm" && pm.Name != "yarn" && pm.Name != "pnpm" {
			return ""
		}
		what = nodeGitDependency(p.Context, final, in, pm, pm.OmitsDev(in, c))
	case "python":
		what = pipGitRequirement(p.Context, c)
	}
	if what == "" {
		return ""
	}
	return fmt.Sprintf("%s, which %s fetches with git, and %s has no git", what, pm.Name, alt)
}

// commandEnd is where a command's effects are visible: its end, or the
// end of its RUN when its position is not exact.
func commandEnd(in *analyzer.Instruction, c analyzer.Command) int {
	if c.End >= 0 {
		return c.End
	}
	return in.End
}

// nodeGitDependency names the first git dependency of the package.json
// files the stage reads (the context's top one and those it copies), else
// the first git source their package manager's lockfile resolves to (a
// dependency's own git dependency): "package.json depends on x from
// github:o/r#main"; "" for none. With dev dependencies left out (noDev),
// npm still resolves a git devDependency, which needs git, unless a
// package-lock.json the install reads records it: npm's omit leaves
// dependencies off the disk, but "these dependencies are still resolved
// and added to the package-lock.json" (npm's config docs).
func nodeGitDependency(bc *analyzer.BuildContext, final *analyzer.Stage, in *analyzer.Instruction, pm *analyzer.PackageManager, noDev bool) string {
	// The context's top package.json (parsed with the context) and the
	// ones the stage copies (parsed by copiedManifests), one per folder.
	var manifests []copiedManifest
	if bc != nil && bc.Package != nil {
		manifests = append(manifests, copiedManifest{"package.json", bc.Package})
	}
	copied, _ := copiedManifests(bc, final)
	dirs := []string{"."}
	for _, m := range copied {
		if d := path.Dir(m.rel); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
			manifests = append(manifests, m)
		}
	}
	for _, m := range manifests {
		rel, pkg, dir := m.rel, m.pkg, path.Dir(m.rel)
		sets := []map[string]string{pkg.Dependencies, pkg.OptionalDependencies}
		if !noDev {
			sets = append(sets, pkg.DevDependencies)
		}
		for _, deps := range sets {
			for _, name := range slices.Sorted(maps.Keys(deps)) {
				if gitSpec(deps[name]) {
					return fmt.Sprintf("%s depends on %s from %s", rel, name, deps[name])
				}
			}
		}
		if !noDev || pm.Name != "npm" {
			continue
		}
		var recorded func(string) bool // read once, at the first git one
		for _, name := range slices.Sorted(maps.Keys(pkg.DevDependencies)) {
			if !gitSpec(pkg.DevDependencies[name]) {
				continue
			}
			if recorded == nil {
				recorded = npmLockRecords(bc, in, dir)
			}
			if !recorded(name) {
				return fmt.Sprintf("%s depends on %s from %s (a devDependency: npm leaves it out of node_modules but still resolves it, as no package-lock.json copied in before the install records it)", rel, name, pkg.DevDependencies[name])
			}
		}
	}
	for _, dir := range dirs {
		for _, name := range pm.Lockfiles {
			rel := path.Join(dir, name)
			b, err := bc.ReadFile(rel)
			if err != nil {
				continue
			}
			var dep, source string
			switch name {
			case "package-lock.json", "npm-shrinkwrap.json":
				dep, source = npmLockGitSource(b, noDev)
			case "yarn.lock":
				dep, source = yarnLockGitSource(b)
			case "pnpm-lock.yaml":
				dep, source = pnpmLockGitSource(b)
			}
			if dep != "" {
				return fmt.Sprintf("%s resolves %s to %s", rel, dep, source)
			}
		}
	}
	return ""
}

// npmLockRecords reads the npm lockfiles of dir copied from the context
// before the install, and reports whether they record a dependency of
// dir's package.json: then npm takes it from the lock and, leaving dev
// dependencies out, fetches nothing for it. The lockfiles are read once,
// however many dependencies are asked about.
func npmLockRecords(bc *analyzer.BuildContext, in *analyzer.Instruction, dir string) func(name string) bool {
	type lockfile struct {
		Packages     map[string]json.RawMessage `json:"packages"`
		Dependencies map[string]json.RawMessage `json:"dependencies"`
	}
	var locks []lockfile
	for _, lock := range []string{"npm-shrinkwrap.json", "package-lock.json"} {
		rel := path.Join(dir, lock)
		if !contextCopied(bc, rel).before(in) {
			continue
		}
		b, err := bc.ReadFile(rel)
		if err != nil {
			continue
		}
		var l lockfile
		if json.Unmarshal(b, &l) != nil {
			continue
		}
		locks = append(locks, l)
	}
	return func(name string) bool {
		for _, l := range locks {
			if _, ok := l.Packages["node_modules/"+name]; ok {
				return true
			}
			if _, ok := l.Dependencies[name]; ok && l.Packages == nil {
				return true
			}
		}
		return false
	}
}

// githubShorthand is npm's owner/repo[#ref] for a GitHub repository.
var githubShorthand = regexp.MustCompile(`^[A-Za-z0-9][\w.-]*/[\w.-]+(#.*)?$`)

// gitSpec reports a dependency spec that npm, yarn and pnpm fetch from a
// git repository: git+https://, git+ssh://, git://, git@host:…,
// github:/gitlab:/bitbucket:/gist: shortcuts, owner/repo, and an http(s)
// URL of a repository (….git, or owner/repo on GitHub, GitLab or
// Bitbucket), rather than of a tarball.
func gitSpec(spec string) bool {
	s := strings.TrimSpace(spec)
	for _, prefix := range []string{"git+", "git://", "git@", "github:", "gitlab:", "bitbucket:", "gist:"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(s, "https://"); ok || strings.HasPrefix(s, "http://") {
		if !ok {
			rest = strings.TrimPrefix(s, "http://")
		}
		rest, _, _ = strings.Cut(rest, "#")
		if strings.HasSuffix(rest, ".git") {
			return true
		}
		host, repo, _ := strings.Cut(rest, "/")
		switch host {
		case "github.com", "gitlab.com", "bitbucket.org":
			return githubShorthand.MatchString(strings.TrimSuffix(repo, "/"))
		}
		return false
	}
	return githubShorthand.MatchString(s)
}

// npmLockGitSource returns the first package a package-lock.json resolves
// to a git repository: lockfile v2 and v3 record the source in the
// packages' "resolved", v1 in the dependencies' "version".
func npmLockGitSource(b []byte, noDev bool) (dep, source string) {
	type v1Entry struct {
		Version      string             `json:"version"`
		Dev          bool               `json:"dev"`
		Dependencies map[string]v1Entry `json:"dependencies"`
	}
	var lock struct {
		Packages map[string]struct {
			Resolved string `json:"resolved"`
			Dev      bool   `json:"dev"`
		} `json:"packages"`
		Dependencies map[string]v1Entry `json:"dependencies"`
	}
	if json.Unmarshal(b, &lock) != nil {
		return "", ""
	}
	for _, key := range slices.Sorted(maps.Keys(lock.Packages)) {
		e := lock.Packages[key]
		if gitSpec(e.Resolved) && !(noDev && e.Dev) {
			name := key
			if i := strings.LastIndex(key, "node_modules/"); i >= 0 {
				name = key[i+len("node_modules/"):]
			}
			return name, e.Resolved
		}
	}
	var walk func(deps map[string]v1Entry, depth int) (string, string)
	walk = func(deps map[string]v1Entry, depth int) (string, string) {
		for _, name := range slices.Sorted(maps.Keys(deps)) {
			e := deps[name]
			if gitSpec(e.Version) && !(noDev && e.Dev) {
				return name, e.Version
			}
			if depth < 32 {
				if n, s := walk(e.Dependencies, depth+1); n != "" {
					return n, s
				}
			}
		}
		return "", ""
	}
	return walk(lock.Dependencies, 0)
}

// yarnLockGitSource returns the first entry of a yarn.lock (classic or
// Berry) whose header names a git spec: `"x@github:o/r#main":`.
func yarnLockGitSource(b []byte) (dep, source string) {
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == ' ' || line[0] == '#' || !strings.HasSuffix(strings.TrimRight(line, "\r"), ":") {
			continue
		}
		header := strings.TrimSuffix(strings.TrimRight(line, "\r"), ":")
		for _, entry := range strings.Split(header, ",") {
			entry = strings.Trim(strings.TrimSpace(entry), `"`)
			at := strings.Index(entry[min(1, len(entry)):], "@") + 1
			if at <= 0 {
				continue
			}
			if spec := entry[at+1:]; gitSpec(spec) {
				return entry[:at], spec
			}
		}
	}
	return "", ""
}

// pnpmLockGitSource returns the first package of a pnpm-lock.yaml whose
// resolution is a git repository (`type: git`), named by its key.
func pnpmLockGitSource(b []byte) (dep, source string) {
	// One pass, keeping the last package key: a scan back from each
	// "type: git" made a hostile lockfile of such lines cost their square.
	key := ""
	for _, line := range strings.Split(string(b), "\n") {
		l := strings.TrimRight(line, "\r")
		if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") && strings.HasSuffix(l, ":") {
			key = strings.Trim(strings.TrimSuffix(strings.TrimSpace(l), ":"), `'"`)
		}
		if key != "" && strings.Contains(l, "type: git") {
			return key, "a git repository"
		}
	}
	return "", ""
}

// pipGitRequirement names the first requirement pip fetches with git: a
// VCS URL (git+https://…, name @ git+…) in the install's arguments or, for
// an install from a requirements file, in the context's requirements*.txt
// files (those dependencyNeedsFull reads); "" for none.
func pipGitRequirement(bc *analyzer.BuildContext, c analyzer.Command) string {
	for _, a := range c.Args {
		if strings.HasPrefix(a.Value, "git+") || strings.Contains(a.Value, "@git+") || strings.Contains(a.Value, "@ git+") {
			return "the install of " + a.Value
		}
	}
	if !c.Has("-r", "--requirement") && !c.HasPrefixArg("-r") && !c.HasPrefixArg("--requirement=") {
		return ""
	}
	// The files named after -r, wherever they are, and the usual
	// requirements*.txt of the top two levels.
	named := map[string]bool{}
	for _, f := range pipRequirements(c) {
		named[path.Base(f)] = true
	}
	read := 0
	for _, f := range bc.Files {
		base := path.Base(f)
		usual := strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt") && strings.Count(f, "/") <= 1
		if !usual && !named[base] || strings.Contains(f, "node_modules/") {
			continue
		}
		if read++; read > 64 {
			break
		}
		b, err := bc.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			req := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "-e"), "--editable"))
			if strings.HasPrefix(req, "git+") || strings.Contains(req, "@ git+") || strings.Contains(req, "@git+") {
				return f + " lists " + req
			}
		}
	}
	return ""
}
