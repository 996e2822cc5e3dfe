package rewrite

import (
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// TestRealShapes runs the rewrites over the repositories shaped like the
// ones issue #11 reviewed (analyzer/testdata/realshapes) and the examples:
// official-image style base images, a generated variant tree, servers,
// a devcontainer, Windows, test fixtures. It pins which files get a
// rewrite (every other file gets none, or a withheld one, never a change)
// and holds each rewrite offered to what a maintainer would merge.
func TestRealShapes(t *testing.T) {
	want := map[string]string{
		"realshapes/app-with-fixtures/Dockerfile": "rewrite",
		"examples/monorepo/api/Dockerfile":        "rewrite",
		"examples/monorepo/web/stage/Dockerfile":  "rewrite",
		"examples/monorepo/website/Dockerfile":    "rewrite",
		// npm run dev runs nodemon: a development setup, withheld with
		// its reason rather than left without one.
		"realshapes/devcontainer/Dockerfile.dev": "withheld:role",
	}
	a := analyzer.New(rules.All())
	seen := 0
	for _, root := range []string{"../../analyzer/testdata/realshapes", "../../examples"} {
		res, err := a.Analyze(t.Context(), os.DirFS(root), ".", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range res.Files {
			name := path.Join(path.Base(root), fr.Path)
			seen++
			rw, withheld := Plan(fr)
			got := "none"
			switch {
			case rw != nil:
				got = "rewrite"
			case withheld != nil:
				got = "withheld:" + string(withheld.Precondition)
			}
			if w := want[name]; got != w && !(w == "" && got == "none") {
				t.Errorf("%s: %s, want %s", name, got, orNone(w))
			}
			if rw == nil {
				continue
			}
			f := fr.Facts()
			if ok, why := f.RuntimeChangeAllowed(fr.Dockerfile.FinalStage()); !ok {
				t.Errorf("%s: a rewrite of a file that takes no runtime change: %s", name, why)
			}
			checkRuntimeStage(t, fr, rw)
			checkCopiesOnlyWhatTheOriginalDid(t, name, fr, rw)
		}
	}
	if seen < 25 {
		t.Errorf("analyzed %d Dockerfiles; the fixtures hold more", seen)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkCopiesOnlyWhatTheOriginalDid: the runtime stage of a service
// rewrite copies from the context only what the original copied (tests
// and fixtures that the original left out stay out).
func checkCopiesOnlyWhatTheOriginalDid(t *testing.T, name string, fr *analyzer.FileResult, rw *Rewrite) {
	t.Helper()
	if rw.Kind == analyzer.KindStaticSite {
		return
	}
	var orig []string
	for in := range fr.Dockerfile.Each("COPY") {
		orig = append(orig, in.Args[:len(in.Args)-1]...)
	}
	for in := range fr.Dockerfile.Each("ADD") {
		orig = append(orig, in.Args[:len(in.Args)-1]...)
	}
	d, err := analyzer.Parse("Dockerfile", rw.Content)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range d.FinalStage().Instructions {
		if in.Keyword != "COPY" {
			continue
		}
		if _, from := in.Flag("from"); from {
			continue
		}
		for _, src := range in.Args[:len(in.Args)-1] {
			if !slices.ContainsFunc(orig, func(o string) bool { return strings.TrimSuffix(o, "/") == strings.TrimSuffix(src, "/") }) {
				t.Errorf("%s: the runtime copies %s, which the original did not copy", name, src)
			}
		}
	}
}
