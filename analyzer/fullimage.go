package analyzer

import (
	"encoding/json"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
)

// FullImageNeed is what a dependency needs at run time from the full
// language image (built on buildpack-deps, which ships the development
// packages of the common libraries) that its slim and Alpine variants lack.
type FullImageNeed struct {
	// Debian and Alpine are the library package to install on each; when
	// they are empty, Withheld says why no one package supplies it.
	Debian, Alpine string
	Withheld       string
}

// fullImageNeeds lists, per ecosystem, the dependencies known to load a
// system library or run a system program. The list is short on purpose:
// it names what real services use often; with a builder, the smoke run
// catches a library that fails to load at start.
var fullImageNeeds = map[string]map[string]FullImageNeed{
	"python": {
		// psycopg2 and psycopg's C and pure-Python variants load libpq;
		// psycopg[binary] and psycopg2-binary bundle it.
		"psycopg2":    {Debian: "libpq5", Alpine: "libpq"},
		"psycopg":     {Debian: "libpq5", Alpine: "libpq"},
		"psycopg[c]":  {Debian: "libpq5", Alpine: "libpq"},
		"mysqlclient": {Debian: "libmariadb3", Alpine: "mariadb-connector-c"},
		"wand":        {Withheld: "Wand loads ImageMagick's libraries, which the full image ships and the slim one does not"},
	},
	"node": {
		"canvas":      {Withheld: "canvas loads cairo and pango, which the full image ships and the slim one does not"},
		"gm":          {Withheld: "gm runs ImageMagick or GraphicsMagick, which the full image ships and the slim one does not"},
		"imagemagick": {Withheld: "imagemagick runs ImageMagick's programs, which the full image ships and the slim one does not"},
	},
}

// Why says what the dependency needs, for a message.
func (n FullImageNeed) Why(dep string) string {
	if n.Withheld != "" {
		return n.Withheld
	}
	return dep + " loads " + n.Debian + " (" + n.Alpine + " on Alpine), which the full image ships and the slim one does not"
}

// FullImageNeedOf reports what a dependency of an ecosystem ("python",
// "node") needs from the full language image, if dockopt knows.
func FullImageNeedOf(ecosystem, dep string) (FullImageNeed, bool) {
	n, ok := fullImageNeeds[ecosystem][dep]
	return n, ok
}

var requirementName = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?`)

// RequirementNames reads the distribution names (with extras, lower case)
// a requirements file lists.
func RequirementNames(src []byte) []string {
	var out []string
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "-") {
			continue
		}
		if m := requirementName.FindStringSubmatch(line); m != nil {
			name := strings.ReplaceAll(strings.ToLower(m[1]), "_", "-")
			if extras := strings.ReplaceAll(m[2], " ", ""); extras != "" {
				name += "[" + strings.ToLower(extras) + "]"
			}
			out = append(out, name)
		}
	}
	return out
}

// pythonManifests are the files, besides requirements*.txt, that name a
// Python project's dependencies: the manifests of PEP 621 (uv, PDM,
// Hatch), Poetry and Pipenv, and their lockfiles.
var pythonManifests = map[string]bool{"pyproject.toml": true, "Pipfile": true, "poetry.lock": true, "uv.lock": true, "Pipfile.lock": true}

// PythonDependencyFile reports a file whose dependency names
// PythonDependencyNames reads: requirements*.txt and the files of
// pythonManifests; lock reports a lockfile, which also lists the
// dependencies' own dependencies.
func PythonDependencyFile(name string) (ok, lock bool) {
	base := path.Base(name)
	if strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt") {
		return true, false
	}
	return pythonManifests[base], strings.HasSuffix(base, ".lock")
}

// PythonDependencyNames reads the distribution names (with extras, lower
// case, as RequirementNames gives them) of the runtime dependencies a
// Python dependency file names: a requirements file's lines;
// pyproject.toml's [project] dependencies and [tool.poetry.dependencies]
// (not python itself); Pipfile's [packages]; the packages of poetry.lock
// (those not in its dev category) and uv.lock; Pipfile.lock's "default"
// section. Optional and development groups are left out. TOML is read by
// lines, which is how these files are written; a file in another shape
// yields fewer names, never wrong ones.
func PythonDependencyNames(name string, src []byte) []string {
	switch base := path.Base(name); base {
	case "pyproject.toml", "Pipfile":
		return manifestNames(base, src)
	case "poetry.lock", "uv.lock":
		return lockedNames(tomlLockNames(src))
	case "Pipfile.lock":
		var lock struct {
			Default map[string]json.RawMessage `json:"default"`
		}
		if json.Unmarshal(src, &lock) != nil {
			return nil
		}
		var names []string
		for _, n := range slices.Sorted(maps.Keys(lock.Default)) {
			names = append(names, normalizeDistribution(n))
		}
		return lockedNames(names)
	}
	return RequirementNames(src)
}

// normalizeDistribution spells a distribution name as pip compares them:
// lower case, runs of -, _ and . as one -.
func normalizeDistribution(name string) string {
	return strings.Trim(distributionSeparators.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-"), "-")
}

var distributionSeparators = regexp.MustCompile(`[-_.]+`)

// lockedNames reads a lockfile's package names as the dependencies they
// stand for: psycopg beside psycopg-binary is psycopg[binary], which
// bundles libpq; psycopg-c is psycopg[c], built against it.
func lockedNames(names []string) []string {
	binary := slices.Contains(names, "psycopg-binary")
	var out []string
	for _, n := range names {
		switch {
		case n == "psycopg" && binary:
			n = "psycopg[binary]"
		case n == "psycopg-c":
			n = "psycopg[c]"
		}
		out = append(out, n)
	}
	return out
}

// tomlTable returns the table a TOML header line opens ("project",
// "package" for [[package]]), and whether the line is one.
func tomlTable(line string) (string, bool) {
	if !strings.HasPrefix(line, "[") {
		return "", false
	}
	end := strings.LastIndex(line, "]")
	if end < 0 {
		return "", false
	}
	t := strings.Trim(line[:end+1], "[]")
	var parts []string
	for _, p := range strings.Split(t, ".") {
		parts = append(parts, strings.Trim(strings.TrimSpace(p), `"'`))
	}
	return strings.Join(parts, "."), true
}

