package analyzer

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// serverConfigs are the servers whose copied configuration dockopt reads
// for the ports they listen on: nginx's listen directives, Traefik's
// entry point addresses (YAML or TOML) and Caddy's site addresses, in the
// folders their official images read. exts are the files of a copied
// folder that count.
var serverConfigs = []struct {
	server, dir string
	exts        []string
	// listen finds the addresses in a file, or addrs when the format
	// needs more than a pattern.
	listen *regexp.Regexp
	addrs  func(text string) []string
	// word marks a RUN that may edit the listen setting in place.
	word string
}{
	{"nginx", "/etc/nginx", []string{".conf", ".template"}, regexp.MustCompile(`(?:^|[;{}\s])listen\s+([^;]+);`), nil, "listen"},
	{"nginx-unprivileged", "/etc/nginx", []string{".conf", ".template"}, regexp.MustCompile(`(?:^|[;{}\s])listen\s+([^;]+);`), nil, "listen"},
	{"traefik", "/etc/traefik", []string{".yml", ".yaml", ".toml"}, regexp.MustCompile(`(?i)\baddress\s*[:=]\s*["']?([^"'\s,}]*)`), nil, "address"},
	// The caddy image's CMD loads /etc/caddy/Caddyfile
	// (github.com/caddyserver/caddy-docker, Dockerfile.tmpl).
	{"caddy", "/etc/caddy", []string{"Caddyfile", ".caddyfile"}, nil, caddyfileSites, "Caddyfile"},
}

// configBudget bounds what the build context gives one server's
// configuration: a copied folder may hold any number of files, and a
// Dockerfile may copy a large file a thousand times (each read and
// searched, seconds of CPU per hundred copies). A real nginx or Traefik
// configuration is a few KiB in a few files; past the budget where the
// server listens is not known.
type configBudget struct {
	files, bytes int
	read         map[string]bool
}

func newConfigBudget() *configBudget {
	return &configBudget{files: 64, bytes: 2 << 20, read: map[string]bool{}}
}

// spent reports a reading that stopped at the budget.
func (b *configBudget) spent() bool { return b.files < 0 || b.bytes < 0 }

// configListen is where a configuration the lineage puts over a server's
// stock one makes it listen.
type configListen struct {
	server, dir string
	// line is the first instruction that puts configuration in dir, 0
	// when none does (the stock configuration applies).
	line int
	// ports are the TCP ports its listen directives name, in order and
	// without repeats.
	ports []int
	// unread says why some of the configuration cannot be read: it comes
	// from another stage or image, or a RUN changes it.
	unread string
	// addr is the first address that cannot be read as a port (a
	// variable an envsubst template fills), and addrAfter how many of
	// ports came before it.
	addr      string
	addrAfter int
	// source, when set, names what sets the ports in place of a copied
	// configuration (the start command's --listen).
	source string
	// exact says why ports may not be all and only the ports the server
	// binds, "" when they are (nginx only: every file that names one is
	// loaded, and none of the stock configuration's remains); httpPort is
	// then the one port that answers plain HTTP on 127.0.0.1, 0 for none,
	// and tls the ports it serves TLS on.
	exact    string
	httpPort int
	tls      []int
}

// where names what sets where the server listens, for messages.
func (c configListen) where() string {
	if c.source != "" {
		return c.source
	}
	return fmt.Sprintf("the configuration copied into %s on line %d", c.dir, c.line)
}

// known reports whether the configuration says where the server
// listens: all of it was read, and every address is a port.
func (c configListen) known() bool { return c.unread == "" && c.addr == "" }

// unknown says why the configuration does not say where the server
// listens.
func (c configListen) unknown() string {
	if c.unread != "" {
		return c.unread
	}
	return fmt.Sprintf("%s makes %s listen on %s, which dockopt cannot read as a port", c.where(), c.server, c.addr)
}

// serverListen returns what the configuration put over the named
// server's says of its ports; line is 0 when dockopt reads no
// configuration for it or none is put there.
func (sf *StageFacts) serverListen(name string) configListen {
	sf.listenOnce.Do(func() {
		for _, sc := range serverConfigs {
			if slices.ContainsFunc(sf.Servers(), func(s ServerFact) bool { return s.Name == sc.server }) {
				cl := sf.readServerConfig(sc.server, sc.dir, sc.exts, sc.listen, sc.addrs, sc.word)
				if sc.server == "caddy" {
					cl = sf.caddyStart(cl)
				}
				sf.listens = append(sf.listens, cl)
			}
		}
	})
	for _, l := range sf.listens {
		if l.server == name {
			return l
		}
	}
	return configListen{server: name}
}

