package analyzer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
)

// aliasBomb is the reproduction of issue #14: one anchored rule setting of
// 12,000 paths referenced by 19,000 more rules, 222 KB. The old decoder
// re-encoded each reference and decoded it afresh, out of reach of yaml.v3's
// own alias guard: past 1.2 GB and 50 s before it was killed.
func aliasBomb() []byte {
	var b strings.Builder
	b.WriteString("rules:\n r: &s {ignore_paths: [")
	for i := range 12000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("a")
	}
	b.WriteString("]}\n")
	for i := range 19000 {
		fmt.Fprintf(&b, " %d: *s\n", i)
	}
	return []byte(b.String())
}

func TestConfigAliasBombIsRefused(t *testing.T) {
	bomb := aliasBomb()
	if len(bomb) > analyzer.MaxConfigSize {
		t.Fatalf("the bomb is %d bytes, over the size limit: it would not test the alias guard", len(bomb))
	}
	start := time.Now()
	_, err := analyzer.ParseConfig(".github/dockopt.yml", bomb)
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Fatalf("ParseConfig(alias bomb) = %v, want an error about aliases", err)
	}
	t.Logf("refused in %v: %v", time.Since(start), err)
	// The same through .hadolint.yaml's decoder.
	// The same guard in .hadolint.yaml's decoder: 30,000 IDs named 4 times.
	hbomb := "ignored: &p [" + strings.Repeat("DL3008,", 30000) + "DL3008]\noverride: {error: *p, warning: *p, info: *p, style: *p}\n"
	if _, err := analyzer.ParseHadolintConfig(".hadolint.yaml", []byte(hbomb)); err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Errorf("ParseHadolintConfig(alias bomb) = %v, want an error about aliases", err)
	}
}

func TestConfigAliasesThatStaySmallWork(t *testing.T) {
	cfg, err := analyzer.ParseConfig(".github/dockopt.yml", []byte(
		"rules:\n  final-user-root: &legacy {severity: info, ignore_paths: [\"legacy/**\"]}\n  healthcheck-missing: *legacy\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Rules["healthcheck-missing"]
	if s.Severity == nil || *s.Severity != analyzer.SeverityInfo || len(s.IgnorePaths) != 1 {
		t.Errorf("aliased rule setting = %+v, want severity info and one ignore path", s)
	}
}

func TestConfigShapeErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"two documents", "rules: {}\n---\nrules: {final-user-root: off}\n", "2 YAML documents"},
		{"unknown key in a rule setting", "rules:\n  final-user-root:\n    severty: info\n", "line 3: field severty not found"},
		{"rule setting of the wrong shape", "rules:\n  final-user-root: [info]\n", "line 2: a rule setting is a severity or a mapping"},
		{"anchor inside itself", "a: &x [*x]\n", ".github/dockopt.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := analyzer.ParseConfig(".github/dockopt.yml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
