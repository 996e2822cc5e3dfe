package rules

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

// TestDepsCopiedAfterSourceSpellings: the rule reads its installs from the
// package-manager table, so it recognises every spelling npm accepts (it
// used to know ci, install and i only) and stays quiet for named packages.
func TestDepsCopiedAfterSourceSpellings(t *testing.T) {
	a := analyzer.New(All())
	fsys := fstest.MapFS{
		"package.json":      &fstest.MapFile{Data: []byte(`{"name":"x"}`)},
		"package-lock.json": &fstest.MapFile{Data: []byte(`{}`)},
	}
	bc := analyzer.ContextFor(fsys, "Dockerfile", ".")
	fires := func(run string) bool {
		src := []byte("FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN " + run + "\n")
		fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", src, bc, nil)
		if fr.Error != "" {
			t.Fatalf("%s: %s", run, fr.Error)
		}
		return slices.ContainsFunc(fr.Findings, func(f analyzer.Finding) bool { return f.Rule == DepsCopiedAfterSource.ID })
	}
	for _, sub := range slices.Concat(analyzer.Npm.Install, analyzer.Npm.Frozen) {
		if !fires("npm " + sub) {
			t.Errorf("npm %s after COPY . . is not reported", sub)
		}
	}
	for _, run := range []string{"npm install left-pad", "npm add left-pad", "npm install -g pm2", "npm run build"} {
		if fires(run) {
			t.Errorf("%s is reported, but it does not install from the manifest", run)
		}
	}
}