// readServerConfig reads what the lineage copies or writes into a
// server's configuration folder dir: files from the build context (those
// of a copied folder ending in one of exts) and heredocs. A RUN that
// names the folder and the setting (sed -i 's/listen 80/listen 8080/',
// echo 'listen 8080;' > …) is not followed.
func (sf *StageFacts) readServerConfig(server, dir string, exts []string, listen *regexp.Regexp, addrs func(string) []string, word string) configListen {
	cl := configListen{server: server, dir: dir}
	in := func(dest string) bool { return dest == dir || strings.HasPrefix(dest, dir+"/") }
	note := func(l int, why string) {
		if cl.line == 0 {
			cl.line = l
		}
		if cl.unread == "" {
			cl.unread = why
		}
	}
	var texts []configText
	// stockGone is set by a RUN that removes the stock default.conf
	// before any configuration is copied; removed is a RUN that removes
	// configuration after some is, or changes it otherwise.
	stockGone, removed := false, ""
	// varying is a COPY whose source or destination a variable names.
	varying := ""
	budget := newConfigBudget()
	for _, st := range sf.steps {
		if budget.spent() {
			break
		}
		ins := st.in
		c, copies := copySpecOf(ins.Command)
		switch ins.Command.(type) {
		case *instructions.RunCommand:
			text := ins.Text(sf.facts.file.Source)
			switch stock, other := runInDir(text, dir); {
			case other && removed == "":
				removed = fmt.Sprintf("line %d changes files in %s in a RUN, which dockopt does not follow", ins.StartLine, dir)
			case stock && cl.line == 0:
				stockGone = true
			case stock && removed == "":
				removed = fmt.Sprintf("line %d removes files from %s after configuration is copied there", ins.StartLine, dir)
			}
			if strings.Contains(text, dir+"/") && strings.Contains(text, word) {
				if strings.Contains(text, "sed") {
					note(ins.StartLine, fmt.Sprintf("line %d edits the configuration in %s with sed, which dockopt does not follow", ins.StartLine, dir))
				} else {
					note(ins.StartLine, fmt.Sprintf("line %d writes the configuration in %s in a RUN, which dockopt does not read", ins.StartLine, dir))
				}
			}
			continue
		}
		if !copies {
			continue
		}
		dest := resolveIn(st.workdir, expandStatic(sf.lex, c.dest, st.env))
		if !in(dest) {
			continue
		}
		// A folder's files land under dest, and so does one file when
		// dest ends in a slash, names the folder itself or its conf.d,
		// both of which the images have, or several sources are copied.
		intoDir := strings.HasSuffix(c.dest, "/") || dest == dir || dest == dir+"/conf.d" || len(c.sources) > 1
		if cl.line == 0 {
			cl.line = ins.StartLine
		}
		if varying == "" && (strings.Contains(c.dest, "$") || slices.ContainsFunc(c.sources, func(s string) bool { return strings.Contains(s, "$") })) {
			varying = fmt.Sprintf("line %d names the configuration it copies with a variable, which a build argument may set to another file", ins.StartLine)
		}
		for _, sc := range c.inline {
			to := dest
			if intoDir {
				to = path.Join(dest, sc.Path)
			}
			texts = append(texts, configText{dest: to, text: sc.Data})
		}
		if c.from != "" {
			// Built in another stage or taken from an image: what it
			// says is not in any file dockopt can read.
			note(ins.StartLine, fmt.Sprintf("line %d copies a configuration into %s from %s (--from=%s), which dockopt does not read", ins.StartLine, dir, fromWhat(sf.facts.file, c.from), c.from))
			continue
		}
		for _, raw := range c.sources {
			if strings.HasPrefix(raw, "<<") {
				continue
			}
			src := expandStatic(sf.lex, raw, st.env)
			if c.add && remoteSource(src) {
				note(ins.StartLine, fmt.Sprintf("line %d copies a configuration into %s from outside the build context", ins.StartLine, dir))
				continue
			}
			t, ok := sf.readContextFiles(src, exts, budget)
			if budget.spent() {
				note(ins.StartLine, fmt.Sprintf("line %d copies more configuration into %s than dockopt reads", ins.StartLine, dir))
				break
			}
			if !ok {
				note(ins.StartLine, fmt.Sprintf("line %d copies %s into %s, which dockopt cannot read from the build context", ins.StartLine, src, dir))
				continue
			}
			for _, f := range t {
				texts = append(texts, configText{dest: copiedTo(src, f.name, dest, intoDir), text: f.text})
			}
		}
	}
	for _, t := range texts {
		var found []string
		if addrs != nil {
			found = addrs(t.text)
		} else {
			for _, m := range listen.FindAllStringSubmatch(t.text, -1) {
				found = append(found, m[1])
			}
		}
		cl.add(found)
	}
	if server == "traefik" {
		sf.traefikStart(&cl, texts)
	}
	switch {
	case !strings.HasPrefix(server, "nginx"):
		cl.exact = "dockopt reads only nginx's configuration for every port it binds"
	case cl.line == 0:
		cl.exact = "no configuration is put over the stock one"
	case !cl.known():
		cl.exact = cl.unknown()
	case removed != "":
		cl.exact = removed
	case varying != "":
		cl.exact = varying
	default:
		cl.exact, cl.httpPort, cl.tls = sf.nginxExact(texts, cl.ports, stockGone)
	}
	return cl
}

