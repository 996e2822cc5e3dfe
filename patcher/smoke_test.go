package patcher_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/buildkittest"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/patcher/build"
)

// addBeforeStart is a test fixture: a rule that, when the final stage has
// no instruction of kind keyword, inserts the line line(stage) before its
// first CMD or ENTRYPOINT. It stands in for the real rules whose fixes
// are right for most images and wrong for some.
func addBeforeStart(id string, safety analyzer.Safety, keyword string, line func(*analyzer.Stage) string) *analyzer.Rule {
	return &analyzer.Rule{
		ID: id, Category: analyzer.CategoryReliability, Severity: analyzer.SeverityWarning,
		Title: "Test rule", Rationale: "A fixture whose fix is right for some images only.", Fix: safety,
		Check: func(p *analyzer.Pass) {
			final := p.File.FinalStage()
			var start *analyzer.Instruction
			for _, in := range final.Instructions {
				switch {
				case in.Keyword == keyword:
					return
				case start == nil && (in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT"):
					start = in
				}
			}
			text := line(final)
			if start == nil || text == "" {
				return
			}
			p.Report(start, "add "+keyword, &analyzer.Fix{Message: "add " + text,
				Edits: []analyzer.TextEdit{{Start: start.Start, End: start.Start, New: text + "\n"}}})
		},
	}
}

// smokeFixtures are fixes of the kinds issue 11 saw break images: a USER
// for an image that must bind :80 as root, a HTTP health check on the
// first EXPOSEd port whatever speaks there, a WORKDIR labelled safe, and
// a harmless label.
var smokeFixtures = []*analyzer.Rule{
	addBeforeStart("test-run-as-nobody", analyzer.Review, "USER", func(*analyzer.Stage) string { return "USER nobody" }),
	addBeforeStart("test-http-healthcheck", analyzer.Review, "HEALTHCHECK", func(st *analyzer.Stage) string {
		for _, in := range st.Instructions {
			if in.Keyword == "EXPOSE" && len(in.Args) > 0 {
				port, _, _ := strings.Cut(in.Args[0], "/")
				return "HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:" + port + "/ || exit 1"
			}
		}
		return ""
	}),
	addBeforeStart("test-title-label", analyzer.Safe, "LABEL", func(*analyzer.Stage) string {
		return `LABEL org.opencontainers.image.title="smoke"`
	}),
	// Safe by its label, wrong for a command given relative to /.
	addBeforeStart("test-workdir", analyzer.Safe, "WORKDIR", func(*analyzer.Stage) string { return "WORKDIR /srv" }),
}

// smokeRepo holds one Dockerfile per case of TestStartVerification.
var smokeRepo = map[string]string{
	// Starts and is healthy as root on :80; as nobody it cannot bind.
	"web/Dockerfile": "FROM alpine:3.20\n" +
		"RUN mkdir /www && echo ok > /www/index.html\n" +
		"EXPOSE 80\n" +
		"HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1/ || exit 1\n" +
		"CMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n",
	// Serves HTTP on 8080, but its first EXPOSE is a database port.
	"worker/Dockerfile": "FROM alpine:3.20\n" +
		"RUN mkdir /www && echo ok > /www/index.html\n" +
		"EXPOSE 5432 8080\n" +
		"USER nobody\n" +
		"CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
	// Needs its database, which a smoke run (no network) never has.
	"client/Dockerfile": "FROM alpine:3.20\n" +
		"CMD [\"sh\", \"-c\", \"wget -q -O /dev/null http://192.0.2.10:5432/ || { echo cannot reach the database at 192.0.2.10:5432 >&2; exit 1; }; exec sleep 600\"]\n",
	// Starts its program by a path relative to /, the default WORKDIR.
	"relative/Dockerfile": "FROM alpine:3.20\n" +
		"RUN printf '#!/bin/sh\\nexec sleep 600\\n' > /serve && chmod +x /serve\n" +
		"CMD [\"./serve\"]\n",
	// No shell at all: busybox only under the names of its two tools.
	"static/Dockerfile": "FROM alpine:3.20 AS tools\n" +
		"FROM scratch\n" +
		"COPY --from=tools /bin/busybox /app/httpd\n" +
		"COPY --from=tools /bin/busybox /app/wget\n" +
		"USER 65534\n" +
		"HEALTHCHECK CMD [\"/app/wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/httpd\"]\n" +
		"ENTRYPOINT [\"/app/httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/app\"]\n",
}

// TestStartVerification starts original and optimized images on a real
// buildkitd: a fix under which the original starts (and is healthy) and
// the optimized image does not is dropped and reported; an original that
// does not start blames no fix.
func TestStartVerification(t *testing.T) {
	env := buildkittest.Start(t)
	dir, a, pr, opts := patchRepo(t, smokeRepo, smokeFixtures)
	b := &build.Builder{Addr: env.Addr, Smoke: build.SmokeOptions{Grace: time.Second, Timeout: 5 * time.Second}}
	reports := map[string]patcher.BuildReport{}
	for _, rep := range patcher.VerifyBuilds(context.Background(), b, dir, a, pr, nil, opts) {
		if rep.Err != nil {
			t.Fatalf("%s: %v", rep.Path, rep.Err)
		}
		t.Logf("%s: original %+v\noptimized %+v\nretried: %s", rep.Path, rep.Original.Smoke, rep.Optimized.Smoke, rep.Retried)
		reports[rep.Path] = rep
	}
	files := map[string]*patcher.File{}
	for _, f := range pr.Files {
		files[f.Path] = f
	}
	applied := func(f *patcher.File) (rules []string) {
		for _, a := range f.Applied {
			rules = append(rules, a.Rule)
		}
		return rules
	}
	dropped := func(f *patcher.File) map[string]string {
		m := map[string]string{}
		for _, d := range f.Dropped {
			if m[d.Rule] != "" {
				t.Errorf("%s: %s dropped twice: %q and %q", f.Path, d.Rule, m[d.Rule], d.Reason)
			}
			m[d.Rule] = d.Reason
		}
		return m
	}

	t.Run("a USER that cannot bind :80 is dropped", func(t *testing.T) {
		rep, f := reports["web/Dockerfile"], files["web/Dockerfile"]
		if !rep.Original.Smoke.Proven() {
			t.Fatalf("the original should start and become healthy: %+v", rep.Original.Smoke)
		}
		if rep.Rejected == nil || rep.Rejected.Smoke.Started || !strings.Contains(rep.Rejected.Smoke.Output, "Permission denied") {
			t.Errorf("the rejected image should have died for want of :80, with httpd's message: %+v", rep.Rejected)
		}
		if got := dropped(f)["test-run-as-nobody"]; got != patcher.ReasonStartFailure {
			t.Errorf("USER fix dropped with %q, want %q", got, patcher.ReasonStartFailure)
		}
		if rep.Retried != "review fixes dropped: the optimized image did not start with them" {
			t.Errorf("Retried = %q", rep.Retried)
		}
		if strings.Contains(string(f.Patched), "USER") || !strings.Contains(string(f.Patched), "LABEL") {
			t.Errorf("want the label and no USER:\n%s", f.Patched)
		}
		if !rep.Optimized.Smoke.Proven() {
			t.Errorf("what is proposed should start and become healthy: %+v", rep.Optimized.Smoke)
		}
	})

	t.Run("a health check that can never pass is dropped", func(t *testing.T) {
		rep, f := reports["worker/Dockerfile"], files["worker/Dockerfile"]
		if o := rep.Original.Smoke; !o.Proven() || o.Healthcheck {
			t.Fatalf("the original should start, with no health check: %+v", o)
		}
		if rep.Rejected == nil || !rep.Rejected.Smoke.Started || rep.Rejected.Smoke.Healthy ||
			!strings.Contains(rep.Rejected.Smoke.Reason, "no health probe passed") || !strings.Contains(rep.Rejected.Smoke.Reason, "Connection refused") {
			t.Errorf("the rejected image should have run but never passed its probe: %+v", rep.Rejected)
		}
		if got := dropped(f)["test-http-healthcheck"]; got != patcher.ReasonUnhealthy {
			t.Errorf("HEALTHCHECK fix dropped with %q, want %q", got, patcher.ReasonUnhealthy)
		}
		if got := strings.Join(applied(f), " "); got != "test-title-label test-workdir" && got != "test-workdir test-title-label" {
			t.Errorf("applied %v, want the label and the WORKDIR", got)
		}
	})

	t.Run("an original that does not start blames no fix", func(t *testing.T) {
		rep, f := reports["client/Dockerfile"], files["client/Dockerfile"]
		o := rep.Original.Smoke
		if !o.Ran || o.Started || o.ExitCode != 1 || !strings.Contains(o.Output, "cannot reach the database") {
			t.Fatalf("the original should have exited 1 for want of its database: %+v", o)
		}
		if rep.Rejected != nil || rep.Retried != "" || len(f.Dropped) != 0 {
			t.Errorf("nothing should be dropped: rejected %+v, retried %q, dropped %+v", rep.Rejected, rep.Retried, f.Dropped)
		}
		if got := applied(f); len(got) != 3 {
			t.Errorf("applied %v, want the USER, the label and the WORKDIR", got)
		}
	})

	t.Run("an image without a shell", func(t *testing.T) {
		rep, f := reports["static/Dockerfile"], files["static/Dockerfile"]
		for name, r := range map[string]build.Result{"original": rep.Original, "optimized": rep.Optimized} {
			if s := r.Smoke; !s.Healthcheck || !s.Proven() {
				t.Errorf("%s should start and become healthy: %+v", name, s)
			}
		}
		if rep.Rejected != nil || len(f.Dropped) != 0 || !strings.Contains(string(f.Patched), "LABEL") {
			t.Errorf("the label should be kept and nothing dropped: %+v\n%s", f.Dropped, f.Patched)
		}
	})

	t.Run("a safe fix that breaks the start is found alone", func(t *testing.T) {
		rep, f := reports["relative/Dockerfile"], files["relative/Dockerfile"]
		if !rep.Original.Smoke.Proven() || rep.Rejected == nil || rep.Rejected.Smoke.Started {
			t.Fatalf("the original should start and the full patch not: %+v / %+v", rep.Original.Smoke, rep.Rejected)
		}
		d := dropped(f)
		if len(d) != 1 || d["test-workdir"] != patcher.ReasonStartFailure {
			t.Errorf("want only the WORKDIR dropped, for the start: %+v", f.Dropped)
		}
		if got := applied(f); len(got) != 2 {
			t.Errorf("applied %v, want the label and the USER kept", got)
		}
		if rep.Retried != "fixes of test-workdir dropped: the optimized image did not start with them" || !rep.Optimized.Smoke.Proven() {
			t.Errorf("retried %q, optimized %+v", rep.Retried, rep.Optimized.Smoke)
		}
	})

	if len(pr.Changes) != len(smokeRepo) {
		t.Errorf("want every Dockerfile changed, got %d changes", len(pr.Changes))
	}
}

// TestStartVerificationBudget: once a Dockerfile's smoke budget is spent,
// a variant that cannot be started is not proven, so no fix is proposed.
func TestStartVerificationBudget(t *testing.T) {
	env := buildkittest.Start(t)
	dir, a, pr, opts := patchRepo(t, map[string]string{"web/Dockerfile": smokeRepo["web/Dockerfile"]}, smokeFixtures)
	// Room for one run: the original's.
	b := &build.Builder{Addr: env.Addr, Smoke: build.SmokeOptions{Grace: time.Second, Timeout: 5 * time.Second, PerFile: 5 * time.Second}}
	// A relative root, as `dockopt analyze --buildkit examples/x` gives.
	t.Chdir(filepath.Dir(dir))
	reps := patcher.VerifyBuilds(context.Background(), b, filepath.Base(dir), a, pr, nil, opts)
	if len(reps) != 1 || reps[0].Err != nil {
		t.Fatalf("reports: %+v", reps)
	}
	rep := reps[0]
	if !rep.Original.Smoke.Proven() || rep.Rejected == nil || rep.Rejected.Smoke.Ran || !strings.Contains(rep.Rejected.Smoke.Skipped, "spent") {
		t.Fatalf("want the original proven and the optimized image unchecked: %+v / %+v", rep.Original.Smoke, rep.Rejected)
	}
	f := pr.Files[0]
	if f.Changed() || len(pr.Changes) != 0 {
		t.Errorf("an unproven file should be left as it is:\n%s", f.Patched)
	}
	for _, d := range f.Dropped {
		if d.Reason != patcher.ReasonStartUnchecked {
			t.Errorf("%s dropped with %q, want %q", d.Rule, d.Reason, patcher.ReasonStartUnchecked)
		}
	}
	if len(f.Dropped) != len(smokeFixtures)-1 || rep.Retried != "every fix dropped: the optimized image could not be started to check it" {
		t.Errorf("dropped %+v, retried %q", f.Dropped, rep.Retried)
	}
}
