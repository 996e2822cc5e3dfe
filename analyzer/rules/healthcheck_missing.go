package rules

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"slices"
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
		`command. Kubernetes ignores HEALTHCHECK and uses its own probes, so the fix is for people to review. ` +
		`The probe speaks the port's protocol: a server's own check (pg_isready, redis-cli ping), HTTP only where ` +
		`a framework or web server says the port speaks it (any HTTP answer passes, since the app may not serve /), ` +
		`gRPC's health protocol; and only with a tool the finished image has. An image that does not say what it ` +
		`runs (an init as ENTRYPOINT and no CMD), or that compose runs as several services with different ` +
		`commands, gets no probe: it belongs on each service. Otherwise no fix is offered and the finding says why.`,
	Bad:         "FROM node:20-alpine\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n",
	Good:        "FROM node:20-alpine\nEXPOSE 3000\nHEALTHCHECK CMD [\"/bin/sh\", \"-c\", \"wget -q -S -O /dev/null http://127.0.0.1:3000/ 2>&1 | grep -q 'HTTP/' || exit 1\"]\nCMD [\"node\", \"server.js\"]\n",
	Equivalents: []string{"hadolint:DL3057", "trivy:DS026"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		final := p.File.FinalStage()
		if final == nil {
			return
		}
		exposes := false
		for _, s := range final.Lineage() {
			for _, in := range s.Instructions {
				switch in.Keyword {
				case "HEALTHCHECK":
					return
				case "EXPOSE":
					exposes = true
				}
			}
		}
		base := final.Root().Base
		kind, _ := analyzer.DetectKind(p.File, p.Context)
		if !exposes && !webServerImage(base) && !startsServer(analyzer.StartCommand(p.File)) && kind != analyzer.KindStaticSite {
			return
		}
		msg := "the image runs a service but declares no HEALTHCHECK, so a hung process looks healthy"
		if runtimeChangeRefused(p, final, final.From, msg) {
			return
		}
		sf := p.Facts().Stage(final)
		if why := sf.CommandFromElsewhere(); why != "" {
			(&withheld{analyzer.PreconditionUnknown, why + "; a HEALTHCHECK belongs where that command is given (a compose service, a Kubernetes probe)"}).report(p, final.From, msg)
			return
		}
		probe, w := chooseProbe(p.File, sf, final)
		if why := inheritedPortMoved(sf); why != "" {
			// Before what any port lacks: the ports themselves may
			// have nothing behind them.
			w = &withheld{analyzer.PreconditionUnknown, why}
		}
		if why := siteNotServed(p); w == nil && why != "" {
			w = &withheld{analyzer.PreconditionUnknown, why}
		}
		if why := nextStandaloneOffLoopback(p, sf, final); w == nil && why != "" {
			w = &withheld{analyzer.PreconditionUnknown, why}
		}
		if why := composeRoles(p); w == nil && why != "" {
			w = &withheld{analyzer.PreconditionUnknown, why}
		}
		if w != nil {
			w.report(p, final.From, msg)
			return
		}
		p.Report(final.From, msg, healthcheckFix(p.File, final, probe))
	},
}

// composeRoles says why one HEALTHCHECK cannot fit the image, "" when it
// may: compose files build it for services that run different commands
// (a web server, a worker, a second server), and a probe of one of them
// would mark the others unhealthy for good.
func composeRoles(p *analyzer.Pass) string {
	services := p.Facts().ComposeServices()
	if len(services) < 2 {
		return ""
	}
	var roles []string
	differ := false
	for _, s := range services {
		cmd := s.Command
		if cmd == "" {
			cmd = "the image's own command"
		}
		roles = append(roles, s.Name+": "+cmd)
		differ = differ || s.Command != services[0].Command
	}
	if !differ {
		return ""
	}
	if len(roles) > 4 {
		roles = append(roles[:4], fmt.Sprintf("%d more", len(roles)-4))
	}
	return fmt.Sprintf("%s builds this image for services that run different commands (%s), and one HEALTHCHECK in the image would probe them all; put a healthcheck on each service instead", services[0].File, strings.Join(roles, "; "))
}

// sidePorts are protocols a service speaks beside its own: Erlang's port
// mapper and distribution, a cluster's transport, Tomcat's AJP and
// shutdown ports, MySQL's X protocol, OpenSearch's Performance Analyzer.
var sidePorts = map[string]bool{"epmd": true, "erlang-distribution": true, "elasticsearch-transport": true, "opensearch-transport": true,
	"performance-analyzer": true, "performance-analyzer-rca": true, "ajp": true, "tomcat-shutdown": true, "mysqlx": true}

