package analyzer

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// nginx's configuration as the official images lay it out: the nginx.org
// packages' /etc/nginx/nginx.conf loads /etc/nginx/conf.d/*.conf inside
// its http block, and the packaged conf.d/default.conf listens on 80
// (nginxinc/docker-nginx, stable and mainline Dockerfiles).
// nginxinc/docker-nginx-unprivileged keeps that layout and edits the
// stock default.conf to listen on 8080, which it EXPOSEs (its
// mainline/alpine-slim Dockerfile). Both images' entrypoint,
// /docker-entrypoint.sh, runs 20-envsubst-on-templates.sh, which writes
// each /etc/nginx/templates/NAME.template to /etc/nginx/conf.d/NAME.
const (
	nginxMain      = "/etc/nginx/nginx.conf"
	nginxStockConf = "/etc/nginx/conf.d/default.conf"
	nginxTemplates = "/etc/nginx/templates/"
)

var nginxStockIncludes = []string{"/etc/nginx/conf.d/*.conf"}

// configText is one configuration file a lineage puts in a server's
// folder: where it lands in the image and its text.
type configText struct {
	dest, text string
}

// nginxListen is one listen directive of an nginx configuration.
type nginxListen struct {
	host   string
	port   int
	params []string
	// ctx is the block it serves: http, stream or mail.
	ctx string
}

// nginxFile is what one configuration file says of where nginx listens.
type nginxFile struct {
	listens  []nginxListen
	includes []string
	// bare counts the server blocks without a listen directive, which
	// nginx puts on port 80 (8000 without root).
	bare int
	// odd is a listen address that is not a port dockopt reads.
	odd string
}

// nginxTokens splits nginx configuration text into words, braces and
// semicolons, without comments; quoted words keep their text.
func nginxTokens(s string) []string {
	var out []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '#' && word.Len() == 0:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				j = len(s) - i - 1
			}
			word.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '{' || c == '}' || c == ';':
			flush()
			out = append(out, string(c))
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		default:
			word.WriteByte(c)
		}
	}
	flush()
	return out
}

// parseNginx reads the listen and include directives of one file. top is
// the block the file's top level is in: main for nginx.conf, http for a
// file nginx.conf includes there.
func parseNginx(text, top string) nginxFile {
	var f nginxFile
	stack := []string{top}
	// listened says, per open server block, whether it has a listen.
	var listened []bool
	var stmt []string
	ctx := func() string {
		for _, b := range slices.Backward(stack) {
			switch b {
			case "http", "stream", "mail":
				return b
			}
		}
		return top
	}
	for _, t := range nginxTokens(text) {
		switch t {
		case "{":
			name := ""
			if len(stmt) > 0 {
				name = stmt[0]
			}
			stack = append(stack, name)
			if name == "server" {
				listened = append(listened, false)
			}
			stmt = nil
		case "}":
			if len(stack) > 1 {
				if stack[len(stack)-1] == "server" && len(listened) > 0 {
					if !listened[len(listened)-1] && ctx() == "http" {
						f.bare++
					}
					listened = listened[:len(listened)-1]
				}
				stack = stack[:len(stack)-1]
			}
			stmt = nil
		case ";":
			switch {
			case len(stmt) >= 2 && stmt[0] == "listen":
				if len(listened) > 0 {
					listened[len(listened)-1] = true
				}
				host, port, ok := nginxAddr(stmt[1])
				if !ok {
					if f.odd == "" {
						f.odd = stmt[1]
					}
					break
				}
				if port > 0 {
					f.listens = append(f.listens, nginxListen{host: host, port: port, params: stmt[2:], ctx: ctx()})
				}
			case len(stmt) == 2 && stmt[0] == "include":
				f.includes = append(f.includes, stmt[1])
			}
			stmt = nil
		default:
			stmt = append(stmt, t)
		}
	}
	return f
}

// nginxAddr reads a listen directive's address: host and port (8080,
// 127.0.0.1:8080, [::]:8080, a host alone on 80); port is 0 for a unix
// socket, ok false for what is not a literal (a variable).
func nginxAddr(a string) (host string, port int, ok bool) {
	if strings.ContainsAny(a, "${") {
		return "", 0, false
	}
	if strings.HasPrefix(a, "unix:") {
		return "", 0, true
	}
	if n, err := strconv.Atoi(a); err == nil {
		return "", n, n > 0 && n <= 65535
	}
	i := strings.LastIndex(a, ":")
	if i < 0 || strings.HasSuffix(a, "]") {
		return a, 80, true
	}
	n, err := strconv.Atoi(a[i+1:])
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, false
	}
	return a[:i], n, true
}

// plainParams are the listen parameters that leave a port answering
// plain HTTP/1.1 on it: socket options and the default server's marks.
// ssl makes the port TLS; http2 without ssl (before nginx 1.25.1),
// proxy_protocol and quic make it answer something a plain request does
// not get through.
func plainParam(p string) bool {
	name, _, _ := strings.Cut(p, "=")
	switch name {
	case "default_server", "default", "bind", "reuseport", "deferred", "backlog", "rcvbuf", "sndbuf", "ipv6only",
		"so_keepalive", "fastopen", "accept_filter", "setfib":
		return true
	}
	return false
}

