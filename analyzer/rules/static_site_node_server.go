package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// StaticSiteNodeServer finds static sites served by a Node process.
var StaticSiteNodeServer = &analyzer.Rule{
	ID:       "static-site-node-server",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "Static site is served by a Node process",
	Rationale: `A site that builds to plain HTML, CSS and JavaScript needs nothing but a web server at run time. ` +
		`Serving it with serve, http-server or vite preview from a Node image ships Node, npm, node_modules and ` +
		`the sources (hundreds of megabytes) to deliver a few files, with a server that is not built for ` +
		`production traffic: no tuned caching headers, no compression by default, one process. Development ` +
		`servers (vite, react-scripts start) are worse: unminified code, hot reload, no hardening. Build in ` +
		`a Node stage and copy the output into a web server image such as nginx-unprivileged. The patcher ` +
		`does this rewrite; this rule only reports.`,
	Bad:  "FROM node:20\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"npx\", \"serve\", \"-s\", \"dist\"]\n",
	Good: "FROM node:20 AS build\nCOPY . .\nRUN npm ci && npm run build\nFROM nginxinc/nginx-unprivileged:1.27-alpine\nCOPY --from=build /dist /usr/share/nginx/html\n",
	Check: func(p *analyzer.Pass) {
		d := p.File
		start := startInstruction(d)
		if start == nil {
			return
		}
		server, dir, dev := nodeStaticServer(d, p.Context)
		if server == "" {
			return
		}
		built := ""
		if pkg := p.Context.Package; pkg != nil && pkg.Scripts["build"] != "" {
			built = fmt.Sprintf(" built by %q", pkg.Scripts["build"])
		}
		what := "static files"
		if dir != "" {
			what = "the static files in " + dir
		}
		img := d.FinalStage().Root().Base.Raw
		if dev {
			p.Report(start, fmt.Sprintf("the site%s is served by %s, a development server, from %s: it ships Node, node_modules and the sources and serves unoptimized code; build the site in a Node stage and serve the output from a web server image (nginx-unprivileged)", built, server, img), nil)
			return
		}
		p.Report(start, fmt.Sprintf("%s serves %s%s from %s: Node, npm and node_modules ship only to serve files; build in a Node stage and copy the output into a web server image (nginx-unprivileged), which adds compression and caching headers", server, what, built, img), nil)
	},
}

// nodeStaticServer recognises a start command that only serves files
// with a Node tool, following npm/yarn/pnpm scripts through package.json.
// It returns the server, the folder it serves if known, and whether it is
// a development server.
func nodeStaticServer(d *analyzer.Dockerfile, bc *analyzer.BuildContext) (server, dir string, dev bool) {
	words := splitWords(analyzer.StartCommand(d))
	return staticServerIn(words, bc, 0)
}

func splitWords(words []string) []string {
	var out []string
	for _, w := range words {
		for _, f := range strings.Fields(w) {
			out = append(out, strings.Trim(f, `"'`))
		}
	}
	return out
}

func staticServerIn(words []string, bc *analyzer.BuildContext, depth int) (server, dir string, dev bool) {
	if depth > 3 {
		return "", "", false
	}
	for i, w := range words {
		base := path.Base(w)
		if !programPosition(words, i) {
			continue
		}
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		switch base {
		case "serve", "http-server", "live-server", "lite-server", "static-server", "sirv":
			if base == "sirv" && next != "" && next != "serve" && strings.HasPrefix(next, "-") {
				continue
			}
			return base, firstPositional(words[i+1:]), base == "live-server" || base == "lite-server"
		case "vite":
			if next == "preview" {
				return "vite preview", "", false
			}
			if next == "" || next == "dev" || next == "serve" || strings.HasPrefix(next, "-") {
				return "vite", "", true
			}
		case "react-scripts", "vue-cli-service", "ng", "gatsby", "astro", "eleventy", "webpack", "webpack-dev-server", "parcel":
			switch {
			case base == "react-scripts" && next == "start",
				base == "vue-cli-service" && next == "serve",
				base == "ng" && next == "serve",
				base == "gatsby" && next == "develop",
				base == "astro" && (next == "dev" || next == "preview"),
				base == "eleventy" && hasWord(words[i:], "--serve"),
				base == "webpack" && next == "serve",
				base == "webpack-dev-server",
				base == "parcel" && next != "build":
				return base + " " + strings.TrimPrefix(next, "-"), "", !(base == "astro" && next == "preview")
			}
		case "npm", "yarn", "pnpm", "bun":
			if bc == nil || bc.Package == nil {
				continue
			}
			script := next
			if next == "run" || next == "run-script" {
				if i+2 < len(words) {
					script = words[i+2]
				}
			}
			if next == "start" || script == "" {
				script = "start"
			}
			if body, ok := bc.Package.Scripts[script]; ok {
				if s, dir, dev := staticServerIn(strings.Fields(body), bc, depth+1); s != "" {
					return s, dir, dev
				}
			}
		}
	}
	return "", "", false
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// firstPositional returns the first word that is not an option or the
// value of one; static servers take the folder they serve there.
func firstPositional(words []string) string {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "&&" || w == ";" || w == "|":
			return ""
		case w == "-p" || w == "--port" || w == "-l" || w == "--listen" || w == "-a" || w == "--address" || w == "-c":
			i++
		case strings.HasPrefix(w, "-"):
		default:
			return w
		}
	}
	return ""
}

// programPosition reports whether words[i] is run as a program rather
// than passed as an argument (`hugo serve` is not the serve package).
func programPosition(words []string, i int) bool {
	if i == 0 || strings.Contains(words[i], "node_modules/.bin/") {
		return true
	}
	switch words[i-1] {
	case "npx", "pnpx", "bunx", "dlx", "exec", "x", "&&", ";", "||", "--", "-y", "--yes", "env":
		return true
	}
	return strings.Contains(words[i-1], "=") && !strings.HasPrefix(words[i-1], "-")
}