// runSegment splits a RUN's text into its simple commands, roughly.
var runSegment = regexp.MustCompile(`&&|\|\||[;|\n]`)

// runInDir reads what a RUN does to the files in dir: stock is set when a
// command removes the stock default.conf (or every file of conf.d) and
// nothing else, other when a command other than chown, chmod, mkdir, ls
// or cat names a file there (it may write or move configuration).
func runInDir(text, dir string) (stock, other bool) {
	for _, seg := range runSegment.Split(text, -1) {
		if !strings.Contains(seg, dir+"/") {
			continue
		}
		words := strings.Fields(seg)
		if len(words) > 0 && strings.EqualFold(words[0], "RUN") {
			words = words[1:]
		}
		for len(words) > 0 && strings.HasPrefix(words[0], "--") {
			// RUN --mount=… options.
			words = words[1:]
		}
		if len(words) == 0 {
			continue
		}
		switch path.Base(words[0]) {
		case "chown", "chmod", "mkdir", "ls", "cat":
			continue
		case "rm":
			only := true
			for _, w := range words[1:] {
				if !strings.HasPrefix(w, "-") && w != nginxStockConf && w != "/etc/nginx/conf.d/*" && w != "\\" {
					only = false
				}
			}
			if only {
				stock = true
				continue
			}
		}
		other = true
	}
	return stock, other
}

// maxListenPorts bounds the ports a configuration may name: a real one
// names a few, and a hostile one tens of thousands (each compared with
// those before it, and all named in a message).
const maxListenPorts = 32

// add records the ports of addresses, in order; the first one that is
// not a port is kept as addr. Past maxListenPorts, where the server
// listens is not known.
func (cl *configListen) add(addrs []string) {
	for _, a := range addrs {
		port, known := listenAddrPort(a)
		switch {
		case !known:
			if cl.addr == "" {
				cl.addr, cl.addrAfter = strings.TrimSpace(a), len(cl.ports)
			}
		case port > 0 && !slices.Contains(cl.ports, port):
			if len(cl.ports) == maxListenPorts {
				if cl.unread == "" {
					cl.unread = fmt.Sprintf("%s makes %s listen on more than %d ports, more than dockopt reads", cl.where(), cl.server, maxListenPorts)
				}
				return
			}
			cl.ports = append(cl.ports, port)
		}
	}
}

// remoteSource reports an ADD source BuildKit fetches rather than reads
// from the build context: a URL or a git repository.
func remoteSource(src string) bool {
	s := strings.ToLower(src)
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git@")
}

// readContextFiles reads a COPY source from the build context: one file,
// or the files of a folder (or a pattern) whose names end in one of exts,
// that the .dockerignore lets through. ok is false when some cannot be
// read: the listing was truncated, a file is too large, or the budget is
// spent (each source and each file read count). A file the budget
// already read is not read again.
func (sf *StageFacts) readContextFiles(src string, exts []string, budget *configBudget) (out []contextFile, ok bool) {
	bc := sf.facts.ctx
	if bc == nil || bc.Truncated {
		// Past a truncated listing, a source may hold files the listing
		// never reached.
		return nil, false
	}
	// Each source costs a pass over the listing: a pattern copied on
	// thousands of lines over a large context took seconds a hundred.
	if budget.files--; budget.files < 0 {
		return nil, false
	}
	src = path.Clean(strings.TrimPrefix(src, "/"))
	matched := false
	for _, f := range bc.Files {
		if !SourceCovers(src, f) || bc.DockerIgnore.Excludes(f) {
			continue
		}
		if f != src && !slices.ContainsFunc(exts, func(e string) bool { return strings.HasSuffix(f, e) }) {
			continue
		}
		matched = true
		if budget.read[f] {
			// Copied again: it says nothing new.
			continue
		}
		budget.read[f] = true
		if budget.files--; budget.files < 0 {
			return nil, false
		}
		b, err := bc.ReadFile(f)
		if err != nil || len(b) > maxScriptRead {
			return nil, false
		}
		if budget.bytes -= len(b); budget.bytes < 0 {
			return nil, false
		}
		out = append(out, contextFile{name: f, text: string(b)})
	}
	return out, matched
}