// serverConfigDirs hold web servers' own configuration.
var serverConfigDirs = []string{"/etc/nginx", "/etc/apache2", "/usr/local/apache2/conf", "/etc/httpd", "/etc/caddy", "/etc/haproxy", "/usr/local/etc/haproxy", "/etc/traefik"}

// replacesServerConfig reports a stage that copies or writes into a web
// server's configuration, which may move it off the base image's port.
func replacesServerConfig(s *analyzer.Stage) bool {
	for _, in := range s.LineageInstructions() {
		c, ok := copyOf(in)
		if !ok {
			continue
		}
		dest := analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
		for _, dir := range serverConfigDirs {
			if dest == dir || strings.HasPrefix(dest, dir+"/") {
				return true
			}
		}
	}
	return false
}

// inheritedPortMoved says why the ports the base image EXPOSEs are not
// known to be where the image's server listens, "" when they may be: the
// Dockerfile EXPOSEs none of its own and replaces the server's stock
// configuration with one that listens elsewhere, or that dockopt cannot
// read (PortFact.Moved). A probe of a port nothing listens on never
// passes.
func inheritedPortMoved(sf *analyzer.StageFacts) string {
	for _, pt := range sf.Ports() {
		if pt.Transport == "tcp" && (pt.Line > 0 || pt.Listen > 0) {
			// Declared, or where the configuration says the server
			// listens instead.
			return ""
		}
	}
	for _, pt := range sf.Ports() {
		switch {
		case pt.Moved == "":
		case len(pt.MovedTo) == 1:
			return pt.Moved + "; EXPOSE the port it listens on"
		case len(pt.MovedTo) > 1:
			return pt.Moved + "; EXPOSE the ports it listens on"
		default:
			return pt.Moved
		}
	}
	return ""
}

// healthProbe is the check a HEALTHCHECK fix runs, and what it says about
// it.
type healthProbe struct {
	line    string // the HEALTHCHECK's CMD part
	message string
}

