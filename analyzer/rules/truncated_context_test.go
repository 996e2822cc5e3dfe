package rules_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"golang.org/x/tools/txtar"
)

// withFiller returns the case's files plus more than MaxContextFiles files
// under folder, which sorts before the files that matter: the context's
// listing stops inside it, as it does in a large monorepo, and package.json,
// go.mod or yarn.lock beside it are never listed.
func withFiller(archive, folder string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, f := range txtar.Parse([]byte(archive)).Files {
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	for i := 0; i <= analyzer.MaxContextFiles; i++ {
		fsys[fmt.Sprintf("%s/d%03d/f%05d.txt", folder, i/500, i)] = &fstest.MapFile{Data: []byte("x\n")}
	}
	return fsys
}

// Past a listing that stopped at MaxContextFiles, nothing is claimed
// missing that is there, no fix assumes a file absent that exists, and
// fixes checked against every file of the context are withheld with the
// reason. Each case was a wrong finding or fix before (a review found
// them with the same fillers).
func TestATruncatedContextListingMakesNoFalseClaim(t *testing.T) {
	tests := []struct {
		name, filler, archive string
		rule                  string
		want, notWant         []string // in the rule's findings; "FIX:" starts a fix
	}{{
		name: "yarn lockfile after a large folder is copied with the manifest", filler: "static", rule: "deps-copied-after-source",
		archive: "-- Dockerfile --\nFROM node:22-alpine\nWORKDIR /srv\nCOPY . .\nRUN yarn install --frozen-lockfile --production\nCMD [\"node\", \"index.js\"]\n" +
			"-- package.json --\n{\"name\": \"thumbs\"}\n-- yarn.lock --\n# yarn lockfile v1\n",
		want: []string{"FIX: copy package.json, yarn.lock first"},
	}, {
		name: "go.mod after docs/ is in the context", filler: "docs", rule: "deps-copied-after-source",
		archive: "-- Dockerfile --\nFROM golang:1.26\nWORKDIR /app\nCOPY . .\nRUN go mod download\nRUN go build -o /app/server .\n" +
			"-- go.mod --\nmodule example.com/svc\n\ngo 1.26\n-- go.sum --\n",
		want:    []string{"FIX: copy go.mod, go.sum first"},
		notWant: []string{"not in the build context"},
	}, {
		name: "go install without a version is pinned by a go.mod after docs/", filler: "docs", rule: "go-install-pin-versions",
		archive: "-- Dockerfile --\nFROM golang:1.26\nWORKDIR /app\nCOPY . .\nRUN go install github.com/air-verse/air\n" +
			"-- go.mod --\nmodule example.com/svc\n\ngo 1.26\n",
		notWant: []string{"go install"},
	}, {
		name: "a pnpm workspace after packages/ still blocks the reorder", filler: "packages", rule: "deps-copied-after-source",
		archive: "-- Dockerfile --\nFROM node:22-alpine\nWORKDIR /repo\nCOPY . .\nRUN corepack enable && pnpm install --frozen-lockfile\n" +
			"-- package.json --\n{\"name\": \"mono\"}\n-- pnpm-lock.yaml --\nlockfileVersion: '9.0'\n-- pnpm-workspace.yaml --\npackages: ['packages/*']\n",
		want:    []string{"a pnpm workspace needs every member's package.json"},
		notWant: []string{"FIX:"},
	}, {
		name: "a folder with a file past the listing is not called all excluded", filler: "assets/raw", rule: "copy-ignored-file",
		archive: "-- Dockerfile --\nFROM nginx:1.29-alpine\nCOPY assets /usr/share/nginx/html/assets\n" +
			"-- .dockerignore --\nassets/raw\n-- assets/web/logo.svg --\n<svg/>\n",
		notWant: []string{"all excludes"},
	}, {
		name: "an existing nginx/dockopt.conf is not taken for a new one", filler: "frontend", rule: "nginx-no-gzip",
		archive: "-- Dockerfile --\nFROM nginx:1.29-alpine\nCOPY site /usr/share/nginx/html\n-- site/index.html --\n<h1>hi</h1>\n" +
			"-- nginx/dockopt.conf --\nproxy_read_timeout 5s;\n",
		want:    []string{"stock configuration"},
		notWant: []string{"FIX:"},
	}, {
		name: "a .dockerignore chosen from part of the files is withheld", filler: "apps", rule: "dockerignore-missing",
		archive: "-- Dockerfile --\nFROM node:22-alpine AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n" +
			"-- .env.production --\nVITE_API_URL=https://api.example.com\n" +
			"-- package.json --\n{\"name\": \"web\", \"scripts\": {\"build\": \"vite build\"}, \"devDependencies\": {\"vite\": \"^5.4.0\"}}\n-- package-lock.json --\n{}\n",
		want:    []string{".env.local", "no fix: the build context has more than 20000 files"},
		notWant: []string{"FIX:"},
	}}
	a := analyzer.New(rules.All())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := withFiller(tt.archive, tt.filler)
			bc := analyzer.ContextFor(fsys, "Dockerfile", ".")
			if !bc.Truncated {
				t.Fatal("the filler did not truncate the listing")
			}
			fr, err := a.AnalyzeSource(t.Context(), "Dockerfile", fsys["Dockerfile"].Data, bc, nil)
			if err != nil || fr.Error != "" {
				t.Fatal(err, fr.Error)
			}
			var got strings.Builder
			for _, f := range fr.Findings {
				if f.Rule != tt.rule {
					continue
				}
				fmt.Fprintf(&got, "%d: %s\n", f.Line, f.Message)
				if f.Fix != nil {
					fmt.Fprintf(&got, "   FIX: %s\n", f.Fix.Message)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(got.String(), w) {
					t.Errorf("%s findings lack %q:\n%s", tt.rule, w, got.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got.String(), w) {
					t.Errorf("%s findings say %q:\n%s", tt.rule, w, got.String())
				}
			}
			if !strings.Contains(strings.Join(fr.Limits, "\n"), "has more than 20000 files and was listed only that far") {
				t.Errorf("the truncated listing is not among the file's limits: %q", fr.Limits)
			}
		})
	}
}
