package analyzer

import (
	"bytes"
	"encoding/json"
	"path"
	"slices"
)

// LockfileMissing returns a dependency that package.json (beside the
// lockfile) declares and the lockfile does not hold, "" when every one is
// there or that cannot be told: a lockfile too large to read, one that
// does not parse, a workspace, or a kind this does not read (pnpm). npm ci
// and yarn install --frozen-lockfile refuse a lockfile out of step with
// package.json, where npm install and yarn install quietly update it; a
// fix or rewrite that switches to them needs the lockfile in step.
func LockfileMissing(bc *BuildContext, lockfile string) string {
	manifest, err := bc.ReadFile(path.Join(path.Dir(lockfile), "package.json"))
	if err != nil {
		return ""
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
		Workspaces      json.RawMessage   `json:"workspaces"`
	}
	if json.Unmarshal(manifest, &pkg) != nil || len(pkg.Workspaces) > 0 {
		return ""
	}
	var names []string
	for n := range pkg.Dependencies {
		names = append(names, n)
	}
	for n := range pkg.DevDependencies {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return ""
	}
	lock, err := bc.ReadFile(lockfile)
	if err != nil {
		return ""
	}
	switch path.Base(lockfile) {
	case "package-lock.json", "npm-shrinkwrap.json":
		var l struct {
			Packages     map[string]json.RawMessage `json:"packages"`
			Dependencies map[string]json.RawMessage `json:"dependencies"`
		}
		if json.Unmarshal(lock, &l) != nil {
			return ""
		}
		for _, n := range names {
			_, v2 := l.Packages["node_modules/"+n]
			_, v1 := l.Dependencies[n]
			if !v2 && !v1 {
				return n
			}
		}
	case "yarn.lock":
		// Entries start a line with the name and a range, quoted or not,
		// several ranges of one package separated by ", ".
		lock = append([]byte("\n"), lock...)
		for _, n := range names {
			found := false
			for _, at := range []string{"\n" + n + "@", "\n\"" + n + "@", ", " + n + "@", ", \"" + n + "@"} {
				if bytes.Contains(lock, []byte(at)) {
					found = true
					break
				}
			}
			if !found {
				return n
			}
		}
	}
	return ""
}
