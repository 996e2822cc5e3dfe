package rewrite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/buildkittest"
	"github.com/dockopt/dockopt/patcher/build"
)

// The test images are busybox with accounts and package-manager
// stand-ins; the programs below stand in for the language tools and
// servers a rewrite wires together. They keep the checks that matter to
// whether a rewritten image starts: the files are where the start command
// looks for them, the dependencies were installed where the runtime
// finds them, the process can bind its port as the image's user, and the
// HEALTHCHECK reaches what listens.

// fakeNPM: an install writes 3 MB of incompressible "dependencies" and the
// packages package.json names, a build writes a Vite-like dist/ folder.
// That is the shape that matters for size: a single-stage image ships
// both, the static rewrite ships only dist/.
const fakeNPM = `#!/bin/sh
set -e
case "$1" in
ci|install)
	mkdir -p node_modules/vite
	head -c 3000000 /dev/urandom > node_modules/vite/vite.bin
	for m in $(sed -n 's/.*"\([a-z-]*\)": *"[0-9^~].*/\1/p' package.json); do mkdir -p "node_modules/$m"; done
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

// fakeNPX runs `serve [-s] DIR -l PORT` as busybox httpd.
const fakeNPX = `#!/bin/sh
shift
dir=. port=3000
while [ $# -gt 0 ]; do
	case $1 in
	-l|-p) port=$2; shift ;;
	-*) ;;
	*) dir=$1 ;;
	esac
	shift
done
exec httpd -f -p "$port" -h "$dir"
`

// fakeNginx serves the root of the one server in conf.d on its listen
// port; /healthz stands for the config's own "location = /healthz".
const fakeNginx = `#!/bin/sh
conf=/etc/nginx/conf.d/default.conf
port=$(sed -n 's/^ *listen \([0-9]*\);.*/\1/p' $conf | head -1)
root=$(sed -n 's/^ *root \([^;]*\);.*/\1/p' $conf | head -1)
[ -n "$port" ] && [ -f "$root/index.html" ] || { echo "nginx: bad config or empty root" >&2; exit 1; }
mkdir -p /tmp/www && cp -r "$root/." /tmp/www/
grep -q 'location = /healthz' $conf && echo ok > /tmp/www/healthz
exec httpd -f -p "$port" -h /tmp/www
`

// fakeNode: "node -e" fetches the URL the script names (with $PORT as
// the script reads it); "node FILE" checks FILE and the modules it
// requires, then serves /healthz on the port FILE listens on.
const fakeNode = `#!/bin/sh
if [ "$1" = -e ]; then
	def=$(echo "$2" | sed -n 's/.*process\.env\.PORT || \([0-9][0-9]*\).*/\1/p')
	url=$(echo "$2" | sed "s/' + (process\.env\.PORT || [0-9]*) + '/${PORT:-$def}/" | sed -n "s/.*'\(http:[^']*\)'.*/\1/p")
	exec wget -q -O /dev/null "$url"
fi
file=$1
[ -f "$file" ] || { echo "Error: Cannot find module '$PWD/$file'" >&2; exit 1; }
for m in $(sed -n 's/.*require("\([a-z-]*\)").*/\1/p' "$file"); do
	[ -d "node_modules/$m" ] || { echo "Error: Cannot find module '$m'" >&2; exit 1; }
done
port=$(sed -n 's/.*process\.env\.PORT || \([0-9][0-9]*\).*/\1/p' "$file" | head -1)
mkdir -p /tmp/www && echo ok > /tmp/www/healthz
exec httpd -f -p "${PORT:-$port}" -h /tmp/www
`

// fakeTini runs its command, as tini does after "--".
const fakeTini = `#!/bin/sh
[ "$1" = -- ] && shift
exec "$@"
`

// fakePython: "-m venv DIR" makes a virtualenv holding pip, "-c CODE"
// opens the URL CODE opens with urlopen.
const fakePython = `#!/bin/sh
case $1 in
-m)
	[ "$2" = venv ] || exit 1
	mkdir -p "$3/bin" && cp /usr/local/bin/pip "$3/bin/pip"
	;;
