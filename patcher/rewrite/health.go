package rewrite

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// A rewrite writes a HEALTHCHECK only with evidence of the endpoint: the
// original's own HEALTHCHECK, a route the started app registers in its
// sources together with the port it binds, or a server whose config the
// rewrite writes itself. Without it the rewrite has no HEALTHCHECK and
// says why: a probe of a guessed endpoint marks a working service
// unhealthy.

// health is what a rewrite does about the HEALTHCHECK.
type health struct {
	// line is the HEALTHCHECK to write, "" for none.
	line string
	// note is the explanation bullet, "" when there is nothing to say.
	note string
}

// newProbeOptions are the timings of a HEALTHCHECK the rewrite adds.
const newProbeOptions = "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\\n  CMD "

// endpoint is a health route the app serves and where it listens.
type endpoint struct {
	route string
	// port is the port the app binds; env names the variable the app
	// reads it from first, with port as the fallback ("" for a fixed port).
	port int
	env  string
	// file is where the route was found, for the explanation.
	file string
}

func (e endpoint) describePort() string {
	if e.env != "" {
		return fmt.Sprintf("port $%s (%d unless set)", e.env, e.port)
	}
	return fmt.Sprintf("port %d", e.port)
}

// prober turns an endpoint into the command of a probe that runs with the
// runtime's own interpreter; timeout is in seconds, 0 for none.
type prober struct {
	tool        string
	forEndpoint func(e endpoint, timeout int) []string
	forURL      func(u string, timeout int) []string
}

var pythonProber = prober{
	tool: "python",
	forEndpoint: func(e endpoint, timeout int) []string {
		u := fmt.Sprintf("'http://127.0.0.1:%d%s'", e.port, e.route)
		imports := "urllib.request"
		if e.env != "" {
			u = fmt.Sprintf("'http://127.0.0.1:' + os.environ.get('%s', '%d') + '%s'", e.env, e.port, e.route)
			imports = "os, urllib.request"
		}
		return []string{"python", "-c", fmt.Sprintf("import %s; urllib.request.urlopen(%s%s)", imports, u, pyTimeout(timeout))}
	},
	forURL: func(u string, timeout int) []string {
		return []string{"python", "-c", fmt.Sprintf("import urllib.request; urllib.request.urlopen('%s'%s)", u, pyTimeout(timeout))}
	},
}

func pyTimeout(s int) string {
	if s <= 0 {
		return ""
	}
	return fmt.Sprintf(", timeout=%d", s)
}

// nodeProber uses fetch from Node 18 on, http.get before.
func nodeProber(major int) prober {
	js := func(urlExpr string) string {
		if major > 0 && major < 18 {
			return fmt.Sprintf("require('http').get(%s, (r) => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))", urlExpr)
		}
		return fmt.Sprintf("fetch(%s).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))", urlExpr)
	}
	return prober{
		tool: "node",
		forEndpoint: func(e endpoint, _ int) []string {
			u := fmt.Sprintf("'http://127.0.0.1:%d%s'", e.port, e.route)
			if e.env != "" {
				u = fmt.Sprintf("'http://127.0.0.1:' + (process.env.%s || %d) + '%s'", e.env, e.port, e.route)
			}
			return []string{"node", "-e", js(u)}
		},
		forURL: func(u string, _ int) []string { return []string{"node", "-e", js("'" + u + "'")} },
	}
}

