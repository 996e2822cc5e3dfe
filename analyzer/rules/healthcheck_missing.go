package rules

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// HealthcheckMissing mirrors hadolint DL3057 and Trivy DS026, but only for
// images that run a service.
var HealthcheckMissing = &analyzer.Rule{
	ID:       "healthcheck-missing",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Service image without a HEALTHCHECK",
	Rationale: `A container whose process is alive but hung (deadlocked, out of connections, stuck on a lost ` +
		`database) looks healthy to Docker and Compose unless the image says how to check it. A HEALTHCHECK ` +
		`lets them report the container as unhealthy, restart it, and hold dependants until it is ready. ` +
		`hadolint and Trivy ask every image for one, which is noise for build images, CLIs and jobs; dockopt ` +
		`reports only images that run a service: they EXPOSE a port, run a web server, or start a known server ` +
		`command. Kubernetes ignores HEALTHCHECK and uses its own probes, so the fix is for people to review.`,
	Bad:         "FROM node:20-alpine\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n",
	Good:        "FROM node:20-alpine\nEXPOSE 3000\nHEALTHCHECK CMD wget -q -O /dev/null http://localhost:3000/ || exit 1\nCMD [\"node\", \"server.js\"]\n",
	Equivalents: []string{"hadolint:DL3057", "trivy:DS026"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		if final == nil {
			return
		}
		var ports []int
		exposes := false
		for _, s := range final.Lineage() {
			for _, in := range s.Instructions {
				switch in.Keyword {
				case "HEALTHCHECK":
					return
				case "EXPOSE":
					exposes = true
					ports = append(ports, exposedTCPPorts(in.Args)...)
				}
			}
		}
		base := final.Root().Base
		cmd := analyzer.StartCommand(p.File)
		webServer := webServerImage(base)
		kind, _ := analyzer.DetectKind(p.File, p.Context)
		if !exposes && !webServer && !startsServer(cmd) && kind != analyzer.KindStaticSite {
			return
		}
		if len(ports) == 0 && webServer {
			ports = []int{80}
			if strings.Contains(base.Name(), "unprivileged") {
				ports = []int{8080}
			}
		}
		var fix *analyzer.Fix
		if len(ports) > 0 {
			fix = healthcheckFix(p.File, final, ports[0])
		}
		p.Report(final.From, "the image runs a service but declares no HEALTHCHECK, so a hung process looks healthy", fix)
	},
}

// exposedTCPPorts returns the static TCP ports of EXPOSE arguments.
func exposedTCPPorts(args []string) []int {
	var out []int
	for _, a := range args {
		port, proto, _ := strings.Cut(a, "/")
		if proto != "" && !strings.EqualFold(proto, "tcp") {
			continue
		}
		port, _, _ = strings.Cut(port, "-")
		if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
			out = append(out, n)
		}
	}
	return out
}

func webServerImage(r analyzer.ImageRef) bool {
	switch r.Name() {
	case "nginx", "nginx-unprivileged", "httpd", "caddy", "traefik", "haproxy", "openresty":
		return true
	}
	return false
}

// startsServer recognises start commands of common network servers.
func startsServer(cmd []string) bool {
	for i, w := range cmd {
		next := ""
		if i+1 < len(cmd) {
			next = cmd[i+1]
		}
		switch path.Base(w) {
		case "gunicorn", "uvicorn", "hypercorn", "daphne", "waitress-serve", "nginx", "httpd", "apache2-foreground",
			"caddy", "php-fpm", "puma", "unicorn", "rackup", "http-server", "serve", "gotty":
			return true
		case "manage.py":
			return next == "runserver"
		case "flask":
			return next == "run"
		case "rails":
			return next == "server" || next == "s"
		case "next", "nuxt":
			return next == "start"
		}
	}
	return false
}

// healthcheckFix writes a HEALTHCHECK with a probe the image can run: curl
// or wget if the image has them, else the language runtime. Images without
// a shell or any of these get no fix.
func healthcheckFix(d *analyzer.Dockerfile, final *analyzer.Stage, port int) *analyzer.Fix {
	base := final.Root().Base
	url := fmt.Sprintf("http://localhost:%d/", port)
	var probe, how string
	switch {
	case base.IsScratch() || base.IsDistroless():
		return nil
	case stageInstalls(final, "curl"):
		probe, how = "curl -sS -o /dev/null "+url+" || exit 1", "curl"
	case base.Distro() == "alpine" || base.Name() == "busybox" || stageInstalls(final, "wget"):
		probe, how = "wget -q -O /dev/null "+url+" || exit 1", "wget"
	case base.Name() == "node":
		probe = fmt.Sprintf(`node -e "require('net').connect(%d, 'localhost').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"`, port)
		how = "node"
	case base.Name() == "python":
		probe = fmt.Sprintf(`python -c "import socket; socket.create_connection(('localhost', %d), timeout=5)"`, port)
		how = "python"
	default:
		return nil
	}
	// Before the start command, where readers look for runtime settings;
	// at the end of the stage when it has none.
	var at *analyzer.Instruction
	for _, in := range final.Instructions {
		if in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT" {
			at = in
			break
		}
	}
	kw := "HEALTHCHECK"
	nl := d.Newline()
	var edit analyzer.TextEdit
	if at != nil {
		if at.Written == strings.ToLower(at.Written) {
			kw = "healthcheck"
		}
		edit = analyzer.TextEdit{Start: at.Start, End: at.Start, New: kw + " CMD " + probe + nl + d.Indent(at.StartLine)}
	} else {
		last := final.From
		if n := len(final.Instructions); n > 0 {
			last = final.Instructions[n-1]
		}
		edit = analyzer.TextEdit{Start: last.End, End: last.End, New: nl + kw + " CMD " + probe}
		if last.End > 0 && d.Source[last.End-1] == '\n' {
			// The last line's end includes the file's final newline.
			edit.New = kw + " CMD " + probe + nl
		}
	}
	return &analyzer.Fix{
		Message: fmt.Sprintf("add a HEALTHCHECK that probes port %d with %s; point it at the service's health endpoint if it has one", port, how),
		Edits:   []analyzer.TextEdit{edit},
	}
}
