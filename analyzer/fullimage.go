package analyzer

import (
	"regexp"
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