// keptHealth decides what becomes of the original's HEALTHCHECK in a
// runtime built on image with pkgs installed. A check the runtime can run
// is kept as written; a plain HTTP probe with curl or wget that the
// runtime lacks asks the same URL with the interpreter instead. withheld
// is set when the original's check works and the runtime could not run
// it: dropping a working check is a regression.
func (o *original) keptHealth(image analyzer.ImageRef, pkgs []string, pr prober) (h health, withheld string) {
	if o.healthIn == nil {
		return health{}, ""
	}
	hc, ok := o.healthIn.Command.(*instructions.HealthCheckCommand)
	if !ok || hc.Health == nil || len(hc.Health.Test) == 0 {
		return health{}, "dockopt could not read the original HEALTHCHECK"
	}
	kept := health{line: o.health}
	if hc.Health.Test[0] == "NONE" {
		return kept, ""
	}
	tool, rawURL := plainProbe(hc.Health.Test)
	if tool == "" {
		return health{}, "dockopt could not tell which program the original HEALTHCHECK runs"
	}
	if tool == pr.tool || tool == pr.tool+"3" {
		return kept, ""
	}
	if script, ok := o.scriptTool(tool); ok {
		if script == "" {
			// A script of the app's that calls neither curl nor wget.
			return kept, ""
		}
		tool, rawURL = script, ""
	}
	if runtimeHas(image, pkgs, tool) == analyzer.Present {
		return kept, ""
	}
	if rawURL != "" {
		line := "HEALTHCHECK CMD " + execForm(pr.forURL(rawURL, 0))
		if len(o.healthIn.Flags) > 0 {
			line = "HEALTHCHECK " + strings.Join(o.healthIn.Flags, " ") + " \\\n  CMD " + execForm(pr.forURL(rawURL, 0))
		}
		return health{
			line: line,
			note: fmt.Sprintf("The original HEALTHCHECK ran `%s`, which `%s` does not ship; the same URL is asked with %s itself.", tool, image.Raw, pr.tool),
		}, ""
	}
	before, why := o.facts().ToolAt(0, tool)
	switch before {
	case analyzer.Absent:
		return health{line: o.health, note: fmt.Sprintf("The original HEALTHCHECK runs `%s`, which neither the original image nor the runtime has (%s), so it can never pass; it is kept as it was, for you to fix.", tool, why)}, ""
	case analyzer.Present:
		return health{}, fmt.Sprintf("the original HEALTHCHECK runs %s, which the original image has (%s) and the runtime %s does not", tool, why, image.Raw)
	}
	return health{}, fmt.Sprintf("the original HEALTHCHECK runs %s, and dockopt does not know whether the runtime %s has it", tool, image.Raw)
}

// scriptTool reads a health script the original copies from the context
// and returns curl or wget when it calls one, "" when it calls neither; ok
// is false when tool is not such a script.
func (o *original) scriptTool(tool string) (string, bool) {
	if !strings.Contains(tool, "/") && !strings.HasSuffix(tool, ".sh") && !strings.HasSuffix(tool, ".py") && !strings.HasSuffix(tool, ".js") {
		return "", false
	}
	p := tool
	if !path.IsAbs(p) {
		p = path.Join(o.workdir, p)
	}
	src, ok := o.contextPathOf(p)
	if !ok {
		return "", false
	}
	b, err := o.bc.ReadFile(src)
	if err != nil {
		return "", false
	}
	for _, c := range scriptCalls {
		if c.re.Match(b) {
			return c.tool, true
		}
	}
	return "", true
}

// scriptCalls find curl and wget run by a health script, in that order.
var scriptCalls = []struct {
	tool string
	re   *regexp.Regexp
}{
	{"curl", regexp.MustCompile(`(^|[\s;|&(])curl\s`)},
	{"wget", regexp.MustCompile(`(^|[\s;|&(])wget\s`)},
}

// plainProbe returns the program a HEALTHCHECK test runs and, when it is
// a plain HTTP GET of a local URL with curl --fail or wget, that URL.
func plainProbe(test []string) (tool, rawURL string) {
	var words []string
	switch test[0] {
	case "CMD":
		words = test[1:]
	case "CMD-SHELL":
		if len(test) < 2 {
			return "", ""
		}
		var ok bool
		if words, ok = shellCall(test[1]); !ok {
			if len(words) > 0 {
				return path.Base(words[0]), ""
			}
			return "", ""
		}
	}
	if len(words) == 0 {
		return "", ""
	}
	tool = words[0]
	if b := path.Base(tool); slices.Contains(probeTools, b) {
		tool = b
	}
	if isShellName(tool) && len(words) > 2 && words[1] == "-c" {
		// sh -c "curl …": the shell is not what the probe needs.
		return plainProbe([]string{"CMD-SHELL", words[2]})
	}
	switch tool {
	case "curl":
		return tool, curlURL(words[1:])
	case "wget":
		return tool, wgetURL(words[1:])
	}
	return tool, ""
}

// probeTools are the programs of a HEALTHCHECK known by their base name
// wherever they are installed.
var probeTools = []string{"curl", "wget", "python", "python3", "node", "sh", "bash"}

func isShellName(tool string) bool { return tool == "sh" || tool == "bash" }

