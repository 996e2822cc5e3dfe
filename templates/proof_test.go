package templates_test

import (
	"os"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/patcher/build"
	"github.com/dockopt/dockopt/templates"
)

// section returns the report's section for one Dockerfile.
func section(t *testing.T, report, path string) string {
	t.Helper()
	i := strings.Index(report, "(`"+path+"`)\n")
	if i < 0 {
		t.Fatalf("no section for %s in:\n%s", path, report)
	}
	rest := report[i:]
	if j := strings.Index(rest, "\n---\n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// TestProof: each built Dockerfile says what was built and started, with
// the reason for every ✗, and nothing about what was not run.
func TestProof(t *testing.T) {
	in := input(t, "examples/monorepo", os.DirFS("../examples/monorepo"))
	healthy := templates.Build{OK: true, Smoke: build.Smoke{Ran: true, Started: true, Healthcheck: true, Healthy: true}}
	running := templates.Build{OK: true, Smoke: build.Smoke{Ran: true, Started: true}}
	in.Builds = map[string]templates.BuildPair{
		// A USER fix that kept the server from binding its port.
		"api/Dockerfile": {Original: healthy, Optimized: healthy, Rejected: &templates.Build{OK: true, Smoke: build.Smoke{
			Ran: true, ExitCode: 1, Reason: "exited with code 1 after 0.4 s",
			Output: "INFO: Started server process\nERROR: [Errno 13] error while attempting to bind on address ('0.0.0.0', 80): permission denied\n"}}},
		// An original that needs its database.
		"web/stage/Dockerfile": {
			Original:  templates.Build{OK: true, Smoke: build.Smoke{Ran: true, ExitCode: 1, Reason: "exited with code 1 after 0.2 s", Output: "Error: connect ECONNREFUSED `db`:5432\n"}},
			Optimized: templates.Build{OK: true, Smoke: build.Smoke{Ran: true, ExitCode: 1, Reason: "exited with code 1 after 0.2 s"}},
		},
		// Built only: no smoke run happened.
		"website/Dockerfile": {Original: templates.Build{OK: true}, Optimized: templates.Build{OK: true}},
		// A health check that can never pass, and a budget that ran out.
		"web/frontend/Dockerfile": {
			Original:  running,
			Optimized: templates.Build{OK: true, Smoke: build.Smoke{Skipped: "the 2m0s of smoke runs allowed per Dockerfile were spent"}},
			Rejected: &templates.Build{OK: true, Smoke: build.Smoke{Ran: true, Started: true, Healthcheck: true,
				Reason: "no health probe passed within 20s (19 tried); the last probe exited with code 127: /bin/sh: curl: not found"}},
		},
	}
	report, err := templates.Report(in)
	if err != nil {
		t.Fatal(err)
	}
	checkStructure(t, report, in)
	for path, want := range map[string][]string{
		"api/Dockerfile": {
			"- original: builds ✓, starts ✓, healthy ✓\n",
			"- with every fix: builds ✓, starts ✗ (exited with code 1 after 0.4 s): `ERROR: [Errno 13] error while attempting to bind on address ('0.0.0.0', 80): permission denied`; the fixes under \"Not applied\" were dropped for it\n",
			"- as proposed: builds ✓, starts ✓, healthy ✓\n",
		},
		"web/stage/Dockerfile": {
			"- original: builds ✓, starts ✗ (exited with code 1 after 0.2 s): ``Error: connect ECONNREFUSED `db`:5432``; it does not start without what it needs at run time",
			"no fix is blamed for it\n",
		},
		"web/frontend/Dockerfile": {
			"- original: builds ✓, starts ✓, no health check\n",
			"- with every fix: builds ✓, starts ✓, healthy ✗ (no health probe passed within 20s (19 tried); the last probe exited with code 127: /bin/sh: curl: not found)",
			"- as proposed: builds ✓, start not checked (the 2m0s of smoke runs allowed per Dockerfile were spent)\n",
		},
	} {
		sec := section(t, report, path)
		if !strings.Contains(sec, "Checked on BuildKit:\n") {
			t.Errorf("%s: no BuildKit proof:\n%s", path, sec)
		}
		for _, w := range want {
			if !strings.Contains(sec, w) {
				t.Errorf("%s: missing %q in:\n%s", path, w, sec)
			}
		}
	}
	sec := section(t, report, "website/Dockerfile")
	_, block, _ := strings.Cut(sec, "Checked on BuildKit:\n")
	block, _, _ = strings.Cut(strings.TrimLeft(block, "\n"), "\n\n")
	if block != "- original: builds ✓\n- as proposed: builds ✓" {
		t.Errorf("a Dockerfile that was only built should say only that:\n%s", block)
	}

	// An original that ends by itself with success is a command, not a
	// service that failed.
	stage := in.Builds["web/stage/Dockerfile"]
	stage.Original.Smoke = build.Smoke{Ran: true, ExitCode: 0, Reason: "exited with code 0 after 0.0 s"}
	in.Builds["web/stage/Dockerfile"] = stage
	if report, err := templates.Report(in); err != nil || !strings.Contains(section(t, report, "web/stage/Dockerfile"),
		"- original: builds ✓, starts ✗ (exited with code 0 after 0.0 s); it ends by itself (a command rather than a service?), so starting proves nothing here and no fix is blamed for it\n") {
		t.Errorf("an original that exits 0 should read as a command: %v\n%s", err, section(t, report, "web/stage/Dockerfile"))
	}

	body, _, err := templates.PullRequestBody(in, ".dockopt/REPORT.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "- as proposed: builds ✓, starts ✓, healthy ✓") {
		t.Errorf("the PR body should carry the same proof:\n%s", body)
	}
}
