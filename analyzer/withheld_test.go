package analyzer_test

import (
	"strings"
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

// Rewrites read the same decision from an analyzed file's facts as rules
// read from their pass: only the final stage of a hand-written application
// image may take a runtime change.
func TestRuntimeChangeAllowedFromFacts(t *testing.T) {
	cases := []struct {
		name, dir, file string
		stage           int // -1: final
		want            bool
		why             string
	}{
		{name: "application", dir: "app-with-fixtures", file: "Dockerfile", stage: -1, want: true},
		{name: "generated variant", dir: "postgres-variants", file: "16/bookworm/Dockerfile", stage: -1, why: "generated"},
		{name: "base image", dir: "base-images", file: "python/3.12/Dockerfile", stage: -1, why: "base image"},
		{name: "dev container", dir: "devcontainer", file: ".devcontainer/Dockerfile", stage: -1, why: "dev image"},
		{name: "test fixture", dir: "app-with-fixtures", file: "testdata/fixtures/broken-base/Dockerfile", stage: -1, why: "fixture image"},
		{name: "build stage", dir: "grpc-service", file: "Dockerfile", stage: 0, why: "not the stage the image is built from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fr := shape(t, tc.dir)[tc.file]
			if fr == nil {
				t.Fatalf("%s: no file %s", tc.dir, tc.file)
			}
			s := fr.Dockerfile.FinalStage()
			if tc.stage >= 0 {
				s = fr.Dockerfile.Stages[tc.stage]
			}
			ok, why := fr.Facts().RuntimeChangeAllowed(s)
			if ok != tc.want || (!ok && !strings.Contains(why, tc.why)) || (ok && why != "") {
				t.Errorf("RuntimeChangeAllowed = %v, %q; want %v and a reason naming %q", ok, why, tc.want, tc.why)
			}
		})
	}
}