// shellCall reads `CMD [|| exit 1]` from a shell-form HEALTHCHECK: ok is
// false when the script is anything else; words holds what could be read.
func shellCall(src string) (words []string, ok bool) {
	f, err := syntax.NewParser().Parse(strings.NewReader(src), "")
	if err != nil || len(f.Stmts) != 1 || len(f.Stmts[0].Redirs) > 0 {
		return nil, false
	}
	return callWords(f.Stmts[0].Cmd)
}

func callWords(cmd syntax.Command) (words []string, ok bool) {
	if b, isBin := cmd.(*syntax.BinaryCmd); isBin {
		exit, isCall := b.Y.Cmd.(*syntax.CallExpr)
		plain := b.Op == syntax.OrStmt && isCall && len(exit.Args) > 0 && len(b.X.Redirs) == 0
		if plain {
			w, _ := analyzer.Literal(exit.Args[0])
			plain = w == "exit"
		}
		words, ok = callWords(b.X.Cmd)
		// A pipe or a list names its first program, but is no plain probe.
		return words, ok && plain
	}
	call, isCall := cmd.(*syntax.CallExpr)
	if !isCall {
		return nil, false
	}
	for _, a := range call.Args {
		w, lit := analyzer.Literal(a)
		if !lit {
			return words, false
		}
		words = append(words, w)
	}
	return words, true
}

// localURL accepts a plain http URL of the container itself.
func localURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.User != nil || strings.ContainsAny(u, "'\"\\ `$") {
		return false
	}
	switch p.Hostname() {
	case "localhost", "127.0.0.1", "::1", "0.0.0.0":
		return true
	}
	return false
}

// curlURL returns the URL of `curl --fail [-sSL] [-o /dev/null] URL`;
// without --fail curl succeeds on an error status, which the interpreter's
// probe would not.
func curlURL(args []string) string {
	fail, u := false, ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--fail" || a == "--silent" || a == "--show-error" || a == "--location":
			fail = fail || a == "--fail"
		case (a == "-o" || a == "--output") && i+1 < len(args) && args[i+1] == "/dev/null":
			i++
		case (a == "-m" || a == "--max-time" || a == "--connect-timeout") && i+1 < len(args):
			i++
		case strings.HasPrefix(a, "--max-time=") || strings.HasPrefix(a, "--connect-timeout="):
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Trim(a[1:], "fsSL") == "" && len(a) > 1:
			fail = fail || strings.Contains(a, "f")
		case !strings.HasPrefix(a, "-") && u == "":
			u = a
		default:
			return ""
		}
	}
	if !fail || !localURL(u) {
		return ""
	}
	return u
}

// wgetURL returns the URL of `wget -q [--spider|-O -|-O /dev/null] URL`;
// wget fails on an error status by itself.
func wgetURL(args []string) string {
	u := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-q" || a == "--quiet" || a == "--spider" || a == "--no-verbose" || a == "-nv" || a == "-qO-" || a == "-O-":
		case strings.HasPrefix(a, "--tries=") || strings.HasPrefix(a, "--timeout="):
		case (a == "-T" || a == "-t") && i+1 < len(args):
			i++
		case (a == "-O" || a == "-qO") && i+1 < len(args) && (args[i+1] == "-" || args[i+1] == "/dev/null"):
			i++
		case !strings.HasPrefix(a, "-") && u == "":
			u = a
		default:
			return ""
		}
	}
	if !localURL(u) {
		return ""
	}
	return u
}

// healthRoutes are the paths a health endpoint is conventionally served at.
const healthRoutes = `/healthz|/health|/health/live|/health/ready|/livez|/readyz|/ping`

// pythonRouteOn matches a route registered with a decorator on an object:
// Flask's @app.get/@app.route, FastAPI's @app.get/@app.api_route.
var pythonRouteOn = regexp.MustCompile(`@([A-Za-z_]\w*)\.(get|route|api_route)\(\s*["'](` + healthRoutes + `)/?["']([^\n]*)`)

// pythonRoute finds a GET health route registered on the app object
// appVar in a module's source.
func pythonRoute(src []byte, appVar string) string {
	for _, m := range pythonRouteOn.FindAllSubmatch(src, -1) {
		if string(m[1]) != appVar {
			continue
		}
		rest := string(m[4])
		if strings.Contains(rest, "methods") && !strings.Contains(rest, "GET") {
			continue
		}
		return string(m[3])
	}
	return ""
}