-c)
	url=$(echo "$2" | sed -n "s/.*urlopen('\([^']*\)'.*/\1/p")
	exec wget -q -O /dev/null "$url"
	;;
*)
	exit 1
	;;
esac
`

// fakePip installs the servers a requirements file names as console
// scripts beside itself, as pip does in a virtualenv.
const fakePip = `#!/bin/sh
[ "$1" = install ] || exit 1
shift
bin=$(dirname "$0")
names=
while [ $# -gt 0 ]; do
	case $1 in
	-r) names="$names $(sed 's/[<=>[ ].*//' "$2")"; shift ;;
	-*) ;;
	*) names="$names $1" ;;
	esac
	shift
done
for n in $names; do
	case $n in uvicorn|gunicorn) cp /usr/lib/dockopt-test/pyserver "$bin/$n" ;; esac
done
`

// fakePyServer checks that the app module the command names exists and
// serves /healthz on the port it is given.
const fakePyServer = `#!/bin/sh
port=8000 mod=
while [ $# -gt 0 ]; do
	case $1 in
	--port) port=$2; shift ;;
	--bind|-b) port=${2##*:}; shift ;;
	--host|--workers|-w) shift ;;
	-*) ;;
	*) mod=$1 ;;
	esac
	shift
done
f=$(echo "${mod%%:*}" | tr . /).py
[ -f "$f" ] || { echo "Error loading ASGI app. Could not import module \"${mod%%:*}\"." >&2; exit 1; }
mkdir -p /tmp/www && echo ok > /tmp/www/healthz
exec httpd -f -p "$port" -h /tmp/www
`

// TestRewritesBuildAndStart builds and starts the original and the
// rewritten image of each kind on a real buildkitd: the rewrite must
// build, start as its non-root user and pass its own HEALTHCHECK.
func TestRewritesBuildAndStart(t *testing.T) {
	env := buildkittest.Start(t)
	images := buildkittest.DefaultImages()
	add := func(ref string, base string, files map[string]string) {
		im := images[base]
		im.Files = files
		if err := env.AddImage(ref, im); err != nil {
			t.Fatal(err)
		}
	}
	node := map[string]string{"/usr/local/bin/npm": fakeNPM, "/usr/local/bin/npx": fakeNPX, "/usr/local/bin/node": fakeNode, "/usr/bin/tini": fakeTini}
	add("library/node:20", "library/node:20", node)
	add("library/node:22-slim", "library/node:22-slim", node)
	add(NginxImage, "nginxinc/nginx-unprivileged:1.27-alpine", map[string]string{"/usr/sbin/nginx": fakeNginx})
	python := map[string]string{"/usr/local/bin/python": fakePython, "/usr/local/bin/pip": fakePip, "/usr/lib/dockopt-test/pyserver": fakePyServer}
	add("library/python:3.12", "library/python:3.12", python)
	add("library/python:3.12-slim", "library/python:3.12-slim", python)

	b := &build.Builder{Addr: env.Addr, Timeout: 3 * time.Minute, Smoke: build.SmokeOptions{Grace: time.Second, Timeout: 8 * time.Second}}
	cases := []struct {
		name  string
		files map[string]string
		user  string
		check func(t *testing.T, orig, opt build.Result)
	}{
		{
			name: "static site",
			files: map[string]string{
				"Dockerfile": "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nEXPOSE 3000\n" +
					"CMD [\"npx\", \"serve\", \"-s\", \"dist\", \"-l\", \"3000\"]\n",
				"package.json":      `{"name": "shop", "scripts": {"build": "vite build"}, "dependencies": {"react": "^18.3.1"}, "devDependencies": {"vite": "^5.4.0"}}`,
				"package-lock.json": `{"lockfileVersion": 3, "packages": {"node_modules/react": {"version": "18.3.1"}, "node_modules/vite": {"version": "5.4.11"}}}`,
				"index.html":        "<!doctype html><div id=\"root\"></div>\n",
			},
			user: "101",
			check: func(t *testing.T, orig, opt build.Result) {
				if opt.CompressedSize >= orig.CompressedSize {
					t.Errorf("rewritten image is %d bytes, original %d: want smaller", opt.CompressedSize, orig.CompressedSize)
				}
				// The dependencies are 3 MB of random bytes: the difference
				// must be most of them, or node_modules is still shipped.
				if saved := orig.CompressedSize - opt.CompressedSize; saved < 2_500_000 {
					t.Errorf("saved %d bytes, want at least the 3 MB of dependencies less what nginx adds", saved)
				}
			},
		},
		{
			name: "node service",
			files: map[string]string{
				// USER node: an original already unprivileged shows the app
				// does without writing its folder, so the rewrite runs as node.
				"Dockerfile":        "FROM node:22-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY . .\nUSER node\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n",
				"package.json":      `{"name": "api", "main": "server.js", "dependencies": {"express": "4.21.2"}}`,
				"package-lock.json": `{"lockfileVersion": 3, "packages": {"node_modules/express": {"version": "4.21.2"}}}`,
				"server.js": "const express = require(\"express\");\nconst app = express();\nconst port = Number(process.env.PORT || 3000);\n" +
					"app.get(\"/healthz\", (req, res) => res.send(\"ok\"));\napp.listen(port);\n",
			},
			user: "1000",
		},
		{
			name: "python service",
			files: map[string]string{
				// USER nobody, as the node case: the rewrite runs as its own account.
				"Dockerfile": "FROM python:3.12\nWORKDIR /srv\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY app ./app\nUSER nobody\nEXPOSE 8000\n" +
					"CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]\n",
				"requirements.txt":   "fastapi==0.115.6\nuvicorn==0.32.1\n",
				"app/__init__.py":    "",
				"app/main.py":        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/healthz\")\ndef healthz():\n    return {\"ok\": True}\n",
				"tests/test_main.py": "def test_nothing():\n    pass\n",
			},
			user: "10001",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, content := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(content)}
			}
			fr := analyze(analyzer.New(rules.All()), fsys)
			rw, withheld := Plan(fr)
			if rw == nil {
				t.Fatalf("no rewrite (kind %s, withheld %+v)", fr.Kind, withheld)
			}
			afterFiles := map[string]string{}
			for name, content := range tc.files {
				afterFiles[name] = content
			}
			afterFiles["Dockerfile"] = string(rw.Content)
			for _, g := range rw.Files {
				afterFiles[g.Path] = g.Content
			}
			run := func(name string, files map[string]string) build.Result {
				t.Helper()
				res, err := b.Build(context.Background(), build.Request{ContextDir: writeDir(t, files), NoCache: true, Smoke: true})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !res.OK {
					t.Fatalf("%s did not build:\n%s", name, res.Error)
				}
				t.Logf("%s: %d bytes compressed, user %q, smoke %+v", name, res.CompressedSize, res.User, res.Smoke)
				return res
			}
			orig := run("original", tc.files)
			opt := run("rewritten", afterFiles)
			if !orig.Smoke.Proven() {
				t.Errorf("the original should start (the stand-ins' premise): %+v", orig.Smoke)
			}
			if s := opt.Smoke; !s.Proven() || !s.Healthcheck {
				t.Errorf("the rewritten image should start as %s and pass its HEALTHCHECK: %+v\n%s", tc.user, s, rw.Content)
			}
			if opt.User != tc.user {
				t.Errorf("rewritten image user = %q, want %s", opt.User, tc.user)
			}
			if tc.check != nil {
				tc.check(t, orig, opt)
			}
		})
	}
}

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
