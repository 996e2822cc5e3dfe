package analyzer_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

// TestFailingRuleKeepsOthersFindings: a rule that panics on a file costs
// that rule only. The other rules' findings for the file stand, the failing
// rule's own findings so far stay, and a finding of the failing rule says
// that it failed.
func TestFailingRuleKeepsOthersFindings(t *testing.T) {
	rule := func(id string, check func(*analyzer.Pass)) *analyzer.Rule {
		return &analyzer.Rule{ID: id, Category: analyzer.CategoryReliability, Severity: analyzer.SeverityWarning,
			Title: id, Rationale: strings.Repeat("why ", 12), Check: check}
	}
	before := rule("reports-first", func(p *analyzer.Pass) { p.Reportf(p.File.Instructions[0], "first") })
	crashes := rule("crashes", func(p *analyzer.Pass) {
		p.Reportf(p.File.Instructions[1], "found before failing")
		var m map[string]int
		//lint:ignore SA5000 a nil-map write: the kind of bug a rule can have
		m["x"]++
	})
	after := rule("reports-after", func(p *analyzer.Pass) { p.Reportf(p.File.Instructions[1], "after") })
	a := analyzer.New([]*analyzer.Rule{before, crashes, after})

	fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", []byte("FROM debian:12\nRUN true\n"), nil, nil)
	if fr.Error != "" {
		t.Fatalf("the file failed as a whole: %s", fr.Error)
	}
	var got []string
	for _, f := range fr.Findings {
		got = append(got, f.Rule+": "+f.Message)
	}
	for _, want := range []string{"reports-first: first", "reports-after: after", "crashes: found before failing"} {
		if !slices.Contains(got, want) {
			t.Errorf("findings lack %q: %q", want, got)
		}
	}
	failed := slices.IndexFunc(fr.Findings, func(f analyzer.Finding) bool {
		return f.Rule == "crashes" && strings.Contains(f.Message, "this check failed on this file") && strings.Contains(f.Message, "nil map")
	})
	if failed < 0 {
		t.Errorf("no finding says the rule failed: %q", got)
	}
	if len(fr.RuleErrors) != 1 || fr.RuleErrors[0].Rule != "crashes" || !strings.Contains(fr.RuleErrors[0].Stack, "goroutine") {
		t.Errorf("RuleErrors = %+v, want the crashing rule with its stack", fr.RuleErrors)
	}
}

// TestConfigurationErrorIsReturned: rule keys that name no rule are an
// error of the analysis, not silently ignored.
func TestConfigurationErrorIsReturned(t *testing.T) {
	cfg, err := analyzer.ParseConfig(".github/dockopt.yml", []byte("rules:\n  no-such-rule: off\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer()
	fsys := fstest.MapFS{"Dockerfile": {Data: []byte("FROM debian:12\n")}}
	if _, err := a.Analyze(t.Context(), fsys, ".", cfg); err == nil || !strings.Contains(err.Error(), "no-such-rule") {
		t.Errorf("Analyze: error %v", err)
	}
	if _, err := a.AnalyzeTargets(t.Context(), fsys, []analyzer.Target{{Path: "Dockerfile", Context: "."}}, cfg); err == nil {
		t.Error("AnalyzeTargets accepted the configuration")
	}
	if fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", []byte("FROM debian:12\n"), nil, cfg); !strings.Contains(fr.Error, "no-such-rule") {
		t.Errorf("AnalyzeSource: file error %q", fr.Error)
	}
}

// BuildKit suggests an instruction for a typo from a map it ranges over:
// ADG is as close to ADD as to ARG, and the message changed from run to
// run. dockopt's output must not.
func TestUnknownInstructionSuggestionIsStable(t *testing.T) {
	seen := map[string]bool{}
	for range 40 {
		_, err := analyzer.Parse("Dockerfile", []byte("FROM debian:12\nADG foo bar\n"))
		if err == nil {
			t.Fatal("ADG parsed")
		}
		seen[err.Error()] = true
	}
	if len(seen) != 1 {
		t.Fatalf("the error changes between runs: %v", seen)
	}
	for msg := range seen {
		if !strings.Contains(msg, "line 2: unknown instruction: ADG (did you mean ADD?)") {
			t.Errorf("error %q", msg)
		}
	}
}