// pythonServerDefaults are the ports Python servers bind without options.
var pythonServerDefaults = map[string]int{"gunicorn": 8000, "uvicorn": 8000, "hypercorn": 8000, "daphne": 8000, "waitress-serve": 8080, "flask": 5000, "fastapi": 8000}

// pyServer is how a Python server command listens and what it serves.
type pyServer struct {
	name string
	// port is where it listens; env names the variable it reads first.
	port int
	env  string
	host string
	// module is the app it serves, as module:name.
	module string
}

// pythonModule matches module:name, the way servers name the app object.
var pythonModule = regexp.MustCompile(`^[A-Za-z_][\w.]*:[A-Za-z_]\w*$`)

// pythonServer reads where a Python server command listens and which app
// it serves, or says why it cannot.
func (o *original) pythonServer(cmd []string) (pyServer, string) {
	words := cmd
	if len(words) >= 3 && (path.Base(words[0]) == "python" || path.Base(words[0]) == "python3") && words[1] == "-m" {
		words = words[2:]
	}
	if len(words) == 0 {
		return pyServer{}, "the start command is empty"
	}
	srv := pyServer{name: path.Base(words[0])}
	args := words[1:]
	opt := func(names ...string) (string, bool) { return optionValue(args, names...) }
	for _, a := range args {
		if pythonModule.MatchString(a) {
			srv.module = a
			break
		}
	}
	for _, tls := range []string{"--certfile", "--keyfile", "--ssl-keyfile", "--ssl-certfile", "--cert"} {
		if _, ok := opt(tls); ok {
			return srv, fmt.Sprintf("%s serves HTTPS (%s), which a plain HTTP probe cannot ask", srv.name, tls)
		}
	}
	switch srv.name {
	case "gunicorn", "hypercorn":
		if _, ok := opt("-c", "--config", "--chdir"); ok || o.bc.Has(path.Join(o.contextDirOfWorkdir(), "gunicorn.conf.py")) || o.setsEnv("GUNICORN_CMD_ARGS") {
			return srv, srv.name + " reads its settings from a config file or variable dockopt does not evaluate"
		}
		if b, ok := opt("-b", "--bind"); ok {
			h, p, ok := splitBind(b)
			if !ok {
				return srv, fmt.Sprintf("%s binds %s, not a TCP port dockopt can probe", srv.name, b)
			}
			srv.host, srv.port = h, p
		} else {
			srv.host, srv.port = "127.0.0.1", 8000
			if srv.name == "gunicorn" {
				// Without --bind, gunicorn listens on $PORT when it is set.
				srv.env = "PORT"
			}
		}
	case "uvicorn", "daphne", "waitress-serve", "fastapi", "flask":
		if _, ok := opt("--uds", "--fd", "-u", "--unix-socket", "-e", "--endpoint", "--app-dir", "--listen", "--call"); ok {
			return srv, srv.name + " is started with an option dockopt does not follow to a TCP port and an app object"
		}
		srv.port = pythonServerDefaults[srv.name]
		if p, ok := opt("--port", "-p"); ok {
			n, err := strconv.Atoi(p)
			if err != nil {
				return srv, fmt.Sprintf("%s's port is %q, not a number dockopt can read", srv.name, p)
			}
			srv.port = n
		} else if srv.name == "flask" && o.setsEnv("FLASK_RUN_PORT") || srv.name == "uvicorn" && o.setsEnv("UVICORN_PORT") {
			return srv, srv.name + "'s port comes from a variable dockopt does not evaluate"
		}
		if h, ok := opt("--host", "-b", "--bind", "-h"); ok {
			srv.host = h
		}
		switch srv.name {
		case "flask":
			if p := positionals(args); len(p) == 0 || p[0] != "run" {
				return srv, "flask is started with a command other than run"
			}
			if m, ok := opt("--app", "-A"); ok && pythonModule.MatchString(m) {
				srv.module = m
			}
		case "fastapi":
			if p := positionals(args); len(p) >= 2 && (p[0] == "run" || p[0] == "dev") && strings.HasSuffix(p[1], ".py") {
				srv.module = strings.ReplaceAll(strings.TrimSuffix(p[1], ".py"), "/", ".") + ":app"
			}
		}
	default:
		return srv, fmt.Sprintf("dockopt does not know which port `%s` listens on", strings.Join(cmd, " "))
	}
	switch srv.host {
	case "", "0.0.0.0", "127.0.0.1", "localhost", "::", "[::]":
	default:
		return srv, fmt.Sprintf("%s listens on %s only, which a probe from inside the container does not reach as 127.0.0.1", srv.name, srv.host)
	}
	return srv, ""
}

