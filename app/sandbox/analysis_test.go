package sandbox_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/app/prbase"
	"github.com/dockopt/dockopt/app/review"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/app/verdict"
	"github.com/dockopt/dockopt/internal/buildkittest"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// hostileCheckout writes testfiles.HostileRepo to a folder with its
// links, as a clone keeps a repository's links.
func hostileCheckout(t *testing.T) string {
	files, links := testfiles.HostileRepo()
	dir := testfiles.Dir(t, files)
	for path, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, path)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestChildAndInProcessPublishTheSame: for the example repositories and a
// hostile one, what the child returns (pull-request title, body, commit
// message, REPORT.md, changed files, check-run output and annotations,
// review comments, fingerprints) is byte for byte what the same analysis
// returns in process, for a push against a baseline and for a pull
// request against its base.
func TestChildAndInProcessPublishTheSame(t *testing.T) {
	repos := map[string]string{}
	for _, name := range []string{"monorepo", "clean"} {
		repos[name] = filepath.Join("..", "..", "examples", name)
	}
	repos["hostile"] = hostileCheckout(t)
	for name, dir := range repos {
		t.Run(name, func(t *testing.T) {
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			cfg, err := analyzer.LoadConfig(root.FS())
			if err != nil {
				t.Fatal(err)
			}
			cfg.Ignore = append(cfg.Ignore, analyzer.IgnoreEntry{Rule: "healthcheck-missing", Reason: "waived by @alice with /dockopt ignore"})
			cfg.Warnings = append(cfg.Warnings, "an organization default warns")
			reqs := map[string]*sandbox.Request{
				"push": {Push: &verdict.Baseline{Known: true, Fingerprints: []string{"gone"}, Against: "`main` at `0123456789ab`"}},
				"pull": {PullRequest: &sandbox.PullRequest{Number: 7, BaseRef: "main",
					Changes: []prbase.Change{{Path: "svc/Dockerfile", Status: "modified", Patch: "@@ -1,2 +1,2 @@\n FROM debian:bookworm-slim\n-RUN apt-get update\n+RUN apt-get update && apt-get install -y curl\n"}},
					Diff:    review.Diff{"svc/Dockerfile": review.ParsePatch("@@ -1,2 +1,2 @@\n FROM debian:bookworm-slim\n-RUN apt-get update\n+RUN apt-get update && apt-get install -y curl\n")}}},
				"proposal": {},
				"discover": {Discover: true},
			}
			for kind, req := range reqs {
				req.Version, req.Title, req.Config = sandbox.Version, "acme/"+name, cfg
				req.ReportURL, req.ReportPath = "https://github.com/acme/"+name+"/blob/dockopt/main/.dockopt/REPORT.md", ".dockopt/REPORT.md"
				in, err := sandbox.Analyze(context.Background(), dir, root.FS(), req)
				if err != nil {
					t.Fatalf("%s in process: %v", kind, err)
				}
				child, err := runner(1024, time.Minute).Analyze(context.Background(), dir, req, 64<<20)
				if err != nil {
					t.Fatalf("%s in a child: %v", kind, err)
				}
				child.Elapsed, child.PeakRSSKiB = 0, 0
				a, _ := json.MarshalIndent(in, "", " ")
				b, _ := json.MarshalIndent(child, "", " ")
				if string(a) != string(b) {
					t.Errorf("%s: the child's result differs from the in-process one:\n%s", kind, firstDifference(string(a), string(b)))
				}
				if kind == "discover" {
					if len(in.Targets) == 0 {
						t.Errorf("discovery found no Dockerfiles")
					}
					continue
				}
				if in.Body == "" || in.Dockerfiles == 0 || (kind != "proposal") != (in.Check != nil) {
					t.Errorf("%s: an empty result: %d Dockerfiles, body %d bytes, check %v", kind, in.Dockerfiles, len(in.Body), in.Check != nil)
				}
				for _, text := range []string{in.Body, in.Report, checkText(in)} {
					if strings.Contains(text, "root:x:0:0") {
						t.Errorf("%s: the result quotes a file from outside the repository", kind)
					}
				}
				t.Logf("%s: %d Dockerfiles, %d findings, %d changes, body %d B, result %d B", kind, in.Dockerfiles, in.Findings, len(in.Changes), len(in.Body), len(b))
			}
		})
	}
}

func checkText(r *sandbox.Result) string {
	if r.Check == nil {
		return ""
	}
	return r.Check.Output.Summary + r.Check.Output.Text
}

// firstDifference shows where two texts part.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n  in process: " + al[i] + "\n  child:      " + bl[i]
		}
	}
	return "one is longer"
}

// TestChildBuildsWithTheWorkersBuilder: with a builder, the child builds
// the original and the optimized image on it (the builds' measurements
// and a fix they drop must be in what is published), within the time
// budget of the analysis plus the builds.
func TestChildBuildsWithTheWorkersBuilder(t *testing.T) {
	env := buildkittest.Start(t)
	dir := testfiles.Dir(t, map[string]string{
		// An ADD BuildKit expands is built too: the child has no internet
		// sockets, so the frontend cannot connect to a git host from it.
		"app/Dockerfile":    "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nARG GREETING=hello.txt\nADD ${GREETING} /hello\n",
		"app/hello.txt":     "hello\n",
		"app/.dockerignore": ".git\n",
	})
	req := request(nil)
	req.BuildKitAddr, req.BuildTimeout = env.Addr, 2*time.Minute
	res, err := runner(1024, time.Minute).Analyze(context.Background(), dir, req, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) == 0 || !strings.Contains(res.Body, "original: builds ✓") || !strings.Contains(res.Body, "measured") {
		t.Errorf("the pull-request body does not show the builds:\n%s", res.Body)
	}
	t.Logf("analysis and two builds in a child: %s, peak %d MiB", res.Elapsed.Round(time.Millisecond), res.PeakRSSKiB>>10)
}

// TestConfigurationCrossesIntact: every setting of an effective
// configuration (an organization's default under a repository's file,
// with waivers) reaches the child as it is.
func TestConfigurationCrossesIntact(t *testing.T) {
	org, err := analyzer.ParseConfig(".github/dockopt.yml", []byte(`checks: {fail_on: all}
rules:
  apt-pin-versions: off
  hadolint:DL3008: {severity: info, ignore_paths: [legacy/**]}
ignore_paths: [vendor/**]
inline_ignores: false
failure_threshold: error
fixes: {apply: safe}
output: {mode: sibling}
pull_request: {labels: [docker], reviewers: [alice], draft: true}
compose: {harden: true}
trusted_registries: [docker.io]
label_schema: {maintainer: email}
strict_labels: true
`))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := analyzer.ParseConfig(".github/dockopt.yml", []byte("ignore:\n  - {rule: healthcheck-missing, path: api/Dockerfile, reason: not a service}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := analyzer.Merge(org, repo)
	cfg.Warnings = []string{"a warning"}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back analyzer.Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(b) {
		t.Errorf("the configuration changed on its way:\n%s\n%s", b, again)
	}
	if back.FailOn() != "all" || back.Threshold() != analyzer.SeverityError || back.InlineIgnoresEnabled() || back.Fixes.Apply != analyzer.Safe ||
		back.Output.Mode != "sibling" || !back.Compose.Harden || !back.PullRequest.Draft || len(back.Ignore) != 1 || len(back.Rules) != 2 ||
		*back.Rules["hadolint:DL3008"].Severity != analyzer.SeverityInfo || !back.StrictLabels || len(back.Warnings) != 1 {
		t.Errorf("settings lost: %s", again)
	}
}
