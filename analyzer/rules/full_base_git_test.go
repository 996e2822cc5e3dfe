package rules

import "testing"

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
