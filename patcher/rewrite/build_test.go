package rewrite

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/buildkittest"
	"github.com/dockopt/dockopt/internal/testfiles"
	"github.com/dockopt/dockopt/patcher/build"
)

// fakeNPM stands in for npm in the test's node image, which has none: an
// install writes 3 MB of incompressible "dependencies", a build writes a
// Vite-like dist/ folder. That is the shape that matters: a single-stage
// image ships both, the rewrite ships only dist/.
const fakeNPM = `#!/bin/sh
set -e
case "$1" in
ci|install)
	mkdir -p node_modules/vite
	head -c 3000000 /dev/urandom > node_modules/vite/vite.bin
	;;
run)
	mkdir -p dist/assets
	cp index.html dist/index.html
	echo 'console.log("shop")' > dist/assets/index-B6Xy3kQa.js
	;;
*)
	echo "fake npm: $*" >&2
	exit 1
	;;
esac
`

// TestStaticSiteBuilds builds a static site before and after the rewrite
// on a real buildkitd and compares what was measured.
func TestStaticSiteBuilds(t *testing.T) {
	env := buildkittest.Start(t)
	node := buildkittest.DefaultImages()["library/node:20"]
	node.Files = map[string]string{"/usr/local/bin/npm": fakeNPM}
	if err := env.AddImage("library/node:20", node); err != nil {
		t.Fatal(err)
	}
	nginx := buildkittest.DefaultImages()["nginxinc/nginx-unprivileged:1.27-alpine"]
	if err := env.AddImage(NginxImage, nginx); err != nil {
		t.Fatal(err)
	}

	files := map[string]string{
		"Dockerfile": "" +
			"FROM node:20\n" +
			"WORKDIR /app\n" +
			"COPY . .\n" +
			"RUN npm ci\n" +
			"RUN npm run build\n" +
			"EXPOSE 3000\n" +
			"CMD [\"npx\", \"serve\", \"-s\", \"dist\", \"-l\", \"3000\"]\n",
		"package.json":      `{"name": "shop", "scripts": {"build": "vite build"}, "dependencies": {"react": "^18.3.1"}, "devDependencies": {"vite": "^5.4.0"}}`,
		"package-lock.json": `{"lockfileVersion": 3, "packages": {}}`,
		"index.html":        "<!doctype html><div id=\"root\"></div>\n",
	}
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	fr := analyze(t, analyzer.New(rules.All()), fsys)
	rw, ok := Plan(fr)
	if !ok {
		t.Fatalf("no rewrite for a single-stage Vite site served by serve (kind %s)", fr.Kind)
	}

	before := testfiles.Dir(t, files)
	afterFiles := map[string]string{}
	for name, content := range files {
		afterFiles[name] = content
	}
	afterFiles["Dockerfile"] = string(rw.Content)
	for _, g := range rw.Files {
		afterFiles[g.Path] = g.Content
	}
	after := testfiles.Dir(t, afterFiles)

	b := &build.Builder{Addr: env.Addr, Timeout: 3 * time.Minute}
	ctx := context.Background()
	measure := func(name, dir string) build.Result {
		t.Helper()
		res, err := b.Build(ctx, build.Request{ContextDir: dir, NoCache: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !res.OK {
			t.Fatalf("%s did not build:\n%s", name, res.Error)
		}
		t.Logf("%s: %d bytes compressed, %d layers, user %q, built in %s", name, res.CompressedSize, res.Layers, res.User, res.Duration.Round(time.Millisecond))
		return res
	}
	orig := measure("original", before)
	opt := measure("rewritten", after)

	if opt.User == "" || opt.User == "root" || opt.User == "0" {
		t.Errorf("rewritten image runs as %q, want a non-root user", opt.User)
	}
	if opt.User != "nginx" {
		t.Errorf("rewritten image user = %q, want nginx as the Dockerfile states", opt.User)
	}
	if orig.User != "" {
		t.Errorf("original image user = %q, want root (the test's premise)", orig.User)
	}
	if opt.CompressedSize >= orig.CompressedSize {
		t.Errorf("rewritten image is %d bytes, original %d: want smaller", opt.CompressedSize, orig.CompressedSize)
	}
	// The dependencies are 3 MB of random bytes: the difference must be
	// at least most of them, or node_modules is still shipped.
	if saved := orig.CompressedSize - opt.CompressedSize; saved < 2_500_000 {
		t.Errorf("saved %d bytes, want at least the 3 MB of dependencies less what nginx adds", saved)
	}
}
