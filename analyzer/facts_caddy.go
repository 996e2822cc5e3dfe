package analyzer

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Caddy's listening addresses, from caddyserver.com/docs: a Caddyfile's
// site blocks start with their addresses (caddyfile/concepts#addresses;
// one site may leave its block's braces out, and a global options block
// comes first); `caddy file-server` binds --listen, else :80
// (command-line#caddy-file-server); `caddy reverse-proxy` receives on
// --from, localhost by default; `caddy run` loads --config, else a
// Caddyfile in its working directory (command-line#caddy-run).

// caddyfileSites returns the site addresses of a Caddyfile, each as an
// address listenAddrPort reads: ":8080", "443" for a host Caddy serves
// over HTTPS (it also redirects from port 80), or the address itself when
// it cannot be read as a port (a placeholder, an import of more sites, a
// global option that moves the HTTP or HTTPS port).
func caddyfileSites(text string) []string {
	var out []string
	depth, global, sawSite := 0, false, false
	for _, line := range strings.Split(text, "\n") {
		fields := caddyFields(line)
		if len(fields) == 0 {
			continue
		}
		opens := fields[len(fields)-1] == "{"
		switch {
		case depth > 0:
			if global && depth == 1 {
				switch fields[0] {
				case "http_port", "https_port", "auto_https", "default_bind":
					out = append(out, "{"+fields[0]+"}")
				}
			}
			if fields[0] == "}" {
				depth--
			}
			if opens {
				depth++
			}
			continue
		case fields[0] == "{" && len(fields) == 1 && !sawSite:
			global = true
		case fields[0] == "}":
		case strings.HasPrefix(fields[0], "("):
			// A snippet, used by import: not a site.
			global = false
		case fields[0] == "import":
			out = append(out, "{import}")
		default:
			global = false
			addrs := fields
			if opens {
				addrs = fields[:len(fields)-1]
			}
			for _, a := range addrs {
				for _, part := range strings.Split(a, ",") {
					if part != "" {
						out = append(out, caddyAddr(part))
					}
				}
			}
			if !opens && !sawSite {
				// One site without braces: the rest are its directives.
				return out
			}
			sawSite = true
		}
		if opens {
			depth++
		}
	}
	return out
}

// caddyFields splits a Caddyfile line into its tokens, without a comment.
func caddyFields(line string) []string {
	var out []string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "#") {
			break
		}
		out = append(out, f)
	}
	return out
}

// caddyAddr reads one Caddy address (a site address or a --listen or
// --from value) as listenAddrPort does.
func caddyAddr(a string) string {
	if strings.ContainsAny(a, "{$") {
		return a
	}
	scheme, rest, ok := strings.Cut(a, "://")
	if !ok {
		scheme, rest = "", a
	}
	if i := strings.Index(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.HasSuffix(rest, "]") {
		return ":" + rest[i+1:]
	}
	switch scheme {
	case "http":
		return "80"
	case "", "https":
		return "443"
	}
	return a
}

// caddyStart is cl as the image's start command leaves it: caddy's
// file-server, reverse-proxy and respond subcommands listen where their
// command line says, whatever the Caddyfile says, and caddy run reads the
// stock /etc/caddy/Caddyfile only when --config names it.
func (sf *StageFacts) caddyStart(cl configListen) configListen {
	words := sf.StartCommand()
	_, _, entryLine, cmdLine := sf.startInstructions()
	line := max(entryLine, cmdLine)
	unread := func(why string) configListen {
		if cl.line == 0 {
			cl.line = line
		}
		cl.unread = fmt.Sprintf("the start command (line %d) %s", line, why)
		return cl
	}
	i := slices.IndexFunc(words, func(w string) bool { return path.Base(w) == "caddy" })
	if i < 0 {
		if slices.ContainsFunc(words, func(w string) bool { return strings.Contains(w, "caddy ") }) {
			return unread("runs caddy inside a shell string, whose arguments dockopt does not read")
		}
		return cl
	}
	if i+1 >= len(words) {
		return cl
	}
	args := words[i+2:]
	listen := func(addr string) configListen {
		out := configListen{server: cl.server, dir: cl.dir, line: line, source: fmt.Sprintf("the start command (line %d)", line)}
		out.add([]string{caddyAddr(addr)})
		return out
	}
	switch words[i+1] {
	case "run", "start":
		config, set := caddyFlag(args, "config")
		switch {
		case slices.Contains(args, "--resume") || slices.Contains(args, "-resume"):
			return unread("makes caddy resume its last configuration, which dockopt cannot read")
		case !set:
			return unread("runs caddy without --config, so it loads a Caddyfile from its working directory, which dockopt does not read")
		case path.Clean(config) != "/etc/caddy/Caddyfile":
			return unread(fmt.Sprintf("makes caddy load %s, which dockopt does not read", config))
		}
	case "file-server":
		if addr, ok := caddyFlag(args, "listen"); ok {
			return listen(addr)
		}
		if _, ok := caddyFlag(args, "domain"); ok {
			return unread("makes caddy file-server serve a --domain, which moves it to HTTPS")
		}
		return listen(":80")
	case "reverse-proxy":
		addr, ok := caddyFlag(args, "from")
		if !ok {
			addr = "localhost"
		}
		return listen(addr)
	case "respond":
		if addr, ok := caddyFlag(args, "listen"); ok {
			return listen(addr)
		}
		return unread("runs caddy respond without --listen, which picks a free port")
	}
	return cl
}

// caddyFlag returns the value of a caddy subcommand's flag: --name value,
// --name=value, or with one dash.
func caddyFlag(args []string, name string) (string, bool) {
	for i, a := range args {
		flag := strings.TrimLeft(a, "-")
		if flag == a {
			continue
		}
		if v, ok := strings.CutPrefix(flag, name+"="); ok {
			return v, true
		}
		if flag == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}
