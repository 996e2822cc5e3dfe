package rules

import (
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

func TestGitSpec(t *testing.T) {
	for spec, want := range map[string]bool{
		"github:authorizerdev/authorizer-react#main": true,
		"gitlab:acme/lib":                           true,
		"git+https://github.com/acme/lib.git#v1":    true,
		"git+ssh://git@github.com/acme/lib.git":     true,
		"git://github.com/acme/lib.git":             true,
		"git@github.com:acme/lib.git":               true,
		"acme/lib":                                  true,
		"acme/lib#semver:^1.0":                      true,
		"https://github.com/acme/lib":               true,
		"https://git.example.com/acme/lib.git#main": true,
		"^4.19.2":                           false,
		"latest":                            false,
		"file:../lib":                       false,
		"./lib":                             false,
		"workspace:*":                       false,
		"npm:@acme/lib@^1":                  false,
		"link:../lib":                       false,
		"https://example.com/lib-1.0.0.tgz": false,
		"https://registry.npmjs.org/x/-/x-1.0.0.tgz":  false,
		"https://github.com/acme/lib/archive/v1.tgz":  false,
		"https://codeload.github.com/acme/lib/tar.gz": false,
	} {
		if got := gitSpec(spec); got != want {
			t.Errorf("gitSpec(%q) = %v, want %v", spec, got, want)
		}
	}
}

// TestOmitsDev: npm's --omit names the dependency type left out, so only
// dev there (or --production, --only=prod[uction], pnpm's -P, or npm under
// NODE_ENV=production) keeps a git devDependency from being fetched.
func TestOmitsDev(t *testing.T) {
	for _, tc := range []struct {
		env, run string
		want     bool
	}{
		{"", "npm ci --omit=dev", true},
		{"", "npm ci --omit dev", true},
		{"", "npm install --omit=optional --omit=dev", true},
		{"", "npm ci --production", true},
		{"", "npm ci --only=production", true},
		{"", "npm ci --only prod", true},
		{"", "pnpm install -P", true},
		{"", "yarn install --production", true},
		{"", "npm ci", false},
		{"", "npm ci --omit prod", false},
		{"", "npm ci --omit=prod", false},
		{"", "npm ci --omit production", false},
		{"", "npm ci --omit=optional", false},
		{"", "npm ci --omit=peer", false},
		{"", "npm ci --omit=dev --include=dev", false},
		{"", "npm ci --production=false", false},
		{"NODE_ENV=production", "npm ci", true},
		{"NODE_ENV=production", "npm install", true},
		{"NODE_ENV=production", "npm ci --include=dev", false},
		{"NODE_ENV=production", "npm ci --include dev", false},
		{"NODE_ENV=production", "NODE_ENV=development npm ci", false},
		{"NODE_ENV=production", "env -i PATH=/usr/local/bin:/usr/bin npm ci", false},
		{"NODE_ENV=production", "yarn install", false},
		{"NODE_ENV=development", "npm ci", false},
		{"", "NODE_ENV=production npm ci", true},
		{"", "env NODE_ENV=production npm ci", true},
		{"", "NODE_ENV=$MODE npm ci", false},
	} {
		src := "FROM node:20\n"
		if tc.env != "" {
			src += "ENV " + tc.env + "\n"
		}
		src += "RUN " + tc.run + "\n"
		d, err := analyzer.Parse("Dockerfile", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		in, c, pm := projectInstall(d.Stages[len(d.Stages)-1], "node")
		if in == nil {
			t.Fatalf("%q: no install found", tc.run)
		}
		if got := pm.OmitsDev(in, c); got != tc.want {
			t.Errorf("ENV %q, RUN %q: omitsDev = %v, want %v", tc.env, tc.run, got, tc.want)
		}
	}
}
