package analyzer_test

import (
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// A rule that withholds its fix keeps its severity; an advisory finding is
// reported at info at most, whatever the rule's severity.
func TestWithheldAndAdvisoryFindings(t *testing.T) {
	rule := &analyzer.Rule{
		ID: "test-withheld", Category: analyzer.CategorySecurity, Severity: analyzer.SeverityError,
		Title: "Test", Rationale: "a rule for the engine's test of withheld and advisory findings",
		Check: func(p *analyzer.Pass) {
			for _, s := range p.File.Stages {
				if ok, why := p.RuntimeChangeAllowed(s); !ok {
					p.ReportAdvisory(s.From, why, analyzer.PreconditionRole)
				} else {
					p.ReportWithheld(s.From, "no fix: the entrypoint switches users itself", analyzer.PreconditionUser)
				}
			}
		},
	}
	a := analyzer.New([]*analyzer.Rule{rule})
	fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", []byte("FROM golang:1.26 AS build\nCOPY . /src\nRUN go build -o /app /src\nFROM debian:12\nCOPY --from=build /app /app\nCMD [\"/app\"]\n"), nil, nil)
	if fr.Error != "" {
		t.Fatal(fr.Error)
	}
	if len(fr.Findings) != 2 {
		t.Fatalf("findings %+v, want one per stage", fr.Findings)
	}
	build, final := fr.Findings[0], fr.Findings[1]
	if build.Severity != analyzer.SeverityInfo || build.Withheld != analyzer.PreconditionRole || build.Fix != nil {
		t.Errorf("build stage: %+v, want an info finding withheld for its role", build)
	}
	if final.Severity != analyzer.SeverityError || final.Withheld != analyzer.PreconditionUser {
		t.Errorf("final stage of an application: %+v, want the rule's severity, withheld for the user", final)
	}
}
