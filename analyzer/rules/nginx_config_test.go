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
// propose: identical from both (so that the fixes merge), and only
// http-level directives, so that the image's packaged default.conf keeps
// serving the site (and keeps the IPv6 listen its entrypoint adds).
func TestNginxGeneratedConfig(t *testing.T) {
	gz := runCaseFixFiles(t, NginxNoGzip, "testdata/nginx-no-gzip/stock-vite.txtar")
	hd := runCaseFixFiles(t, NginxMissingSecurityHeaders, "testdata/nginx-missing-security-headers/stock-vite.txtar")
	conf, ok := gz["nginx/dockopt.conf"]
	if !ok || hd["nginx/dockopt.conf"] != conf {
		t.Fatalf("the two rules propose different files:\n%s\n---\n%s", conf, hd["nginx/dockopt.conf"])
	}
	for _, want := range []string{"gzip on;", "image/svg+xml", `X-Content-Type-Options "nosniff"`, `X-Frame-Options "SAMEORIGIN"`, "Referrer-Policy"} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	// A server block would take the place of the packaged one; listen,
	// root and location are not allowed in the http block anyway.
	for _, unwanted := range []string{"server", "listen", "location", "root ", "healthz", "[::]"} {
		if strings.Contains(stripNginxComments(conf), unwanted) {
			t.Errorf("config has %q:\n%s", unwanted, conf)
		}
	}
	if strings.Contains(conf, "health") {
		t.Errorf("the header promises a health check the file does not hold:\n%s", conf)
	}
	if un := runCaseFixFiles(t, NginxMissingSecurityHeaders, "testdata/nginx-missing-security-headers/stock-unprivileged.txtar")["nginx/dockopt.conf"]; un != conf {
		t.Errorf("unprivileged image gets another file:\n%s", un)
	}
}
