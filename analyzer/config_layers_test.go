package analyzer_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

func mustParse(t *testing.T, name, yaml string) *analyzer.Config {
	t.Helper()
	cfg, err := analyzer.ParseConfig(name, []byte(yaml))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

// TestOrganizationDefaultsLieUnderTheRepositoryFile: what a repository's
// file writes wins, even when it writes dockopt's own default; what it
// leaves out comes from the organization's file.
func TestOrganizationDefaultsLieUnderTheRepositoryFile(t *testing.T) {
	org := mustParse(t, "acme/.github:.github/dockopt.yml",
		"enabled: false\nchecks: {fail_on: all}\noutput: {mode: check-only}\nfixes: {apply: safe}\npull_request: {labels: [docker], draft: true}\nrules: {final-user-root: off, healthcheck-missing: info}\n")
	for _, tc := range []struct {
		name, repo string
		check      func(t *testing.T, c *analyzer.Config)
	}{
		{"no repository file", "", func(t *testing.T, c *analyzer.Config) {
			if c.IsEnabled() || c.FailOn() != analyzer.FailOnAll || c.Output.Mode != "check-only" || c.Fixes.Apply != analyzer.Safe ||
				!c.PullRequest.Draft || len(c.PullRequest.Labels) != 1 {
				t.Errorf("the organization's settings should stand alone: %+v", c)
			}
		}},
		{"a file about something else", "ignore_paths: [vendor/**]\n", func(t *testing.T, c *analyzer.Config) {
			if c.IsEnabled() || c.Output.Mode != "check-only" || c.Fixes.Apply != analyzer.Safe || !c.PullRequest.Draft {
				t.Errorf("settings the repository did not write should come from the organization: %+v", c)
			}
			if len(c.IgnorePaths) != 1 {
				t.Errorf("ignore_paths = %v", c.IgnorePaths)
			}
		}},
		{"the repository writes the defaults back", "enabled: true\nchecks: {fail_on: new}\noutput: {mode: pull-request}\nfixes: {apply: review}\npull_request: {draft: false}\nrules: {final-user-root: warning}\n",
			func(t *testing.T, c *analyzer.Config) {
				if !c.IsEnabled() || c.FailOn() != analyzer.FailOnNew || c.Output.Mode != "pull-request" || c.Fixes.Apply != analyzer.Review || c.PullRequest.Draft {
					t.Errorf("the repository's explicit settings should win: %+v", c)
				}
				if s := c.Rules["final-user-root"]; s.Severity == nil || *s.Severity != analyzer.SeverityWarning {
					t.Errorf("the repository's rule setting should win: %+v", s)
				}
				if s := c.Rules["healthcheck-missing"]; s.Severity == nil || *s.Severity != analyzer.SeverityInfo {
					t.Errorf("the organization's other rule settings stay: %+v", s)
				}
				if len(c.PullRequest.Labels) != 1 {
					t.Errorf("labels the repository did not write come from the organization: %v", c.PullRequest.Labels)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := org
			if tc.repo != "" {
				c = analyzer.Merge(org, mustParse(t, ".github/dockopt.yml", tc.repo))
			}
			tc.check(t, c)
		})
	}
	// Layers stack: an org default, a .hadolint.yaml, the repository file.
	h, err := analyzer.ParseHadolintConfig(".hadolint.yaml", []byte("ignored: [DL3008]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := analyzer.Merge(analyzer.Merge(org, h), mustParse(t, ".github/dockopt.yml", "output: {mode: sibling}\n"))
	if c.Output.Mode != "sibling" || c.FailOn() != analyzer.FailOnAll || c.Rules["hadolint:DL3008"].Severity == nil {
		t.Errorf("stacked layers: %+v", c)
	}
	if got := strings.Join(c.Sources, ","); got != "acme/.github:.github/dockopt.yml,.hadolint.yaml,.github/dockopt.yml" {
		t.Errorf("Sources = %s", got)
	}
}

func TestChecksFailOn(t *testing.T) {
	if got := analyzer.DefaultConfig().FailOn(); got != analyzer.FailOnNew {
		t.Errorf("default fail_on = %q, want new", got)
	}
	for _, v := range []string{"new", "all", "never"} {
		if got := mustParse(t, "c.yml", "checks: {fail_on: "+v+"}\n").FailOn(); got != v {
			t.Errorf("fail_on %s read as %q", v, got)
		}
	}
	for _, bad := range []string{"checks: {fail_on: some}\n", "checks: {fail: new}\n", "enabled: maybe\n"} {
		if _, err := analyzer.ParseConfig("c.yml", []byte(bad)); err == nil {
			t.Errorf("%q should be an error", bad)
		}
	}
}

// TestHadolintUnknownKeysWarn: hadolint ignores keys it does not know, so a
// .hadolint.yaml that works with hadolint must load here too, with each
// unknown key named in a warning; dockopt's own file stays strict.
func TestHadolintUnknownKeysWarn(t *testing.T) {
	cfg, err := analyzer.ParseHadolintConfig(".hadolint.yaml", []byte("ignored: [DL3008]\nshell: bash\noverride:\n  error: [DL3001]\n  fatal: [DL3002]\n"))
	if err != nil {
		t.Fatalf("unknown hadolint keys must not be an error: %v", err)
	}
	if len(cfg.Warnings) != 2 || !strings.Contains(cfg.Warnings[0], `.hadolint.yaml:2: unknown key "shell"`) || !strings.Contains(cfg.Warnings[1], `:5: unknown key "fatal"`) {
		t.Errorf("warnings = %q", cfg.Warnings)
	}
	if cfg.Rules["hadolint:DL3008"].Severity == nil || cfg.Rules["hadolint:DL3001"].Severity == nil {
		t.Errorf("known keys beside unknown ones still apply: %+v", cfg.Rules)
	}
	if _, err := analyzer.ParseHadolintConfig(".hadolint.yaml", []byte("ignored: DL3008\n")); err == nil {
		t.Errorf("a known key of the wrong shape is still an error")
	}
	if _, err := analyzer.ParseConfig(".github/dockopt.yml", []byte("shell: bash\n")); err == nil {
		t.Errorf("dockopt's own file must stay strict")
	}
	merged := analyzer.Merge(cfg, mustParse(t, ".github/dockopt.yml", "rules: {}\n"))
	if len(merged.Warnings) != 2 {
		t.Errorf("warnings survive the merge with dockopt's file: %q", merged.Warnings)
	}
}
