package analyzer

import "testing"

// manifestMentions looks for a dependency's name before it runs the
// dependency's pattern; that shortcut must never miss what the pattern
// finds, including the non-ASCII letters a case-insensitive pattern folds
// to ASCII ones.
func TestManifestMentionsFindsWhatThePatternFinds(t *testing.T) {
	cases := []struct {
		file, text string
		deps       []string
		want       string
	}{
		{"package.json", `{"dependencies": {"express": "^4"}}`, httpDeps["node"], "express"},
		{"package.json", `{"dependencies": {"Express": "^4"}}`, httpDeps["node"], ""},
		{"composer.json", `{"require": {"slim/slim": "4"}}`, []string{"slim/slim"}, "slim/slim"},
		{"go.mod", "module x\n\nrequire github.com/gin-gonic/gin v1.9.1\n", httpDeps["go"], "github.com/gin-gonic/gin"},
		{"go.mod", "module x\n\nrequire github.com/labstack/echo/v4 v4.11.0\n", httpDeps["go"], "github.com/labstack/echo"},
		{"requirements.txt", "Flask==3.0\n", httpDeps["python"], "flask"},
		{"requirements.txt", "numpy\n", httpDeps["python"], ""},
		{"requirements.txt", "ſanic==23\n", httpDeps["python"], "sanic"}, // ſ folds to s
		{"Gemfile", "gem 'ʀails'\ngem \"puma\"\n", httpDeps["ruby"], "puma"},
		{"requirements.txt", "", httpDeps["python"], ""},
	}
	for _, c := range cases {
		if got := manifestMentions(c.file, c.text, c.deps); got != c.want {
			t.Errorf("manifestMentions(%s, %q) = %q, want %q", c.file, c.text, got, c.want)
		}
		want := ""
		for _, dep := range c.deps {
			if manifestPattern(c.file, dep).MatchString(c.text) {
				want = dep
				break
			}
		}
		if want != c.want {
			t.Errorf("%s %q: the patterns alone find %q, the case says %q", c.file, c.text, want, c.want)
		}
	}
}