// listenPort is the port a server binds as the image is built: the
// variable's value when the original sets it, else the fallback.
func (o *original) listenPort(port int, env string) int {
	if env != "" {
		if v, ok := o.facts().EnvAt(0, env); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return port
}

// pythonProbe looks for a health endpoint of the app a server serves: a
// GET health route registered on the app object the command names, in
// the module it names. It returns the endpoint, or why there is none.
func (o *original) pythonProbe(srv pyServer) (endpoint, string) {
	modPath, appVar, ok := strings.Cut(srv.module, ":")
	if !ok {
		return endpoint{}, "the start command does not name the app object as module:name"
	}
	e := endpoint{port: srv.port, env: srv.env, file: strings.ReplaceAll(modPath, ".", "/") + ".py"}
	src, why := o.readImageFile(e.file)
	if why != "" {
		return endpoint{}, why
	}
	if e.route = pythonRoute(src, appVar); e.route == "" {
		return endpoint{}, fmt.Sprintf("%s registers no health route (GET %s) on %s", e.file, strings.ReplaceAll(healthRoutes, "|", ", "), appVar)
	}
	if why := o.portSpeaksHTTP(o.listenPort(e.port, e.env)); why != "" {
		return endpoint{}, why
	}
	return e, ""
}

// portSpeaksHTTP checks the facts' protocol for the probed port: a port
// that speaks another protocol is not probed over HTTP.
func (o *original) portSpeaksHTTP(port int) string {
	for _, p := range o.facts().Ports() {
		if p.Port == port && p.Protocol != "" && p.Protocol != analyzer.ProtoHTTP {
			return fmt.Sprintf("port %d speaks %s (%s)", port, p.Protocol, p.Why)
		}
	}
	return ""
}

// readImageFile reads a file the app sees at a path relative to its
// folder, from the context path the original's copies took it from.
func (o *original) readImageFile(rel string) ([]byte, string) {
	src, ok := o.contextPathOf(path.Join(o.appDir(), rel))
	if !ok {
		return nil, fmt.Sprintf("dockopt could not tell which file of the build context is %s in the image", rel)
	}
	b, err := o.bc.ReadFile(src)
	if err != nil {
		return nil, fmt.Sprintf("dockopt could not read %s", src)
	}
	return b, ""
}

// contextDirOfWorkdir is the context folder copied to the app's folder,
// "." when the original copies the context there.
func (o *original) contextDirOfWorkdir() string {
	if d, ok := o.contextPathOf(o.appDir()); ok {
		return d
	}
	return "."
}

// splitBind reads gunicorn's HOST:PORT, :PORT and [::]:PORT binds.
func splitBind(b string) (host string, port int, ok bool) {
	if strings.HasPrefix(b, "unix:") || strings.HasPrefix(b, "fd://") {
		return "", 0, false
	}
	i := strings.LastIndex(b, ":")
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(b[i+1:])
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, false
	}
	return b[:i], n, true
}

