package analyzer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dockopt/dockopt/internal/testfiles"
)

// composeMovedRepo is a repository whose compose file builds
// docker/app/Dockerfile from the root, beside web/Dockerfile built from
// its folder, with links that leave it: one in each Dockerfile's folder
// that its own-folder context reads (.dockerignore) and one generator
// script beside docker/app/Dockerfile that every analysis of it reads.
func composeMovedRepo(t *testing.T) *os.Root {
	t.Helper()
	dir := testfiles.Dir(t, map[string]string{
		"outside/ignore":             "SECRET\n",
		"repo/compose.yaml":          "services:\n  app:\n    build:\n      context: .\n      dockerfile: docker/app/Dockerfile\n",
		"repo/docker/app/Dockerfile": "FROM node:20\nCOPY . /app\nCMD [\"node\", \"/app\"]\n",
		"repo/package.json":          "{\"name\": \"shop\"}\n",
		"repo/web/Dockerfile":        "FROM nginx:1.27\nCOPY . /usr/share/nginx/html\n",
	})
	for name, target := range map[string]string{
		"docker/app/.dockerignore": "../../../outside/ignore",
		"docker/app/generate.sh":   "../../../outside/ignore",
		"web/.dockerignore":        "../../outside/ignore",
	} {
		if err := os.Symlink(target, filepath.Join(dir, "repo", filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// TestEarlyAnalysesLeaveNoTrace: Analyze starts on each Dockerfile as soon
// as the walk lists its folder, before compose files may give it another
// context. Here both early analyses end before the walk starts, so the
// order is fixed: web/Dockerfile's is taken as it is; docker/app's, made
// with its folder as context, is thrown away for the root's context, and
// the link only it met (docker/app/.dockerignore) is not listed as
// unread, while those analyses that count met are. The result is the one
// the walk-then-analyze order gives.
func TestEarlyAnalysesLeaveNoTrace(t *testing.T) {
	root := composeMovedRepo(t)
	c, err := New(nil).Configure(nil)
	if err != nil {
		t.Fatal(err)
	}
	run := c.newRun(recording(root.FS()))
	early := run.startEarly(t.Context())
	early.offer("docker/app/Dockerfile")
	early.offer("web/Dockerfile")
	for _, f := range early.byPath {
		<-f.done
	}
	targets, err := discover(t.Context(), run.rec, ".", c.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	early.close()
	res, err := run.analyze(t.Context(), targets, early)
	if err != nil {
		t.Fatal(err)
	}
	early.wait()

	if res.Files[1] != early.byPath["web/Dockerfile"].fr {
		t.Error("web/Dockerfile was analyzed again; its early analysis had its context")
	}
	if res.Files[0] == early.byPath["docker/app/Dockerfile"].fr {
		t.Error("docker/app/Dockerfile's early analysis, with its folder as context, was taken")
	}
	app := res.Files[0]
	if app.Path != "docker/app/Dockerfile" || app.Context != "." || app.Compose != "compose.yaml" || app.Ecosystem != "node" {
		t.Errorf("docker/app/Dockerfile: context %q, compose %q, ecosystem %q; want the root's, from compose.yaml", app.Context, app.Compose, app.Ecosystem)
	}
	var unread []string
	for _, s := range res.Unread {
		unread = append(unread, s.Path)
	}
	if want := []string{"docker/app/generate.sh", "web/.dockerignore"}; !slices.Equal(unread, want) {
		t.Errorf("unread = %v, want %v", unread, want)
	}
	want, err := c.AnalyzeTargets(t.Context(), root.FS(), targets)
	if err != nil {
		t.Fatal(err)
	}
	if got, w := resultJSON(t, res), resultJSON(t, want); got != w {
		t.Errorf("with early analyses:\n%s\nwithout:\n%s", got, w)
	}
}

// TestAnalyzeRacingTheWalkGivesOneResult: however far the early analyses
// get before the walk ends, Analyze gives what Discover then
// AnalyzeTargets give.
func TestAnalyzeRacingTheWalkGivesOneResult(t *testing.T) {
	root := composeMovedRepo(t)
	a := New(nil)
	targets, err := Discover(t.Context(), root.FS(), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.AnalyzeTargets(t.Context(), root.FS(), targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		res, err := a.Analyze(t.Context(), root.FS(), ".", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := resultJSON(t, res), resultJSON(t, want); got != w {
			t.Fatalf("Analyze:\n%s\nDiscover+AnalyzeTargets:\n%s", got, w)
		}
	}
}

// resultJSON is what a report shows of a result.
func resultJSON(t *testing.T, res *Result) string {
	t.Helper()
	type file struct {
		Path, Context, Compose, Service, Kind, Ecosystem, Role, Error string
		Findings                                                      []Finding
	}
	var files []file
	for _, f := range res.Files {
		files = append(files, file{f.Path, f.Context, f.Compose, f.Service, string(f.Kind), f.Ecosystem, string(f.Role), f.Error, f.Findings})
	}
	b, err := json.MarshalIndent(struct {
		Files  []file
		Unread []Skipped
		Groups any
	}{files, res.Unread, res.Groups}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