// chooseProbe picks the port to check and the probe to check it with,
// from the facts: a server's own readiness check first, then HTTP with
// evidence that HTTP is spoken there, then gRPC's health protocol; and only
// with a tool the finished image has. Without one it says which
// precondition failed, for the first port that came closest.
func chooseProbe(d *analyzer.Dockerfile, sf *analyzer.StageFacts, final *analyzer.Stage) (healthProbe, *withheld) {
	var ports, declared []analyzer.PortFact
	listens := slices.ContainsFunc(sf.Ports(), func(pt analyzer.PortFact) bool { return pt.Listen > 0 })
	for _, pt := range sf.Ports() {
		if listens && pt.Moved != "" {
			// The configuration says where the server listens instead.
			continue
		}
		if pt.Transport == "tcp" {
			ports = append(ports, pt)
			if pt.Line > 0 && pt.Off == "" {
				declared = append(declared, pt)
			}
		}
	}
	if len(declared) > 0 && len(declared) < len(ports) && replacesServerConfig(final) {
		// The base image's port is its stock configuration's; the
		// Dockerfile replaces that configuration and declares its own.
		ports = declared
	}
	if len(ports) == 0 {
		for _, in := range final.LineageInstructions() {
			if in.Keyword == "EXPOSE" {
				return healthProbe{}, &withheld{analyzer.PreconditionUnknown, fmt.Sprintf("the EXPOSE on line %d names no TCP port dockopt can read, so where the service listens is not known", in.StartLine)}
			}
		}
		if why := sf.BasePortsUnknown(); why != "" {
			return healthProbe{}, &withheld{analyzer.PreconditionUnknown, "the Dockerfile exposes no TCP port, and " + why + ", so where the service listens is not known"}
		}
		return healthProbe{}, &withheld{analyzer.PreconditionUnknown, "the image exposes no TCP port, so dockopt does not know where the service listens"}
	}
	shell, shellWhy := sf.ToolAt(0, "sh")
	var fail, toolFail *withheld
	failRank, toolFailRank, failPort, toolFailPort := 0, 0, 0, 0
	var failed []int
	cgo := map[string]string{} // per probe tool, read once for all ports
	best, bestRank := -1, 0
	for i, pt := range ports {
		pr := pt.Probe
		var w *withheld
		switch {
		case pt.Off != "":
			w = &withheld{analyzer.PreconditionUnknown, fmt.Sprintf("nothing listens on port %d (%s): %s", pt.Port, pt.Why, pt.Off)}
		case pt.Protocol == "" && pt.Unsure != "":
			w = &withheld{analyzer.PreconditionProtocol, fmt.Sprintf("port %d (%s): %s; an HTTP probe of a port it may not serve would never pass", pt.Port, portOrigin(pt.Why), pt.Unsure)}
		case pt.Protocol == "" && pt.Maybe != "":
			w = &withheld{analyzer.PreconditionProtocol, fmt.Sprintf("the image runs an %s server, but not one established to listen on port %d (%s), and a probe of a port the server may not answer on never passes", strings.ToUpper(pt.Maybe), pt.Port, pt.Why)}
		case pt.Protocol == "" && pt.ProtoUnknown != "":
			w = &withheld{analyzer.PreconditionProtocol, fmt.Sprintf("%s listens on port %d (%s), but dockopt cannot tell whether it speaks HTTP or HTTPS there: %s; a probe in the wrong one never passes", pt.Server, pt.Port, pt.Why, pt.ProtoUnknown)}
		case pt.Protocol == "":
			w = &withheld{analyzer.PreconditionProtocol, fmt.Sprintf("nothing says what speaks on port %d (%s), and an HTTP probe of a port that does not speak HTTP never passes", pt.Port, pt.Why)}
		case pr == nil && pt.Protocol == analyzer.ProtoHTTPS && pt.Server != "":
			needs := pt.Server + "'s certificate"
			if pt.Server == "elasticsearch" || pt.Server == "opensearch" {
				// Their security, which turns TLS on, also asks every
				// request for credentials.
				needs += " and, with its security on, credentials"
			}
			w = &withheld{analyzer.PreconditionProtocol, fmt.Sprintf("port %d speaks https (%s), and dockopt knows no probe for it: a plain HTTP probe never passes against TLS, and an HTTPS one needs %s", pt.Port, pt.Why, needs)}
		case pr == nil:
			w = &withheld{analyzer.PreconditionProtocol, fmt.Sprintf("port %d speaks %s (%s), and dockopt knows no probe for it", pt.Port, pt.Protocol, pt.Why)}
		case pr.Unknown != "":
			w = &withheld{analyzer.PreconditionUnknown, fmt.Sprintf("port %d speaks %s (%s), but %s's own readiness check needs to know where and how it listens: %s", pt.Port, pt.Protocol, pt.Why, pt.Server, pr.Unknown)}
		case pr.Command == "" || pr.ToolPresence != analyzer.Present:
			w = &withheld{analyzer.PreconditionTool, fmt.Sprintf("port %d speaks %s (%s), but the probe needs %s, which is not known to be in the final image (%s)", pt.Port, pt.Protocol, pt.Why, pr.Tool, pr.Why)}
		case shell != analyzer.Present && strings.ContainsAny(pr.Command, `"'$|&;<>`):
			w = &withheld{analyzer.PreconditionTool, fmt.Sprintf("%s needs a shell, and the image has none (%s)", pr.Command, shellWhy)}
		default:
			why, ok := cgo[pr.Tool]
			if !ok {
				if t := sf.Tool(0, pr.Tool); t.Line > 0 {
					why = cgoBinaryWithoutLibc(d, final, t.Line, pr.Tool)
				}
				cgo[pr.Tool] = why
			}
			if why != "" {
				w = &withheld{analyzer.PreconditionTool, fmt.Sprintf("port %d speaks %s (%s), but %s", pt.Port, pt.Protocol, pt.Why, why)}
			}
		}
		if w != nil {
			// Say why for the port most likely to be the service's:
			// a server's own port before its side ports (epmd, a
			// cluster's transport), whatever order EXPOSE lists them in.
			r := 1
			switch {
			case pt.Main:
				r = 0
			case sidePorts[pt.Protocol]:
				r = 2
			}
			failed = append(failed, pt.Port)
			if fail == nil || r < failRank {
				fail, failRank, failPort = w, r, pt.Port
			}
			if w.why == analyzer.PreconditionTool && (toolFail == nil || r < toolFailRank) {
				toolFail, toolFailRank, toolFailPort = w, r, pt.Port
			}
			continue
		}
		rank := 1
		switch {
		case pt.Server != "" && pt.Protocol != analyzer.ProtoHTTP && pt.Protocol != analyzer.ProtoHTTPS:
			rank = 3
		case pt.Protocol == analyzer.ProtoHTTP:
			rank = 2
		}
		if rank > bestRank {
			best, bestRank = i, rank
		}
	}
	if best < 0 {
		// A port whose protocol is known but whose tool is missing says
		// the most: installing the tool would make the fix possible.
		w, named := fail, failPort
		if toolFail != nil {
			w, named = toolFail, toolFailPort
		}
		if len(failed) > 1 {
			var others []string
			for _, n := range failed {
				if n != named {
					others = append(others, strconv.Itoa(n))
				}
			}
			if len(others) > 6 {
				others = append(others[:6], fmt.Sprintf("%d more", len(others)-6))
			}
			if len(others) > 0 {
				w = &withheld{w.why, w.text + fmt.Sprintf("; the other exposed ports (%s) give no probe either", strings.Join(others, ", "))}
			}
		}
		return healthProbe{}, w
	}
	pt := ports[best]
	hp := healthProbe{line: "CMD " + pt.Probe.Command + " || exit 1"}
	switch {
	case strings.Contains(pt.Probe.Command, "|") && shell == analyzer.Present:
		// A shell-form probe runs with the stage's SHELL: one with
		// -o pipefail (which the pipefail fix adds) would fail wget's
		// pipe on a 404 and mark a working server unhealthy for good.
		hp.line = "CMD " + jsonArgs([]string{"/bin/sh", "-c", pt.Probe.Command + " || exit 1"})
	case strings.Contains(pt.Probe.Command, "|"):
		return healthProbe{}, &withheld{analyzer.PreconditionTool, fmt.Sprintf("the probe of port %d needs a shell for its pipe, which is not known to be in the final image", pt.Port)}
	case shell != analyzer.Present && strings.ContainsAny(pt.Probe.Command, "$\"'"):
		return healthProbe{}, &withheld{analyzer.PreconditionTool, fmt.Sprintf("the probe of port %d needs a shell to expand its arguments, which is not known to be in the final image", pt.Port)}
	case shell != analyzer.Present:
		hp.line = "CMD " + jsonArgs(strings.Fields(pt.Probe.Command))
	}
	switch {
	case pt.Protocol == analyzer.ProtoHTTP:
		hp.message = fmt.Sprintf("add a HEALTHCHECK that requests / on port %d with %s (port %d speaks HTTP: %s); any HTTP answer passes, a 404 included, so it shows the server answers, not that the app is healthy: point it at the service's health endpoint if it has one",
			pt.Port, pt.Probe.Tool, pt.Port, pt.Why)
	case pt.Protocol == analyzer.ProtoGRPC:
		hp.message = fmt.Sprintf("add a HEALTHCHECK that asks port %d with grpc_health_probe (%s); the service must register the gRPC health service", pt.Port, pt.Why)
	default:
		hp.message = fmt.Sprintf("add a HEALTHCHECK that runs %s's own readiness check, %s (port %d: %s)", pt.Server, pt.Probe.Command, pt.Port, pt.Why)
	}
	return hp, nil
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

// healthcheckFix inserts the HEALTHCHECK before the start command, where
// readers look for runtime settings, or at the end of a stage without one.
func healthcheckFix(d *analyzer.Dockerfile, final *analyzer.Stage, probe healthProbe) *analyzer.Fix {
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
		// Above the comment that describes the start command, not
		// between the two.
		line, start, gap := at.StartLine, at.Start, ""
		if above := commentsAbove(d, at.StartLine); above < line {
			line, gap = above, nl
			start = d.Offset(line) + len(d.Indent(line))
		}
		edit = analyzer.TextEdit{Start: start, End: start, New: kw + " " + probe.line + nl + gap + d.Indent(line)}
	} else {
		last := final.From
		if n := len(final.Instructions); n > 0 {
			last = final.Instructions[n-1]
		}
		edit = analyzer.TextEdit{Start: last.End, End: last.End, New: nl + kw + " " + probe.line}
		if last.End > 0 && d.Source[last.End-1] == '\n' {
			// The last line's end includes the file's final newline.
			edit.New = kw + " " + probe.line + nl
		}
	}
	return &analyzer.Fix{Message: probe.message, Edits: []analyzer.TextEdit{edit}}
}