// nginxExact reads the nginx configuration a lineage puts in /etc/nginx
// for the ports nginx listens on, when the image's own command or nginx
// itself starts it: exact says why they may not be all and
// only the ones it binds, "" when they are; httpPort is the one port that
// answers plain HTTP on 127.0.0.1, 0 when none or more than one does
// (unless one of them alone is the default server); tls are the ports it
// serves TLS on.
func (sf *StageFacts) nginxExact(texts []configText, ports []int, stockGone bool) (exact string, httpPort int, tls []int) {
	words := sf.StartCommand()
	if f := nginxConfFile(words); f != "" {
		return fmt.Sprintf("the start command runs nginx -c %s, whose includes dockopt does not follow", f), 0, nil
	}
	if len(words) > 0 && path.Base(words[0]) == "docker-entrypoint.sh" {
		words = words[1:]
	}
	if len(words) > 0 && path.Base(words[0]) != "nginx" {
		// A script may rewrite the configuration (sed on $PORT) before
		// it starts nginx.
		return fmt.Sprintf("the image starts %s, not nginx itself, which may change the configuration first", words[0]), 0, nil
	}
	entry, _ := lineageStart(sf.chain)
	includes := nginxStockIncludes
	for _, t := range texts {
		if t.dest == nginxMain {
			includes = nil
			for _, inc := range parseNginx(t.text, "main").includes {
				if !strings.HasPrefix(inc, "/") {
					inc = path.Join("/etc/nginx", inc)
				}
				includes = append(includes, inc)
			}
		}
	}
	loaded := func(dest string) bool {
		return slices.ContainsFunc(includes, func(inc string) bool { ok, _ := path.Match(inc, dest); return ok })
	}
	stockLoaded := loaded(nginxStockConf) && !stockGone
	var found []int
	var listens []nginxListen
	for _, t := range texts {
		dest, top := t.dest, "http"
		if dest == nginxMain {
			top = "main"
		}
		if name, ok := strings.CutPrefix(dest, nginxTemplates); ok && strings.HasSuffix(name, ".template") && entry == nil {
			dest = "/etc/nginx/conf.d/" + strings.TrimSuffix(name, ".template")
		}
		if dest == nginxStockConf {
			stockLoaded = false
		}
		f := parseNginx(t.text, top)
		switch {
		case f.odd != "":
			return fmt.Sprintf("%s listens on %s, which dockopt cannot read as a port", t.dest, f.odd), 0, nil
		case len(f.listens) == 0 && f.bare == 0:
			continue
		case dest != nginxMain && !loaded(dest):
			return fmt.Sprintf("%s names listen ports, and nginx.conf does not include it where dockopt can tell", t.dest), 0, nil
		case f.bare > 0:
			return fmt.Sprintf("%s has a server block without a listen directive, which nginx puts on port 80", t.dest), 0, nil
		}
		for _, l := range f.listens {
			if !slices.Contains(found, l.port) {
				found = append(found, l.port)
			}
		}
		listens = append(listens, f.listens...)
	}
	if stockLoaded {
		return "the image's stock " + nginxStockConf + " is still loaded, and it listens on a port of its own", 0, nil
	}
	if slices.Compare(slices.Sorted(slices.Values(found)), slices.Sorted(slices.Values(ports))) != 0 {
		// A listen the tokens drop (a comment) but the directive
		// search finds: the two readings disagree.
		return "dockopt reads the listen directives in two ways that disagree", 0, nil
	}
	var plain, defaults []int
	for _, port := range found {
		isTLS, odd, v4, def := false, false, false, false
		for _, l := range listens {
			if l.port != port {
				continue
			}
			if l.ctx != "http" {
				odd = true
			}
			for _, p := range l.params {
				switch {
				case p == "ssl":
					isTLS = true
				case p == "default_server" || p == "default":
					def = true
				case !plainParam(p):
					odd = true
				}
			}
			switch l.host {
			case "", "*", "0.0.0.0", "127.0.0.1", "localhost":
				v4 = true
			}
		}
		switch {
		case isTLS && !odd:
			tls = append(tls, port)
		case !isTLS && !odd && v4:
			plain = append(plain, port)
			if def {
				defaults = append(defaults, port)
			}
		}
	}
	switch {
	case len(plain) == 1:
		httpPort = plain[0]
	case len(defaults) == 1:
		httpPort = defaults[0]
	}
	return "", httpPort, tls
}

// nginxConfFile returns the configuration file an nginx start command
// names with -c, "" when it names none or the image's own nginx.conf.
func nginxConfFile(words []string) string {
	i := slices.IndexFunc(words, func(w string) bool { return path.Base(w) == "nginx" })
	if i < 0 {
		return ""
	}
	for j := i + 1; j+1 < len(words); j++ {
		if words[j] == "-c" {
			if f := path.Clean(words[j+1]); f != nginxMain {
				return f
			}
		}
	}
	return ""
}

// ListenPorts returns the TCP ports the stage's process binds, when its
// copied configuration says exactly: the stage runs one server, nginx,
// and its configuration names every port it listens on
// (configListen.exact, which also asks that the image's own command or
// nginx itself starts it).
// ok is false when that is not certain; where the process may bind other
// ports, the EXPOSEd ones are all there is to go by.
func (sf *StageFacts) ListenPorts() (ports []int, ok bool) {
	srv := sf.Servers()
	if len(srv) != 1 {
		return nil, false
	}
	cl := sf.serverListen(srv[0].Name)
	if cl.exact != "" || len(cl.ports) == 0 {
		return nil, false
	}
	return slices.Clone(cl.ports), true
}
