package rules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/ruletest"
)

// runCaseFixFiles runs one rule on one txtar case and returns the files
// its fixes generate, by path.
func runCaseFixFiles(t *testing.T, r *analyzer.Rule, file string) map[string]string {
	t.Helper()
	a := analyzer.New(All())
	for _, c := range ruletest.Cases(t, filepath.Dir(filepath.Dir(file)), filepath.Base(filepath.Dir(file))) {
		if c.Path != file {
			continue
		}
		out := map[string]string{}
		for _, f := range ruletest.Run(t, a, r, c).Findings {
			if f.Fix == nil {
				continue
			}
			for _, g := range f.Fix.Files {
				out[g.Path] = g.Content
			}
		}
		return out
	}
	t.Fatalf("no case %s", file)
	return nil
}

// TestNginxGeneratedConfig checks the configuration both nginx rules
// propose: identical from both (so that the fixes merge), listening on
// 8080 when nginx runs unprivileged, and caching hashed assets only when
// the build produces them.
func TestNginxGeneratedConfig(t *testing.T) {
	gz := runCaseFixFiles(t, NginxNoGzip, "testdata/nginx-no-gzip/stock-vite.txtar")
	hd := runCaseFixFiles(t, NginxMissingSecurityHeaders, "testdata/nginx-missing-security-headers/stock-vite.txtar")
	conf, ok := gz["nginx/default.conf"]
	if !ok || hd["nginx/default.conf"] != conf {
		t.Fatalf("the two rules propose different files:\n%s\n---\n%s", conf, hd["nginx/default.conf"])
	}
	for _, want := range []string{"listen 80;", "gzip on;", "image/svg+xml", `X-Content-Type-Options "nosniff"`, `X-Frame-Options "SAMEORIGIN"`,
		"Referrer-Policy", "location = /healthz", "location /assets/", "public, max-age=31536000, immutable", "root /usr/share/nginx/html;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("vite site config lacks %q:\n%s", want, conf)
		}
	}
	// nginx fails to start on [::] where IPv6 is off, as it is in many pods.
	if strings.Contains(conf, "[::]") {
		t.Errorf("the config listens on IPv6:\n%s", conf)
	}
	un := runCaseFixFiles(t, NginxMissingSecurityHeaders, "testdata/nginx-missing-security-headers/stock-unprivileged.txtar")["nginx/default.conf"]
	if !strings.Contains(un, "listen 8080;") || strings.Contains(un, "immutable") {
		t.Errorf("unprivileged site without hashed assets:\n%s", un)
	}
}