// siteNotServed says why a probe of a stock nginx image proves nothing of
// its site, "" when it may: the site is copied where the packaged
// default.conf does not serve it, so / answers with nginx's welcome page
// whether the site is served or not.
func siteNotServed(p *analyzer.Pass) string {
	site, ok := nginxSiteOf(p)
	if !ok || !site.stock || site.staticDir == "" || site.staticDir == "/usr/share/nginx/html" || strings.HasPrefix(site.staticDir, "/usr/share/nginx/html/") {
		return ""
	}
	return "the site is copied to " + site.staticDir + ", and the image's stock configuration serves /usr/share/nginx/html: a probe of / would pass on nginx's welcome page whether the site is served or not; point the configuration at the site first"
}

// nextConfigStandalone matches `output: 'standalone'` in a next.config.
var nextConfigStandalone = regexp.MustCompile(`output\s*:\s*["'\x60]standalone["'\x60]`)

// nextStandaloneOffLoopback says why a probe of 127.0.0.1 would never
// reach the image's server, "" when it may: the container starts the
// server.js of Next.js's standalone output (the stage copies
// .next/standalone, or next.config sets output: 'standalone'), which
// listens on $HOSTNAME, and nothing sets HOSTNAME to an address that
// includes the loopback one. Docker sets HOSTNAME to the container's id,
// which resolves to its eth0 address, so the probe is refused forever; a
// HOSTNAME set to another address or a name is named in the reason.
func nextStandaloneOffLoopback(p *analyzer.Pass, sf *analyzer.StageFacts, final *analyzer.Stage) string {
	words := startWords(sf.StartCommand())
	host, hostSet := sf.EnvAt(0, "HOSTNAME")
	for len(words) > 0 && (words[0] == "env" || strings.Contains(words[0], "=")) {
		if v, ok := strings.CutPrefix(words[0], "HOSTNAME="); ok {
			host, hostSet = v, true
		}
		words = words[1:]
	}
	// The node image's docker-entrypoint.sh, tini and the like run the
	// command after them: the server is node's last word wherever node is.
	if i := slices.IndexFunc(words, func(w string) bool { return path.Base(w) == "node" }); i >= 0 {
		words = words[i:]
	}
	if len(words) < 2 || path.Base(words[0]) != "node" || path.Base(words[len(words)-1]) != "server.js" {
		return ""
	}
	host = strings.Trim(host, `"'`)
	if hostSet {
		switch host {
		case "0.0.0.0", "::", "[::]", "127.0.0.1":
			return ""
		}
	}
	evidence := ""
	for _, in := range final.LineageInstructions() {
		if c, ok := copyOf(in); ok && slices.ContainsFunc(c.sources, func(s string) bool { return strings.Contains(s, ".next/standalone") }) {
			evidence = fmt.Sprintf("line %d copies .next/standalone", in.StartLine)
			break
		}
	}
	if evidence == "" && p.Context != nil && p.Context.Package.HasDependency("next") {
		for _, name := range []string{"next.config.js", "next.config.mjs", "next.config.cjs", "next.config.ts"} {
			if b, err := p.Context.ReadFile(name); err == nil && nextConfigStandalone.Match(b) {
				evidence = name + " sets output: 'standalone'"
				break
			}
		}
	}
	if evidence == "" {
		return ""
	}
	listens := "Docker sets HOSTNAME to the container's id, whose address is not 127.0.0.1, so the probe would be refused"
	switch ip := net.ParseIP(strings.Trim(host, "[]")); {
	case !hostSet:
	case host == "":
		// An empty HOSTNAME is unset to server.js (process.env.HOSTNAME ||
		// '0.0.0.0') only in the Next versions that default so; older
		// ones defaulted to localhost.
		listens = "HOSTNAME is set empty, for which server.js falls back to a default that depends on the Next.js version (localhost in older ones), so the probe of 127.0.0.1 may be refused"
	case ip != nil:
		listens = fmt.Sprintf("HOSTNAME is set to %s, so the server listens on that address only, and a probe of 127.0.0.1 would be refused", host)
	case host == "localhost":
		// Node 17 and later keep the resolver's order, and a container's
		// /etc/hosts may list ::1 for localhost, which it then binds alone
		// (what Next's own switch of the standalone server from localhost
		// to 127.0.0.1 worked around).
		listens = "HOSTNAME is set to localhost, so the server listens only on the one address Node resolves it to, which may be ::1 rather than 127.0.0.1 (Node 17 and later keep the resolver's order), and the probe may be refused"
	default:
		listens = fmt.Sprintf("HOSTNAME is set to %s, so the server listens only on the one address Node resolves that name to, which dockopt cannot tell is 127.0.0.1, and the probe may be refused", host)
	}
	return "the container starts the server.js of Next.js's standalone output (" + evidence + "), which listens on $HOSTNAME, and " + listens + "; set ENV HOSTNAME=0.0.0.0 (as Next's Docker example does) and the probe can be added"
}

// portOrigin is the first clause of a port's reason, what declares it
// ("EXPOSE on line 4", "exposed by the base image …"), for a message that
// says the rest itself.
func portOrigin(why string) string {
	origin, _, _ := strings.Cut(why, "; ")
	return origin
}