// optionValue returns the value of the first of names in args, written
// `--name value` or `--name=value`.
func optionValue(args []string, names ...string) (string, bool) {
	for i, a := range args {
		for _, n := range names {
			if a == n {
				if i+1 < len(args) {
					return args[i+1], true
				}
				return "", true
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok && strings.HasPrefix(n, "--") {
				return v, true
			}
		}
	}
	return "", false
}

// positionals are the arguments that are not options (an option's value
// is taken for a positional unless it is written with =).
func positionals(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

// Node evidence: a route on the object that listens, or a request URL
// compared in a plain http server, and the port it listens on.
var (
	nodeRouteOn      = regexp.MustCompile(`\b([A-Za-z_$][\w$]*)\.(?:get|all)\(\s*['"\x60](` + healthRoutes + `)/?['"\x60]`)
	nodeURLCheck     = regexp.MustCompile(`\.url\s*===?\s*['"](` + healthRoutes + `)['"]`)
	nodeListen       = regexp.MustCompile(`(?:\b([A-Za-z_$][\w$]*)|\))\.listen\(\s*([^,)]*)`)
	nodeEnvPort      = regexp.MustCompile(`^(?:Number\(|parseInt\()?\s*process\.env\.([A-Z_][A-Z0-9_]*)\s*(?:\|\||\?\?)\s*['"]?(\d{2,5})['"]?\s*\)?$`)
	nodeCreateServer = regexp.MustCompile(`\bcreateServer\(`)
	nodeTLS          = regexp.MustCompile(`\bhttps\.createServer|\bhttp2\.createSecureServer|require\(\s*['"](?:node:)?https['"]\s*\)|from\s+['"](?:node:)?https['"]`)
)

// nodeProbe looks for a health endpoint in the app's entry file: a GET
// health route on the object that listens (or a request URL compared in a
// plain http server) and the port it listens on. It returns the endpoint,
// or why there is none; the port is set whenever it could be read.
func (o *original) nodeProbe(main string) (endpoint, string) {
	var src []byte
	e := endpoint{}
	why := ""
	for i, name := range []string{main, main + ".js", path.Join(main, "index.js")} {
		b, w := o.readImageFile(name)
		if w == "" {
			src, e.file, why = b, name, ""
			break
		}
		if i == 0 {
			// The file as the start command names it: the other
			// spellings are Node's guesses, not what the reader knows.
			why = w
		}
	}
	if e.file == "" {
		return e, why
	}
	if nodeTLS.Match(src) {
		return e, e.file + " serves HTTPS, which a plain HTTP probe cannot ask"
	}
	ms := nodeListen.FindAllSubmatch(src, -1)
	if len(ms) != 1 {
		return e, fmt.Sprintf("%s does not call listen exactly once, so dockopt cannot tell which server and port to probe", e.file)
	}
	obj, arg := string(ms[0][1]), strings.TrimSpace(string(ms[0][2]))
	if e.port, e.env = nodePort(src, arg); e.port == 0 {
		return e, fmt.Sprintf("dockopt could not read the port %s listens on (%s)", e.file, arg)
	}
	for _, m := range nodeRouteOn.FindAllSubmatch(src, -1) {
		// obj is "" when listen is chained on createServer(…).
		if obj != "" && string(m[1]) == obj {
			e.route = string(m[2])
			break
		}
	}
	if e.route == "" && nodeCreateServer.Match(src) {
		if m := nodeURLCheck.FindSubmatch(src); m != nil {
			e.route = string(m[1])
		}
	}
	if e.route == "" {
		return e, fmt.Sprintf("%s registers no health route (GET %s) on the server that listens", e.file, strings.ReplaceAll(healthRoutes, "|", ", "))
	}
	if e.env == "" && len(o.ports) > 0 && !slices.Contains(o.ports, e.port) {
		return e, fmt.Sprintf("%s listens on %d, which the image does not EXPOSE", e.file, e.port)
	}
	if why := o.portSpeaksHTTP(o.listenPort(e.port, e.env)); why != "" {
		return e, why
	}
	return e, ""
}

// nodePort reads listen's port argument: a number, process.env.X || N, or
// a variable defined as one of those in the same file.
func nodePort(src []byte, arg string) (port int, env string) {
	read := func(expr string) (int, string, bool) {
		expr = strings.TrimSpace(expr)
		if n, err := strconv.Atoi(expr); err == nil {
			return n, "", true
		}
		if m := nodeEnvPort.FindStringSubmatch(expr); m != nil {
			n, _ := strconv.Atoi(m[2])
			return n, m[1], true
		}
		return 0, "", false
	}
	if n, env, ok := read(arg); ok {
		return n, env
	}
	if !regexp.MustCompile(`^[A-Za-z_$][\w$]*$`).MatchString(arg) {
		return 0, ""
	}
	def := regexp.MustCompile(`(?m)\b(?:const|let|var)\s+`+regexp.QuoteMeta(arg)+`\s*=\s*([^;\n]+)`).FindAllSubmatch(src, -1)
	if len(def) != 1 {
		return 0, ""
	}
	n, env, _ := read(strings.TrimSuffix(strings.TrimSpace(string(def[0][1])), ";"))
	return n, env
}
