package analyzer

import (
	"regexp"
	"strings"
)

// gradleCatalog is Gradle's default version catalog, whose libraries a
// build file names only by accessor (libs.ktor.server.netty), as Ktor 3's
// and Spring's generated projects do.
const gradleCatalog = "gradle/libs.versions.toml"

// maxCatalogEntries bounds the libraries and bundles read from a catalog.
const maxCatalogEntries = 4096

var (
	catalogReference = regexp.MustCompile(`\blibs\.([A-Za-z0-9_.]+)`)
	catalogModule    = regexp.MustCompile(`\bmodule\s*=\s*["']([^"']+)["']`)
	catalogGroup     = regexp.MustCompile(`\bgroup\s*=\s*["']([^"']+)["']`)
	catalogName      = regexp.MustCompile(`\bname\s*=\s*["']([^"']+)["']`)
)

// gradleCatalogModules returns the coordinates (group:artifact) of the
// catalog's libraries a build file's text references, directly or
// through a bundle (libs.bundles.ktor); nil without a catalog.
func (c *BuildContext) gradleCatalogModules(build string) []string {
	if !strings.Contains(build, "libs.") || !c.Has(gradleCatalog) {
		return nil
	}
	b, err := c.ReadFile(gradleCatalog)
	if err != nil || len(b) > maxScriptRead {
		return nil
	}
	libs, bundles := parseGradleCatalog(string(b))
	var out []string
	seen := map[string]bool{}
	add := func(accessor string) {
		if m, ok := libs[accessor]; ok && !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, ref := range catalogReferences(build) {
		if bundle, ok := strings.CutPrefix(ref, "bundles."); ok {
			for _, alias := range bundles[bundle] {
				add(alias)
			}
			continue
		}
		add(ref)
	}
	return out
}

// catalogReferences lists the catalog accessors a build file names, each
// once and in the order first named: a bundle named on every line would
// otherwise walk its aliases each time, and a repository's files are
// hostile.
func catalogReferences(build string) []string {
	var refs []string
	seen := map[string]bool{}
	for _, m := range catalogReference.FindAllStringSubmatch(build, maxCatalogEntries) {
		ref := strings.TrimSuffix(m[1], ".get")
		if !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	return refs
}

// parseGradleCatalog reads a version catalog's [libraries], each an alias
// given as "group:artifact:version" or an inline table with module, or
// group and name, and its [bundles], arrays of library aliases. Both are
// keyed by accessor: Gradle turns the -, _ and . of an alias into the dots
// of libs.a.b.c. The subset of TOML read is the one the existing
// pyproject readers (tomlTable, tomlKey, tomlStrings) read; a catalog is
// flat, so no full TOML parser (none is among the dependencies) is needed.
func parseGradleCatalog(text string) (libs map[string]string, bundles map[string][]string) {
	libs, bundles = map[string]string{}, map[string][]string{}
	table := ""
	for off := 0; off < len(text) && len(libs)+len(bundles) < maxCatalogEntries; {
		nl := strings.IndexByte(text[off:], '\n')
		if nl < 0 {
			nl = len(text) - off
		}
		line := strings.TrimSpace(text[off : off+nl])
		next := off + nl + 1
		if t, ok := tomlTable(line); ok {
			table = t
			off = next
			continue
		}
		key, value, ok := tomlKey(line)
		switch {
		case !ok || strings.HasPrefix(line, "#"):
		case table == "libraries":
			if m := catalogCoordinates(value); m != "" {
				libs[catalogAccessor(key)] = m
			}
		case table == "bundles" && strings.HasPrefix(value, "["):
			start := off + strings.Index(text[off:], "[")
			aliases, _, n := tomlStrings(text[start:], 0)
			for i := range aliases {
				aliases[i] = catalogAccessor(aliases[i])
			}
			bundles[catalogAccessor(key)] = aliases
			next = max(next, start+n)
		}
		off = next
	}
	return libs, bundles
}

// catalogCoordinates is the group:artifact a library entry names.
func catalogCoordinates(value string) string {
	if q := value[:min(1, len(value))]; q == `"` || q == "'" {
		s, _, _ := strings.Cut(value[1:], q)
		group, rest, _ := strings.Cut(s, ":")
		artifact, _, _ := strings.Cut(rest, ":")
		if group == "" || artifact == "" {
			return ""
		}
		return group + ":" + artifact
	}
	if m := catalogModule.FindStringSubmatch(value); m != nil {
		return m[1]
	}
	g, n := catalogGroup.FindStringSubmatch(value), catalogName.FindStringSubmatch(value)
	if g != nil && n != nil {
		return g[1] + ":" + n[1]
	}
	return ""
}

// catalogAccessor is the accessor path of an alias (ktor-server-netty:
// ktor.server.netty).
func catalogAccessor(alias string) string {
	return strings.NewReplacer("-", ".", "_", ".").Replace(alias)
}
