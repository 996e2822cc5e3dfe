package rules

import (
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// runtimeRules are the rules whose fixes change how a container runs:
// its user, health check, init, ENTRYPOINT or CMD, environment.
var runtimeRules = []string{"exec-form-cmd", "final-user-root", "healthcheck-missing", "init-process-missing",
	"last-user-not-root", "python-env-missing", "single-healthcheck", "user-non-numeric"}

// TestRealShapesRuntimeChanges runs the catalog over the repositories of
// analyzer/testdata/realshapes, each written in the style of a case issue
// 11 saw broken, and holds the runtime rules to two things: only the
// fixes listed are offered, and every one offered keeps the promises a
// runtime change must keep (checkRuntimeFix).
func TestRealShapesRuntimeChanges(t *testing.T) {
	cases := []struct {
		shape, file string
		// fixes are the runtime rules that still offer a fix.
		fixes []string
		// breakage is what issue 11 saw proposed for images of this shape.
		breakage string
	}{
		{"redis-official", "Dockerfile", nil, "USER over a gosu entrypoint; an HTTP probe of the Redis port"},
		{"postgres-variants", "16/bookworm/Dockerfile", nil, "edits to a generated variant; USER over gosu; an HTTP probe of PostgreSQL"},
		{"postgres-variants", "16/alpine3.20/Dockerfile", nil, "edits to a generated variant; USER over su-exec; busybox wget against PostgreSQL"},
		{"postgres-variants", "17/bookworm/Dockerfile", nil, "edits to a generated variant"},
		{"memcached", "Dockerfile", nil, "runtime changes in an official-image style base; a probe of the memcached port"},
		{"grpc-service", "Dockerfile", []string{"healthcheck-missing"}, "an HTTP probe of a gRPC port"},
		{"node-alpine", "Dockerfile", []string{"healthcheck-missing"}, "a probe of / that the app answers with 404; USER over a root-owned app directory"},
		{"devcontainer", ".devcontainer/Dockerfile", nil, "runtime changes in a devcontainer"},
		{"devcontainer", "Dockerfile.dev", nil, "USER and an init in a dev image"},
		{"devcontainer", "Dockerfile", []string{"init-process-missing"}, "tini replacing node's docker-entrypoint.sh; USER over a root-owned /app"},
		{"windows-node", "Dockerfile", nil, "USER node on Windows nanoserver"},
		{"apache-php", "Dockerfile", []string{"healthcheck-missing"}, "USER for an image that binds :80 as root"},
		{"tomcat-war", "Dockerfile", nil, "USER for an image whose server writes root-owned webapps"},
		{"git-ssh", "Dockerfile", nil, "USER git for sshd; an HTTP probe of the SSH port"},
		{"dind-runner", "Dockerfile", nil, "USER for docker-in-docker"},
		{"base-images", "python/3.12/Dockerfile", nil, "USER and an init inherited by every child image"},
		{"base-images", "ci-toolbox/Dockerfile", nil, "USER in an image CI jobs run in"},
		{"app-with-fixtures", "test/e2e/Dockerfile", nil, "runtime changes in a test image"},
		{"app-with-fixtures", "testdata/fixtures/broken-base/Dockerfile", nil, "runtime changes in a fixture shaped on purpose"},
		{"app-with-fixtures", "Dockerfile", []string{"python-env-missing"}, "a TCP connect as a health check; USER over a root-owned /srv"},
		{"python-cache", "Dockerfile", []string{"python-env-missing"}, "a TCP connect as a health check; USER over a root-owned /app"},
	}
	a := analyzer.New(All())
	results := map[string]*analyzer.Result{}
	for _, c := range cases {
		t.Run(c.shape+"/"+c.file, func(t *testing.T) {
			res := results[c.shape]
			if res == nil {
				var err error
				res, err = a.Analyze(t.Context(), os.DirFS("../testdata/realshapes/"+c.shape), ".", nil)
				if err != nil {
					t.Fatal(err)
				}
				results[c.shape] = res
			}
			var fr *analyzer.FileResult
			for _, f := range res.Files {
				if f.Path == c.file {
					fr = f
				}
			}
			if fr == nil || fr.Error != "" {
				t.Fatalf("%s not analyzed: %+v", c.file, fr)
			}
			var offered []string
			for _, f := range fr.Findings {
				if !slices.Contains(runtimeRules, f.Rule) || f.Fix == nil || len(f.Fix.Edits) == 0 {
					continue
				}
				offered = append(offered, f.Rule)
				checkRuntimeFix(t, fr, f)
			}
			slices.Sort(offered)
			if !slices.Equal(offered, c.fixes) {
				t.Errorf("runtime fixes offered: %v, want %v (issue 11 saw: %s)", offered, c.fixes, c.breakage)
			}
		})
	}
}

var (
	probeURL    = regexp.MustCompile(`http://(?:127\.0\.0\.1|localhost)(?::(\d+))?/`)
	installLine = regexp.MustCompile(`\b(apk add|apt-get install|apt install|dnf install|yum install|microdnf install|zypper install)\b`)
)

// busyboxWgetFlags are the wget options busybox's applet accepts that a
// probe may use.
var busyboxWgetFlags = map[string]bool{"-q": true, "-S": true, "-O": true, "-T": true, "--spider": true}

// checkRuntimeFix applies one runtime fix to the file and checks the
// result against the facts of the original and of the fixed file: a new
// USER only where the entrypoint does not switch users, no low port is
// bound, the account exists and can write what the app writes; package
// installs only as root; a HEALTHCHECK only with a tool the image has,
// over HTTP only where the port speaks HTTP, with flags busybox knows;
// an ENTRYPOINT only in front of the one the image had.
func checkRuntimeFix(t *testing.T, fr *analyzer.FileResult, f analyzer.Finding) {
	t.Helper()
	src := fr.Dockerfile.Source
	fixed, err := analyzer.ApplyEdits(src, f.Fix.Edits)
	if err != nil {
		t.Fatalf("%s: %v", f.Rule, err)
	}
	before := fr.Facts()
	if role := before.Role(); role.Role != analyzer.RoleApplication || before.Generated().Generated {
		t.Errorf("%s: a runtime fix for a %s image (%s)", f.Rule, role.Role, role.Why)
	}
	after, err := analyzer.New(nil).AnalyzeSource(t.Context(), fr.Path, fixed, fr.BuildContext, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.Error != "" {
		t.Fatalf("%s: the fixed file does not parse: %s\n%s", f.Rule, after.Error, fixed)
	}
	old, now := before.Final(), after.Facts().Final()
	added := func(in *analyzer.Instruction) bool { return !strings.Contains(string(src), in.Text(fixed)) }
	for _, in := range after.Dockerfile.FinalStage().LineageInstructions() {
		if !added(in) {
			continue
		}
		switch c := in.Command.(type) {
		case *instructions.UserCommand:
			ep := old.Entrypoint()
			if ep.SwitchesUser != analyzer.Absent || ep.NeedsRoot == analyzer.Present {
				t.Errorf("%s: USER %s although the start switches users or needs root (%s)", f.Rule, c.User, ep.Why)
			}
			if port, why := old.PrivilegedPort(); port > 0 {
				t.Errorf("%s: USER %s although %s", f.Rule, c.User, why)
			}
			if p, why := now.UserExistsAt(0, c.User); p != analyzer.Present {
				t.Errorf("%s: USER %s, an account not known to exist (%s)", f.Rule, c.User, why)
			}
			account, _, _ := strings.Cut(c.User, ":")
			for _, wp := range now.WrittenPaths() {
				if wp.Owner != account && !wp.WorldWritable {
					t.Errorf("%s: USER %s cannot write %s (%v), owned by %q", f.Rule, c.User, wp.Path, wp.Why, wp.Owner)
				}
			}
		case *instructions.RunCommand:
			if installLine.MatchString(in.Text(fixed)) {
				if u := now.UserAt(in.StartLine); u.Root() != analyzer.Present {
					t.Errorf("%s: line %d installs packages as %q (%s)", f.Rule, in.StartLine, u.Name, u.Why)
				}
			}
		case *instructions.HealthCheckCommand:
			checkProbe(t, f.Rule, c.Health.Test, old, now)
		case *instructions.EntrypointCommand:
			words, set, known, why := old.InheritedEntrypoint()
			if !set && !known {
				t.Errorf("%s: a new ENTRYPOINT replaces one dockopt does not know (%s)", f.Rule, why)
			}
			if joined := strings.Join(c.CmdLine, " "); !strings.HasSuffix(joined, strings.Join(words, " ")) {
				t.Errorf("%s: ENTRYPOINT %q drops the base image's %q", f.Rule, joined, words)
			}
		}
	}
}

// checkProbe checks a HEALTHCHECK test: its program is in the finished
// image, an HTTP URL names a port that speaks HTTP, and busybox's wget
// gets only options it has.
func checkProbe(t *testing.T, rule string, test []string, old, now *analyzer.StageFacts) {
	t.Helper()
	if len(test) < 2 {
		t.Errorf("%s: HEALTHCHECK %q", rule, test)
		return
	}
	words := test[1:]
	if test[0] == "CMD-SHELL" {
		if p, why := now.ToolAt(0, "sh"); p != analyzer.Present {
			t.Errorf("%s: a shell-form HEALTHCHECK in an image without sh (%s)", rule, why)
		}
		words = strings.Fields(test[1])
	}
	tool := path.Base(words[0])
	st := now.Tool(0, tool)
	if st.Presence != analyzer.Present {
		t.Errorf("%s: the probe runs %s, which is not known to be in the image (%s)", rule, tool, st.Why)
	}
	if tool == "wget" && st.Busybox {
		for _, w := range words[1:] {
			if w == "2>&1" || w == "|" {
				break
			}
			if strings.HasPrefix(w, "-") && !busyboxWgetFlags[w] {
				t.Errorf("%s: busybox wget has no option %s", rule, w)
			}
		}
	}
	// An app need not serve /: an HTTP probe must pass on any answer.
	if probeURL.MatchString(strings.Join(words, " ")) {
		for _, w := range words[1:] {
			if tool == "curl" && (w == "--fail" || (strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "f"))) {
				t.Errorf("%s: curl %s fails when / answers with an error status", rule, w)
			}
		}
		if tool == "wget" && !slices.Contains(words, "-S") {
			t.Errorf("%s: wget without -S fails when / answers with an error status", rule)
		}
	}
	for _, m := range probeURL.FindAllStringSubmatch(strings.Join(words, " "), -1) {
		port := 80
		if m[1] != "" {
			port, _ = strconv.Atoi(m[1])
		}
		http := false
		for _, p := range old.Ports() {
			http = http || (p.Port == port && p.Protocol == analyzer.ProtoHTTP)
		}
		if !http {
			t.Errorf("%s: an HTTP probe of port %d, which is not known to speak HTTP (%+v)", rule, port, old.Ports())
		}
	}
}
