package analyzer

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestNodeKindNeedsNode: a node image is a Node service only when what it
// runs is node or a Node program (corpus 700: mkdocs serve on node:20,
// with a package.json whose start script runs hugo).
func TestNodeKindNeedsNode(t *testing.T) {
	for _, c := range []struct {
		name, dockerfile, pkg, want, other string
	}{
		{"mkdocs", "FROM node:20\nWORKDIR /docs\nCOPY . .\nCMD [\"sh\", \"-c\", \"mkdocs serve -a 0.0.0.0:8000\"]\n", `{"scripts": {"start": "hugo serve"}}`, KindGeneric, "mkdocs"},
		{"npm start runs hugo", "FROM node:20\nCOPY . .\nCMD [\"npm\", \"start\"]\n", `{"scripts": {"start": "hugo serve"}}`, KindGeneric, "hugo"},
		{"node", "FROM node:20\nCOPY . .\nCMD [\"node\", \"server.js\"]\n", `{}`, KindNodeService, ""},
		{"npm start runs node", "FROM node:20\nCOPY . .\nCMD [\"tini\", \"--\", \"npm\", \"start\"]\n", `{"scripts": {"start": "node server.js"}}`, KindNodeService, ""},
		{"a dependency's binary", "FROM node:20\nCOPY . .\nCMD [\"strapi\", \"start\"]\n", `{"dependencies": {"@strapi/strapi": "5.0.0"}}`, KindNodeService, ""},
		{"a global install", "FROM node:20\nRUN npm install -g pm2@5\nCOPY . .\nCMD pm2-runtime app.js\n", `{}`, KindNodeService, ""},
		{"a script decides", "FROM node:20\nCOPY . .\nCMD [\"./start.sh\"]\n", `{}`, KindNodeService, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{"Dockerfile": {Data: []byte(c.dockerfile)}, "package.json": {Data: []byte(c.pkg)}}
			d, err := Parse("Dockerfile", []byte(c.dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			bc := ContextFor(fsys, "Dockerfile", ".")
			if kind, _ := DetectKind(d, bc); kind != c.want {
				t.Errorf("kind %s, want %s", kind, c.want)
			}
			if got := RunsOtherThanNode(d, bc); got != c.other {
				t.Errorf("RunsOtherThanNode = %q, want %q", got, c.other)
			}
		})
	}
}

func TestStartProgramThroughShell(t *testing.T) {
	for src, want := range map[string]string{
		"FROM node:20\nCMD cd /app && node server.js\n":                      "node",
		"FROM node:20\nCMD [\"sh\", \"-c\", \"mkdocs build && serve\"]\n":    "",
		"FROM node:20\nCMD [\"sh\", \"-c\", \"cd /docs && mkdocs serve\"]\n": "mkdocs",
	} {
		d, err := Parse("Dockerfile", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := StartProgram(d, nil); got != want {
			t.Errorf("%q: StartProgram = %q, want %q", src, got, want)
		}
	}
}

// TestStaticSiteByWhatTheScriptRuns: a package.json script's name is not a
// program. npm run serve running tsx is a Node service; npm start running
// serve, or npm run preview running vite preview, serves static files.
func TestStaticSiteByWhatTheScriptRuns(t *testing.T) {
	for _, c := range []struct {
		name, cmd, pkg, want string
	}{
		{"npm run serve runs tsx", `["npm", "run", "serve"]`, `{"scripts": {"serve": "tsx src/server.ts"}}`, KindNodeService},
		{"yarn serve runs node", `["yarn", "serve"]`, `{"scripts": {"serve": "node dist/server.js"}}`, KindNodeService},
		{"npm run serve, no such script", `["npm", "run", "serve"]`, `{}`, KindNodeService},
		{"npm start runs serve", `["npm", "start"]`, `{"scripts": {"start": "serve -s dist -l 3000"}}`, KindStaticSite},
		{"npm run preview runs vite preview", `["npm", "run", "--silent", "preview"]`, `{"scripts": {"preview": "vite preview --host"}}`, KindStaticSite},
		{"pnpm run through another script", `["pnpm", "start"]`, `{"scripts": {"start": "pnpm run web", "web": "http-server dist"}}`, KindStaticSite},
		{"scripts that run each other", `["npm", "start"]`, `{"scripts": {"start": "npm run start"}}`, KindNodeService},
		{"serve itself", `["serve", "-s", "dist"]`, `{}`, KindStaticSite},
		{"docusaurus serve", `["npx", "docusaurus", "serve", "--port", "3000"]`, `{}`, KindStaticSite},
		{"vite's dev server", `["npx", "vite", "serve", "--host"]`, `{}`, KindStaticSite},
		{"vite's dev server by its script", `["npm", "run", "dev"]`, `{"scripts": {"dev": "vite --host"}, "devDependencies": {"vite": "5.4.11"}}`, KindNodeService},
		{"serve as an argument", `["node", "cli.js", "serve"]`, `{}`, KindNodeService},
		{"an entrypoint script before the CMD", "ENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"serve\", \"-s\", \"build\"]", `{}`, KindStaticSite},
		{"npx -y", `["npx", "-y", "serve", "-s", "build"]`, `{}`, KindStaticSite},
		{"npx -p serve serve", `["npx", "-p", "serve", "serve", "-s", "build"]`, `{}`, KindStaticSite},
		{"npm exec --yes", `["npm", "exec", "--yes", "serve", "--", "-s", "build"]`, `{}`, KindStaticSite},
		{"a script running npx -y", `["npm", "start"]`, `{"scripts": {"start": "npx -y serve -s build"}}`, KindStaticSite},
		{"yarn runs a program when no script has its name", `["yarn", "serve", "-s", "build"]`, `{"dependencies": {"serve": "14"}}`, KindStaticSite},
		{"pnpm too", `["pnpm", "serve", "-s", "build"]`, `{"dependencies": {"serve": "14"}}`, KindStaticSite},
		{"bun x", `["bun", "x", "serve", "-s", "build"]`, `{}`, KindStaticSite},
		{"a separator glued to a word", `cd build; serve -s .`, `{}`, KindStaticSite},
		{"yarn --cwd DIR start", `["yarn", "--cwd", "web", "start"]`, `{"scripts": {"start": "serve -s build"}}`, KindStaticSite},
		{"pnpm run --dir DIR start", `["pnpm", "run", "--dir", "web", "start"]`, `{"scripts": {"start": "serve -s build"}}`, KindStaticSite},
		{"npm --prefix DIR run serve", `["npm", "--prefix", "app", "run", "serve"]`, `{"scripts": {"serve": "serve -s build"}}`, KindStaticSite},
		{"vue's dev server", `["npm", "run", "serve"]`, `{"scripts": {"serve": "vue-cli-service serve"}, "devDependencies": {"@vue/cli-service": "5"}}`, KindStaticSite},
		{"angular's dev server", `["npx", "ng", "serve", "--host", "0.0.0.0"]`, `{"devDependencies": {"@angular/cli": "18"}}`, KindStaticSite},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := "CMD " + c.cmd
			if strings.HasPrefix(c.cmd, "ENTRYPOINT") {
				start = c.cmd
			}
			dockerfile := "FROM node:20\nWORKDIR /app\nCOPY . .\n" + start + "\n"
			fsys := fstest.MapFS{"Dockerfile": {Data: []byte(dockerfile)}, "package.json": {Data: []byte(c.pkg)}}
			d, err := Parse("Dockerfile", []byte(dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			if kind, _ := DetectKind(d, ContextFor(fsys, "Dockerfile", ".")); kind != c.want {
				t.Errorf("kind %s, want %s", kind, c.want)
			}
		})
	}
}
