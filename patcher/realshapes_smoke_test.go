package patcher_test

import (
	"context"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/buildkittest"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/patcher/build"
)

// nodeStandIn is a node image for the realshapes: the stand-in images have
// busybox only, so node, npm, tini and the node image's own
// docker-entrypoint.sh are scripts that do what the shapes need of them.
// "node" serves HTTP the way the shapes' apps do, with no page at / (an
// express app whose routes are /healthz and /:ip answers / with 404).
func nodeStandIn() buildkittest.Image {
	im := buildkittest.DefaultImages()["library/node:20-alpine"]
	im.Files = map[string]string{
		"/usr/local/bin/node": "#!/bin/sh\nmkdir -p /tmp/www\nhttpd -p 8080 -h /tmp/www\nexec httpd -f -p 3000 -h /tmp/www\n",
		"/usr/local/bin/npm": "#!/bin/sh\necho \"npm (test stand-in) $*\"\n" +
			"case \"$*\" in \"run build\") mkdir -p dist && echo built > dist/server.js ;; esac\n",
		"/usr/local/bin/docker-entrypoint.sh": "#!/bin/sh\nexec \"$@\"\n",
		"/usr/bin/tini":                       "#!/bin/sh\nwhile [ \"${1#-}\" != \"$1\" ]; do shift; done\nexec \"$@\"\n",
	}
	im.Files["/sbin/tini"] = im.Files["/usr/bin/tini"]
	return im
}

// TestRealShapeRuntimeFixesStart builds and starts, on buildkitd, the
// realshapes whose runtime fixes are still offered and whose images the
// stand-ins can build: node-alpine's HEALTHCHECK (an HTTP probe of an app
// that answers / with 404 must pass) and the tini init of devcontainer's
// production target (tini in front of node's docker-entrypoint.sh). The
// optimized image must start and, with its HEALTHCHECK, become healthy;
// the fix must be applied, not dropped.
func TestRealShapeRuntimeFixesStart(t *testing.T) {
	env := buildkittest.Start(t)
	for _, ref := range []string{"node:20-alpine", "node:20-bookworm-slim"} {
		if err := env.AddImage(ref, nodeStandIn()); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		shape, rule string
		healthy     bool
		// offline replaces what needs the network, which builds here do
		// not have, with what leaves the same files.
		offline [2]string
	}{
		{"node-alpine", "healthcheck-missing", true,
			[2]string{`wget -q -O /usr/src/app/data/GeoLite2-City.mmdb "$GEOIP_URL"`, `touch /usr/src/app/data/GeoLite2-City.mmdb`}},
		{"devcontainer", "init-process-missing", false, [2]string{}},
	}
	for _, c := range cases {
		t.Run(c.shape, func(t *testing.T) {
			files := realShape(t, c.shape)
			if c.offline[0] != "" {
				if !strings.Contains(files["Dockerfile"], c.offline[0]) {
					t.Fatalf("the Dockerfile no longer holds %q", c.offline[0])
				}
				files["Dockerfile"] = strings.Replace(files["Dockerfile"], c.offline[0], c.offline[1], 1)
			}
			dir, a, pr, opts := patchRepo(t, files, rules.All())
			b := &build.Builder{Addr: env.Addr, Smoke: build.SmokeOptions{Grace: 2 * time.Second, Timeout: 20 * time.Second}}
			reps := patcher.VerifyBuilds(context.Background(), b, dir, a, pr, nil, opts)
			if len(reps) != 1 || reps[0].Err != nil {
				t.Fatalf("reports: %+v", reps)
			}
			rep := reps[0]
			t.Logf("original %+v\noptimized %+v\nrejected %+v\nretried %q", rep.Original.Smoke, rep.Optimized.Smoke, rep.Rejected, rep.Retried)
			f := pr.Files[0]
			if !rep.Original.OK || !rep.Optimized.OK {
				t.Fatalf("both images should build: original %s, optimized %s", rep.Original.Error, rep.Optimized.Error)
			}
			if s := rep.Optimized.Smoke; !s.Proven() || s.Healthcheck != c.healthy {
				t.Errorf("the optimized image should start (healthy: %v): %+v", c.healthy, s)
			}
			var applied []string
			for _, ap := range f.Applied {
				applied = append(applied, ap.Rule)
			}
			if !slices.Contains(applied, c.rule) {
				t.Errorf("%s should be applied; applied %v, dropped %+v\n%s", c.rule, applied, f.Dropped, f.Patched)
			}
		})
	}
}

// realShape reads a realshapes repository, leaving out Dockerfiles other
// than the root one (development images the stand-ins cannot build).
func realShape(t *testing.T, shape string) map[string]string {
	t.Helper()
	root := "../analyzer/testdata/realshapes/" + shape
	files := map[string]string{}
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if p != "Dockerfile" && (analyzer.IsDockerfileName(path.Base(p)) || strings.HasPrefix(p, ".devcontainer/")) {
			return nil
		}
		b, err := os.ReadFile(root + "/" + p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
