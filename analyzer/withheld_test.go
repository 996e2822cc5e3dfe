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

// A finding that its RUN cannot run as written keeps its own fix; every
// other fix on that RUN, or editing into it from elsewhere, is withheld
// with the reason, and a fix of another line stays.
func TestFixesOfALineThatCannotRunAreWithheld(t *testing.T) {
	src := "FROM alpine:3.20\nRUN apt-get install -y curl\nRUN echo ok\n"
	d, err := analyzer.Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	broken, other := d.Instructions[1], d.Instructions[2]
	rule := func(id string, check func(*analyzer.Pass)) *analyzer.Rule {
		return &analyzer.Rule{ID: id, Category: analyzer.CategoryReliability, Severity: analyzer.SeverityWarning, Fix: analyzer.Review,
			Title: id, Rationale: "a rule for the engine's test of lines that cannot run", Check: check}
	}
	edit := func(at int, s string) *analyzer.Fix {
		return &analyzer.Fix{Message: s, Edits: []analyzer.TextEdit{{Start: at, End: at, New: s}}}
	}
	rs := []*analyzer.Rule{
		rule("test-cannot-run", func(p *analyzer.Pass) {
			p.ReportCannotRun(p.File.Instructions[1], "apt-get is not in the image", edit(p.File.Instructions[0].End, "-x"))
		}),
		rule("test-same-line", func(p *analyzer.Pass) {
			p.Report(p.File.Instructions[1], "add a flag", edit(broken.ArgsStart, "--flag "))
		}),
		rule("test-edits-into", func(p *analyzer.Pass) {
			p.Report(p.File.Instructions[2], "join the RUNs", &analyzer.Fix{Message: "join",
				Edits: []analyzer.TextEdit{{Start: broken.End - 4, End: other.End, New: "curl && echo ok"}}})
		}),
		rule("test-other-line", func(p *analyzer.Pass) {
			p.Report(p.File.Instructions[2], "quote it", edit(other.ArgsStart, "'"))
		}),
	}
	fr, _ := analyzer.New(rs).AnalyzeSource(t.Context(), "Dockerfile", []byte(src), nil, nil)
	got := map[string]analyzer.Finding{}
	for _, f := range fr.Findings {
		got[f.Rule] = f
	}
	if f := got["test-cannot-run"]; f.Fix == nil || !f.CannotRun() {
		t.Errorf("the finding that the line cannot run: %+v, want its own fix kept", f)
	}
	const why = "no fix: line 2 cannot run as written (test-cannot-run), so nothing in it is changed until that is fixed"
	for _, id := range []string{"test-same-line", "test-edits-into"} {
		if f := got[id]; f.Fix != nil || f.Withheld != analyzer.PreconditionCannotRun || !strings.HasSuffix(f.Message, "; "+why) {
			t.Errorf("%s: %+v, want the fix withheld, saying %q", id, f, why)
		}
	}
	if f := got["test-other-line"]; f.Fix == nil || f.Withheld != "" {
		t.Errorf("a fix of another line: %+v, want it kept", f)
	}
}