// contextFile is a file of the build context and its text.
type contextFile struct{ name, text string }

// SourceCovers reports whether a COPY source (a path, a folder or a
// pattern, relative to the context) includes the context file f.
func SourceCovers(src, f string) bool {
	src = path.Clean(strings.TrimPrefix(src, "/"))
	switch src {
	case ".", "*":
		return true
	}
	if ok, _ := path.Match(src, f); ok {
		return true
	}
	if strings.HasPrefix(f, src+"/") {
		return true
	}
	// A pattern naming a folder: `COPY conf* /etc/nginx` copies conf.d/ whole.
	for dir := path.Dir(f); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if ok, _ := path.Match(src, dir); ok {
			return true
		}
	}
	return false
}

// listenAddrPort reads the port of an nginx listen directive's address or
// a Traefik entry point's: 8080, [::]:8080, 0.0.0.0:8080, :8080; a host
// alone listens on 80. port is 0 for what is not a TCP port (a unix
// socket, a UDP entry point); known is false for what cannot be read (a
// variable an envsubst template fills).
func listenAddrPort(addr string) (port int, known bool) {
	fields := strings.Fields(addr)
	if len(fields) == 0 {
		return 0, false
	}
	a := strings.Trim(fields[0], `"'`)
	if strings.ContainsAny(a, "${") {
		return 0, false
	}
	if strings.HasPrefix(a, "unix:") || strings.HasSuffix(a, "/udp") {
		return 0, true
	}
	a = strings.TrimSuffix(a, "/tcp")
	if i := strings.LastIndex(a, ":"); i >= 0 && !strings.HasSuffix(a, "]") {
		a = a[i+1:]
	} else if _, err := strconv.Atoi(a); err != nil {
		return 80, true
	}
	n, err := strconv.Atoi(a)
	if err != nil || n <= 0 || n > 65535 {
		return 0, false
	}
	return n, true
}

// movedOff says why a server may not listen on the ports its base image
// EXPOSEs (inherited), "" when it may: the configuration put over the
// stock one names other ports, or cannot be read. The base image's
// EXPOSE describes its stock configuration. A configuration that names
// no port leaves the stock one's. to are the ports it names instead.
func (cl configListen) movedOff(inherited []int) (why string, to []int) {
	if cl.line == 0 || len(inherited) == 0 {
		return "", nil
	}
	base := fmt.Sprintf("port %d, which the base image EXPOSEs for its stock configuration", inherited[0])
	if cl.unread != "" {
		return fmt.Sprintf("%s; it may move %s off %s", cl.unread, cl.server, base), nil
	}
	before := cl.ports
	if cl.addr != "" {
		before = cl.ports[:cl.addrAfter]
	}
	for _, p := range before {
		if slices.Contains(inherited, p) {
			return "", nil
		}
	}
	if cl.addr != "" {
		return fmt.Sprintf("%s makes %s listen on %s, which dockopt cannot read as a port; it may not be %s", cl.where(), cl.server, cl.addr, base), nil
	}
	names := make([]string, len(cl.ports))
	for i, p := range cl.ports {
		names[i] = strconv.Itoa(p)
	}
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return fmt.Sprintf("%s makes %s listen on port %s, not on %s", cl.where(), cl.server, names[0], base), cl.ports
	}
	return fmt.Sprintf("%s makes %s listen on ports %s and %s, not on %s", cl.where(), cl.server, strings.Join(names[:len(names)-1], ", "), names[len(names)-1], base), cl.ports
}

// fromWhat names what a COPY --from reads: a stage of the file, or an
// image.
func fromWhat(d *Dockerfile, from string) string {
	if d.StageByRef(from) != nil {
		return "another stage"
	}
	return "an image"
}