// tomlKey splits a `key = value` line, the key unquoted.
func tomlKey(line string) (key, value string, ok bool) {
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return "", "", false
	}
	return strings.Trim(strings.TrimSpace(k), `"'`), strings.TrimSpace(v), true
}

// tomlStrings returns the quoted strings of a TOML array that starts in
// src (after its opening bracket has been passed or not), up to the
// bracket that closes it outside a string, and whether it closed.
func tomlStrings(src string, depth int) (out []string, closed bool, rest int) {
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '#':
			nl := strings.IndexByte(src[i:], '\n')
			if nl < 0 {
				return out, false, len(src)
			}
			i += nl
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return out, true, i + 1
			}
		case '"', '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return out, false, len(src)
			}
			out = append(out, src[i+1:i+1+end])
			i += end + 1
		}
	}
	return out, false, len(src)
}

// manifestNames reads pyproject.toml's [project] dependencies array and
// the keys of [tool.poetry.dependencies] (or a Pipfile's [packages]),
// with the extras of an inline table.
func manifestNames(base string, src []byte) []string {
	keyed := "tool.poetry.dependencies"
	if base == "Pipfile" {
		keyed = "packages"
	}
	var out []string
	text := string(src)
	table := ""
	for off := 0; off < len(text); {
		nl := strings.IndexByte(text[off:], '\n')
		if nl < 0 {
			nl = len(text) - off
		}
		line := strings.TrimSpace(text[off : off+nl])
		next := off + nl + 1
		if t, ok := tomlTable(line); ok {
			table = t
			if sub, ok := strings.CutPrefix(t, keyed+"."); ok && !strings.Contains(sub, ".") && sub != "python" {
				// [tool.poetry.dependencies.psycopg2]: one dependency as a table.
				out = append(out, normalizeDistribution(sub))
			}
			off = next
			continue
		}
		key, value, ok := tomlKey(line)
		switch {
		case !ok || strings.HasPrefix(line, "#"):
		case table == "project" && key == "dependencies" && strings.HasPrefix(value, "["):
			start := off + strings.Index(text[off:], "[")
			reqs, _, n := tomlStrings(text[start:], 0)
			for _, r := range reqs {
				out = append(out, RequirementNames([]byte(r))...)
			}
			next = max(next, start+n)
		case table == keyed && key != "python" && key != "":
			name := normalizeDistribution(key)
			if i := strings.Index(value, "extras"); i >= 0 && strings.HasPrefix(value, "{") {
				if extras, _, _ := tomlStrings(value[i:], 0); len(extras) > 0 {
					name += "[" + strings.ToLower(strings.Join(extras, ",")) + "]"
				}
			}
			out = append(out, name)
		}
		off = next
	}
	return out
}

// tomlLockNames reads the name of each [[package]] of a poetry.lock or
// uv.lock, leaving out those Poetry files under category "dev".
func tomlLockNames(src []byte) []string {
	var out []string
	name, dev, inPackage := "", false, false
	flush := func() {
		if name != "" && !dev {
			out = append(out, normalizeDistribution(name))
		}
		name, dev = "", false
	}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if t, ok := tomlTable(line); ok {
			if strings.HasPrefix(line, "[[") && t == "package" {
				flush()
				inPackage = true
			} else if !strings.HasPrefix(t, "package.") {
				flush()
				inPackage = false
			}
			continue
		}
		if !inPackage {
			continue
		}
		switch key, value, ok := tomlKey(line); {
		case !ok:
		case key == "name" && name == "":
			name = strings.Trim(value, `"'`)
		case key == "category":
			dev = strings.Trim(value, `"'`) == "dev"
		}
	}
	flush()
	return out
}
