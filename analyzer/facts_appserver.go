package analyzer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// appServer is an HTTP server the application starts itself, without a
// framework a manifest names: Bun.serve or Deno.serve in the script the
// start command runs, or Astro's standalone Node server. Its code decides
// where it listens, so the port is read with it.
type appServer struct {
	why    string
	listen listenPort
}

// listenPort is where an app server listens: port with why when the
// image establishes it; unknown says why not, "" when it is.
type listenPort struct {
	port    int
	why     string
	unknown string
	// upstream is the port of the app a proxy forwards to, which answers
	// HTTP too (puma behind thrust), with why; 0 when none.
	upstream    int
	upstreamWhy string
}

// appServer reads the start command for Thruster, then its script, then
// the Astro adapter.
func (sf *StageFacts) appServer() (appServer, bool) {
	if s, ok := sf.thrusterServer(); ok {
		return s, true
	}
	if s, ok := sf.gunicornServer(); ok {
		return s, true
	}
	if s, ok := sf.shinyServer(); ok {
		return s, true
	}
	if s, ok := sf.runtimeServer(); ok {
		return s, true
	}
	return sf.astroStandalone()
}

// gunicornServer reads where gunicorn listens when its command line or
// configuration file says: -b/--bind, which wins, else the bind of the
// file -c names or of ./gunicorn.conf.py, which gunicorn reads from its
// working directory by default; a file without bind leaves gunicorn on
// 0.0.0.0:$PORT when PORT is set, else 127.0.0.1:8000. Without either,
// nothing is said here and the exposed port stands.
func (sf *StageFacts) gunicornServer() (appServer, bool) {
	args, run, _ := serverArgs(sf.StartCommand(), "gunicorn")
	if !run || !slices.ContainsFunc(sf.StartCommand(), func(w string) bool { return path.Base(w) == "gunicorn" }) {
		return appServer{}, false
	}
	s := appServer{why: "the image starts gunicorn, an HTTP server"}
	var binds []string
	config, explicit := "gunicorn.conf.py", false
	for i := 0; i < len(args); {
		if v, n := optionValue(args, i, "-b", "--bind"); n > 0 {
			binds = append(binds, strings.Trim(v, `"'`))
			i += n
			continue
		}
		if v, n := optionValue(args, i, "-c", "--config"); n > 0 {
			config, explicit = strings.Trim(v, `"'`), true
			i += n
			continue
		}
		i++
	}
	if len(binds) > 0 {
		s.listen = gunicornBind(sf.expandBinds(binds), "the gunicorn command line binds")
		return s, true
	}
	if v, set := sf.endEnv["GUNICORN_CMD_ARGS"]; set && (strings.Contains(v, "-b") || strings.Contains(v, "-c")) {
		s.listen = listenPort{unknown: "GUNICORN_CMD_ARGS passes gunicorn a bind or a configuration file, which dockopt does not read"}
		return s, true
	}
	if svc := sf.composeSetting("GUNICORN_CMD_ARGS"); svc != "" {
		s.listen = listenPort{unknown: fmt.Sprintf("compose service %s may set GUNICORN_CMD_ARGS, which may bind gunicorn elsewhere", svc)}
		return s, true
	}
	if strings.HasPrefix(config, "python:") {
		s.listen = listenPort{unknown: fmt.Sprintf("gunicorn loads its configuration from the module %s, which dockopt does not read", config)}
		return s, true
	}
	if !strings.HasPrefix(config, "/") && !strings.HasPrefix(config, ".") {
		config = "./" + config
	}
	_, text, ok := sf.entrypointScript(config)
	switch {
	case !ok && explicit:
		s.listen = listenPort{unknown: fmt.Sprintf("gunicorn loads %s, which may bind it, and dockopt cannot read it from the build context", path.Base(config))}
		return s, true
	case !ok:
		return appServer{}, false
	}
	where := "gunicorn loads " + path.Base(config)
	m := gunicornBindLine.FindAllStringSubmatchIndex(text, 2)
	if len(m) == 0 {
		if gunicornBindWord.MatchString(text) {
			s.listen = listenPort{unknown: where + ", which sets bind in a way dockopt does not follow"}
			return s, true
		}
		if _, set := sf.endEnv["PORT"]; set {
			s.listen = sf.envPort("PORT", where+", which sets no bind, so gunicorn binds 0.0.0.0:$PORT")
			return s, true
		}
		if svc := sf.composeSetting("PORT"); svc != "" {
			s.listen = listenPort{unknown: fmt.Sprintf("%s, which sets no bind, so gunicorn binds $PORT, which compose service %s may set", where, svc)}
			return s, true
		}
		s.listen = listenPort{port: 8000, why: where + ", which sets no bind, so gunicorn binds 127.0.0.1:8000"}
		return s, true
	}
	line := strings.Count(text[:m[0][0]], "\n") + 1
	if len(m) > 1 || len(gunicornBindWord.FindAllStringIndex(text, 3)) > 1 {
		s.listen = listenPort{unknown: fmt.Sprintf("%s, which sets bind in a way dockopt does not follow (line %d)", where, line)}
		return s, true
	}
	value := strings.TrimSpace(text[m[0][2]:m[0][3]])
	lit := gunicornBindValue.FindStringSubmatch(value)
	if lit == nil {
		s.listen = listenPort{unknown: fmt.Sprintf("%s, which sets bind in a way dockopt does not follow (line %d)", where, line)}
		return s, true
	}
	// One of the four alternatives matched; the others are empty.
	s.listen = gunicornBind([]string{strings.Join(lit[1:], "")}, where+", which binds")
	return s, true
}

// shinyServer recognises R's Shiny servers: shiny-server, whose stock
// configuration listens on 3838 (a copied shiny-server.conf is read for
// its listen), and an R -e script that calls shiny::runApp, which listens
// on the port it names (else on the shiny.port option, or a random port)
// and on 127.0.0.1 unless host says otherwise.
func (sf *StageFacts) shinyServer() (appServer, bool) {
	words := sf.StartCommand()
	if slices.ContainsFunc(words, func(w string) bool { return path.Base(w) == "shiny-server" }) {
		s := appServer{why: "the image starts shiny-server, Shiny's HTTP server"}
		const conf = "/etc/shiny-server/shiny-server.conf"
		_, text, pf, ok := sf.placedText(func(pf PlacedFile) bool { return pf.Path == conf })
		if pf.Path == "" {
			// A folder copied over /etc may hold the file.
			pf.Path = conf
			_, text, ok = sf.copiedDirText(conf)
			if !ok && !slices.ContainsFunc(sf.copiedDirs, func(cd copiedDir) bool { return strings.HasPrefix(conf, strings.TrimSuffix(cd.path, "/")+"/") }) {
				pf.Path = ""
			}
		}
		switch {
		case pf.Path == "":
			s.listen = listenPort{port: 3838, why: "shiny-server's stock configuration listens on 3838"}
		case !ok:
			s.listen = listenPort{unknown: fmt.Sprintf("the image may hold its own %s, which dockopt cannot read", conf)}
		default:
			m := shinyListen.FindAllStringSubmatch(text, 2)
			if len(m) != 1 {
				s.listen = listenPort{unknown: fmt.Sprintf("the image's own %s does not set one listen port dockopt can read", conf)}
				break
			}
			n, _ := strconv.Atoi(m[0][1])
			s.listen = listenPort{port: n, why: fmt.Sprintf("the image's own %s listens on %d", conf, n)}
		}
		return s, true
	}
	for i := 1; i < len(words); i++ {
		prog := path.Base(words[0])
		if (prog != "R" && prog != "Rscript") || words[i-1] != "-e" || !strings.Contains(words[i], "runApp(") {
			continue
		}
		s := appServer{why: "the image starts a Shiny app with shiny::runApp, an HTTP server"}
		ports := shinyPort.FindAllStringSubmatch(words[i], 2)
		host := shinyHost.FindStringSubmatch(words[i])
		switch {
		case len(ports) != 1:
			s.listen = listenPort{unknown: "shiny::runApp names no port, so it listens where the shiny.port option says, else on a random port"}
		case host != nil && host[1] != "0.0.0.0" && host[1] != "127.0.0.1" && host[1] != "::":
			s.listen = listenPort{unknown: fmt.Sprintf("shiny::runApp listens on host %s, which dockopt cannot tell includes 127.0.0.1", host[1])}
		default:
			n, err := strconv.Atoi(ports[0][1])
			if err != nil || n <= 0 || n > 65535 {
				s.listen = listenPort{unknown: "shiny::runApp names a port dockopt cannot resolve"}
				break
			}
			s.listen = listenPort{port: n, why: fmt.Sprintf("shiny::runApp names port %d", n)}
		}
		return s, true
	}
	return appServer{}, false
}

var (
	shinyListen = regexp.MustCompile(`(?m)^\s*listen\s+(\d{1,5})\s*;`)
	shinyPort   = regexp.MustCompile(`\bport\s*=\s*(\d{1,5})\b`)
	shinyHost   = regexp.MustCompile(`\bhost\s*=\s*["']([^"']*)["']`)
)

// expandBinds substitutes the image's ENV in binds a shell-form start
// command gives (-b 0.0.0.0:$PORT); the exec form expands nothing, and a
// variable a compose service may set stays as written, so unknown.
func (sf *StageFacts) expandBinds(binds []string) []string {
	shell := false
	entry, cmd := lineageStart(sf.chain)
	for _, in := range []*Instruction{entry, cmd} {
		if in == nil || !slices.ContainsFunc(cmdWords(in), func(w string) bool { return path.Base(w) == "gunicorn" }) {
			continue
		}
		switch c := in.Command.(type) {
		case *instructions.CmdCommand:
			shell = c.PrependShell
		case *instructions.EntrypointCommand:
			shell = c.PrependShell
		}
	}
	out := make([]string, len(binds))
	for i, b := range binds {
		out[i] = b
		if !shell || !strings.Contains(b, "$") {
			continue
		}
		composeSets := false
		for _, m := range shellVarRef.FindAllStringSubmatch(b, 4) {
			composeSets = composeSets || sf.composeSetting(m[1]) != ""
		}
		if !composeSets {
			out[i] = expandStatic(sf.lex, b, sf.endEnv)
		}
	}
	return out
}

var (
	shellVarRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	// gunicornBindLine is a top-level bind = … of a gunicorn
	// configuration file, gunicornBindWord any mention of bind.
	gunicornBindLine = regexp.MustCompile(`(?m)^bind[ \t]*=[ \t]*([^#\r\n]*)`)
	gunicornBindWord = regexp.MustCompile(`\bbind\b`)
	// gunicornBindValue is one string literal, alone or in a list.
	gunicornBindValue = regexp.MustCompile(`^(?:"([^"'\\{}]*)"|'([^"'\\{}]*)'|\[\s*(?:"([^"'\\{}]*)"|'([^"'\\{}]*)')\s*,?\s*\])$`)
)

// gunicornBind reads the port of gunicorn's one bind address; several,
// a unix socket, a variable or an address that may not include
// 127.0.0.1 leave it unknown.
func gunicornBind(binds []string, what string) listenPort {
	if len(binds) > 1 {
		return listenPort{unknown: fmt.Sprintf("%s several addresses (%s)", what, strings.Join(binds, ", "))}
	}
	b := binds[0]
	if b == "" || strings.ContainsAny(b, "$/") || strings.HasPrefix(b, "unix:") || strings.HasPrefix(b, "fd:") {
		return listenPort{unknown: fmt.Sprintf("%s %s, which dockopt cannot resolve to a TCP port", what, b)}
	}
	host, port := b, "8000"
	if i := strings.LastIndexByte(b, ':'); i >= 0 && !strings.HasSuffix(b, "]") {
		host, port = b[:i], b[i+1:]
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return listenPort{unknown: fmt.Sprintf("%s %s, which dockopt cannot resolve to a TCP port", what, b)}
	}
	switch host {
	case "", "0.0.0.0", "127.0.0.1", "[::]":
	default:
		return listenPort{unknown: fmt.Sprintf("%s %s, which dockopt cannot tell includes 127.0.0.1", what, b)}
	}
	return listenPort{port: n, why: fmt.Sprintf("%s %s", what, b)}
}

// thrusterServer recognises thrust, the HTTP proxy Rails 8's Dockerfile
// starts in front of puma: the container answers where thrust listens,
// THRUSTER_HTTP_PORT, else HTTP_PORT, else 80, not where the app behind
// it does (TARGET_PORT, 3000) nor where an EXPOSE says.
func (sf *StageFacts) thrusterServer() (appServer, bool) {
	if !slices.ContainsFunc(sf.StartCommand(), func(w string) bool { return path.Base(w) == "thrust" }) {
		return appServer{}, false
	}
	s := appServer{why: "the image starts thrust, Thruster's HTTP proxy"}
	s.listen = sf.thrusterPort("HTTP_PORT", 80, "thrust listens on")
	// thrust sets PORT to TARGET_PORT for the app it starts, where puma
	// then listens on all addresses.
	if up := sf.thrusterPort("TARGET_PORT", 3000, "the app behind thrust listens on"); up.unknown == "" {
		s.listen.upstream, s.listen.upstreamWhy = up.port, up.why
	}
	return s, true
}

// thrusterPort reads a port setting as thruster does: THRUSTER_name,
// else name, else def.
func (sf *StageFacts) thrusterPort(name string, def int, what string) listenPort {
	for _, v := range []string{"THRUSTER_" + name, name} {
		if _, set := sf.endEnv[v]; set {
			return sf.envPort(v, what+" "+v)
		}
	}
	return listenPort{port: def, why: fmt.Sprintf("%s %s, %d when it is not set", what, name, def)}
}

var (
	bunServe  = regexp.MustCompile(`\bBun\.serve\s*\(`)
	denoServe = regexp.MustCompile(`\bDeno\.serve\s*\(`)
	// std/http's serve, imported from deno.land/std or JSR, and Bun's
	// serve imported from "bun", are the same servers under another name.
	stdHTTPImport = regexp.MustCompile(`deno\.land/std[^"'\x60\s]*/http/|@std/http`)
	bunImport     = regexp.MustCompile(`from\s+["']bun["']`)
	bareServe     = regexp.MustCompile(`(?:^|[^.\w])serve\s*\(`)
	// Bun serves the default export of the file it runs when that object
	// has a fetch handler: a method (fetch(req) {) or a key (fetch: app.fetch).
	bunDefaultExport = regexp.MustCompile(`\bexport\s+default\s*\{`)
	fetchHandler     = regexp.MustCompile(`(?:^|[{,\s])(?:async\s+)?fetch\s*(?:\([^()]*\)\s*(?::[^{;]*)?\{|:)`)

	portLiteral = regexp.MustCompile(`\bport\s*:\s*(\d{1,5})\b`)
	portWord    = regexp.MustCompile(`(?i)\bport`)
	readsPort   = regexp.MustCompile(`(?:process\.env|Bun\.env|import\.meta\.env)(?:\.PORT\b|\[\s*["']PORT["']\s*\])|Deno\.env\.get\(\s*["']PORT["']\s*\)`)
	// fallbackAfter is a default given right after a read of PORT,
	// inside or outside a conversion to a number.
	// portOptionBefore and portOptionAfter frame a read of PORT that is
	// the whole value of a port option.
	portOptionBefore = regexp.MustCompile(`\bport\s*:\s*$`)
	portOptionAfter  = regexp.MustCompile(`^\s*(?:[,}]|$)`)
	fallbackAfter    = regexp.MustCompile(`^\s*(?:,\s*10\s*)?\)?\s*(?:\|\||\?\?)\s*["']?(\d{1,5})["']?[ \t]*(?:[),;}\r\n]|$)`)
	hostnameKey      = regexp.MustCompile(`\bhostname\s*:\s*(\S+)`)
	jsScriptExt      = regexp.MustCompile(`\.(?:[cm]?[jt]s|[jt]sx)$`)
)

// denoStart is a start command as the deno image's entrypoint runs it:
// with the image's own ENTRYPOINT kept, its docker-entrypoint.sh prepends
// deno to a first word that is a deno subcommand or an option
// (denoland/deno_docker), so CMD ["run", "main.ts"] runs deno run main.ts.
func (sf *StageFacts) denoStart(words []string) []string {
	if base := sf.chain[0].Base; len(words) == 0 || base.Repository != "denoland/deno" || strings.HasPrefix(base.Tag, "bin") {
		// denoland/deno:bin is /deno alone, with no entrypoint.
		return words
	}
	if entry, _ := lineageStart(sf.chain); entry != nil {
		return words
	}
	if denoSubcommands[words[0]] || strings.HasPrefix(words[0], "-") {
		return append([]string{"deno"}, words...)
	}
	return words
}

// denoSubcommands are the first words deno_docker's entrypoint hands to
// deno rather than running them.
var denoSubcommands = map[string]bool{
	"bench": true, "bundle": true, "cache": true, "check": true, "compile": true, "completions": true, "coverage": true,
	"doc": true, "eval": true, "fmt": true, "help": true, "info": true, "init": true, "install": true, "jupyter": true,
	"lint": true, "lsp": true, "publish": true, "repl": true, "run": true, "serve": true, "task": true, "test": true,
	"types": true, "uninstall": true, "upgrade": true, "vendor": true,
}

// runtimeServer finds the script bun or deno runs (bun run server.ts,
// deno run --allow-net main.ts, or CMD ["run", ...] through the deno
// image's entrypoint, which prepends deno to its subcommands), through
// package.json scripts and deno.json tasks, and reads it, bounded, for
// the server it starts.
func (sf *StageFacts) runtimeServer() (appServer, bool) {
	runtime, script := sf.runtimeScriptOf(sf.denoStart(sf.StartCommand()))
	if script == "" {
		return appServer{}, false
	}
	if !strings.Contains(script, "/") {
		script = "./" + script
	}
	_, text, ok := sf.entrypointScript(script)
	if !ok {
		return appServer{}, false
	}
	name := path.Base(script)
	const starts = "%s calls %s, which starts an HTTP server"
	var why string
	def := 0
	switch {
	case runtime == "bun" && (bunServe.MatchString(text) || bunImport.MatchString(text) && bareServe.MatchString(text)):
		why, def = fmt.Sprintf(starts, name, "Bun.serve"), 3000
	case runtime == "bun" && bunDefaultExport.MatchString(text) && fetchHandler.MatchString(text):
		why, def = name+"'s default export has a fetch handler, which bun serves over HTTP", 3000
	case runtime == "deno" && denoServe.MatchString(text):
		why, def = fmt.Sprintf(starts, name, "Deno.serve"), 8000
	case runtime == "deno" && stdHTTPImport.MatchString(text) && bareServe.MatchString(text):
		why, def = fmt.Sprintf(starts, name, "std/http's serve"), 8000
	default:
		return appServer{}, false
	}
	s := appServer{why: why}
	s.listen = sf.scriptPort(name, text, runtime, def)
	if m := hostnameKey.FindStringSubmatch(text); m != nil && s.listen.unknown == "" {
		switch strings.Trim(m[1], `"',`) {
		case "0.0.0.0", "::", "[::]", "127.0.0.1":
		default:
			s.listen = listenPort{unknown: fmt.Sprintf("%s sets the hostname it listens on (%s), which dockopt cannot tell includes 127.0.0.1", name, strings.TrimSuffix(m[1], ","))}
		}
	}
	return s, true
}

// runtimeScript is the script file among a runtime's arguments: the
// first word with a JavaScript or TypeScript extension after `run` and
// the flags (a flag's value may come between). "" for anything else,
// such as a package.json script (bun run start).
func runtimeScript(args []string) string {
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	afterFlag := false
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "-"):
			afterFlag = !strings.Contains(a, "=")
		case jsScriptExt.MatchString(a):
			return a
		case afterFlag:
			afterFlag = false
		default:
			return ""
		}
	}
	return ""
}

// runtimeScriptOf finds the runtime (bun or deno) and the script file a
// command runs, following the package.json scripts bun, npm, yarn and
// pnpm run and the deno.json tasks deno task runs, a few deep: "", ""
// when none is found. Of a script that runs several commands in a row
// (bun run migrate.ts && bun run server.ts), the last is the one that
// keeps running.
func (sf *StageFacts) runtimeScriptOf(words []string) (runtime, script string) {
	for depth := 0; depth <= maxScriptDepth; depth++ {
		if depth > 0 {
			words = lastCommand(words)
		}
		body, followed := "", false
		for i := 0; i < len(words) && !followed; i++ {
			b := path.Base(words[i])
			if b == "bun" || b == "deno" {
				if s := runtimeScript(words[i+1:]); s != "" {
					return b, s
				}
			}
			switch {
			case b == "deno" && i+2 < len(words) && words[i+1] == "task":
				body, followed = sf.denoTask(words[i+2])
			case b == "deno":
			default:
				if r, ok := scriptRun(words, i); ok && sf.facts.ctx.Package != nil {
					body, followed = sf.facts.ctx.Package.Scripts[r.name]
					i = r.at
				}
			}
		}
		if !followed {
			return "", ""
		}
		words = strings.Fields(body)
	}
	return "", ""
}

// lastCommand is what follows the last && or ; of a script's words.
func lastCommand(words []string) []string {
	for i := len(words) - 1; i >= 0; i-- {
		if words[i] == "&&" || strings.HasSuffix(words[i], ";") {
			return words[i+1:]
		}
	}
	return words
}

// maxTaskFile bounds the deno.json read for its tasks.
const maxTaskFile = 64 << 10

// denoTask is the command of a task of the context's deno.json or
// deno.jsonc, written as a string or, since Deno 2, as an object with a
// command.
func (sf *StageFacts) denoTask(name string) (string, bool) {
	ctx := sf.facts.ctx
	for _, file := range []string{"deno.json", "deno.jsonc"} {
		if !ctx.Has(file) {
			continue
		}
		b, err := ctx.ReadFile(file)
		if err != nil || len(b) > maxTaskFile {
			return "", false
		}
		var config struct {
			Tasks map[string]json.RawMessage `json:"tasks"`
		}
		if json.Unmarshal(stripJSONC(b), &config) != nil {
			return "", false
		}
		raw, ok := config.Tasks[name]
		if !ok {
			return "", false
		}
		var command string
		if json.Unmarshal(raw, &command) == nil {
			return command, true
		}
		var task struct {
			Command string `json:"command"`
		}
		if json.Unmarshal(raw, &task) == nil && task.Command != "" {
			return task.Command, true
		}
		return "", false
	}
	return "", false
}

// stripJSONC turns JSON with comments and trailing commas (deno.jsonc,
// and deno.json, which Deno reads the same way) into JSON: comments
// become spaces and a comma before a closing bracket goes.
func stripJSONC(b []byte) []byte {
	out := make([]byte, 0, len(b))
	comma := -1 // where in out the last comma outside a string is, while only blanks follow it
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(b))
			out = append(out, b[i:end]...)
			i, comma = end-1, -1
			continue
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			out = append(out, ' ')
			continue
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return out
			}
			i += end + 3
			out = append(out, ' ')
			continue
		case (c == '}' || c == ']') && comma >= 0:
			out[comma] = ' '
		}
		switch c {
		case ',':
			comma = len(out)
		case ' ', '\t', '\n', '\r':
		default:
			comma = -1
		}
		out = append(out, c)
	}
	return out
}

// scriptPort reads where a script's server listens: the PORT variable
// when the script reads it (from the image's ENV), else the one port
// literal it names, else the runtime's default when it names no port at
// all. Bun's default itself comes from $BUN_PORT, $PORT or $NODE_PORT
// when one is set.
func (sf *StageFacts) scriptPort(name, text, runtime string, def int) listenPort {
	if readsPort.MatchString(text) {
		what := fmt.Sprintf("%s reads its port from PORT", name)
		if _, set := sf.endEnv["PORT"]; !set {
			fb := portFallback(text)
			bunDefault := fb == 0 && runtime == "bun" && portOptionOnly(text)
			if fb != 0 || bunDefault {
				if svc := sf.composeSetting("PORT"); svc != "" {
					return listenPort{unknown: fmt.Sprintf("%s, which compose service %s may set", what, svc)}
				}
			}
			switch {
			case fb != 0:
				return listenPort{port: fb, why: fmt.Sprintf("%s, which the image does not set, so it falls back to %d", what, fb)}
			case bunDefault:
				// An undefined port option leaves Bun.serve on its
				// default: $BUN_PORT, $PORT, $NODE_PORT, otherwise 3000
				// (Bun's HTTP server docs). PORT is unset here.
				for _, v := range []string{"BUN_PORT", "NODE_PORT"} {
					if _, set := sf.endEnv[v]; set {
						return sf.envPort(v, what+", which the image does not set, so Bun.serve's default port comes from "+v)
					}
				}
				return listenPort{port: def, why: fmt.Sprintf("%s, which the image does not set, so Bun.serve listens on its default, %d", what, def)}
			}
		}
		return sf.envPort("PORT", what)
	}
	var lits []int
	for _, m := range portLiteral.FindAllStringSubmatch(text, 16) {
		if n, err := strconv.Atoi(m[1]); err == nil && !slices.Contains(lits, n) {
			lits = append(lits, n)
		}
	}
	switch {
	case len(lits) == 1 && lits[0] > 0 && lits[0] <= 65535:
		return listenPort{port: lits[0], why: fmt.Sprintf("%s sets port: %d", name, lits[0])}
	case len(lits) > 1:
		return listenPort{unknown: fmt.Sprintf("%s names several ports", name)}
	case portWord.MatchString(text):
		return listenPort{unknown: fmt.Sprintf("%s sets its port in a way dockopt does not follow", name)}
	}
	if runtime == "bun" {
		for _, v := range []string{"BUN_PORT", "PORT", "NODE_PORT"} {
			if _, set := sf.endEnv[v]; set {
				return sf.envPort(v, "Bun.serve's default port comes from "+v)
			}
		}
	}
	return listenPort{port: def, why: fmt.Sprintf("%s names no port, and %d is %s's default", name, def, runtime)}
}

// portFallback is the port a script falls back to when PORT is unset
// (process.env.PORT || 3000, Number(Bun.env.PORT) ?? 3000,
// parseInt(process.env.PORT, 10) || 3000): 0 unless every read of PORT
// has one, and the same.
func portFallback(text string) int {
	reads := readsPort.FindAllStringIndex(text, 16)
	port := 0
	for _, r := range reads {
		m := fallbackAfter.FindStringSubmatch(text[r[1]:min(r[1]+64, len(text))])
		if m == nil {
			return 0
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 || n > 65535 || port != 0 && n != port {
			return 0
		}
		port = n
	}
	return port
}

// portOptionOnly reports a script whose every read of PORT is the whole
// value of a port option (port: process.env.PORT,), which is undefined
// when PORT is unset; Number(process.env.PORT) and the like are NaN.
func portOptionOnly(text string) bool {
	reads := readsPort.FindAllStringIndex(text, 16)
	for _, r := range reads {
		if !portOptionBefore.MatchString(text[max(0, r[0]-32):r[0]]) || !portOptionAfter.MatchString(text[r[1]:min(r[1]+16, len(text))]) {
			return false
		}
	}
	return len(reads) > 0
}

// composeSetting names a compose service building the file whose
// environment may set the variable, "" when none does.
func (sf *StageFacts) composeSetting(name string) string {
	for _, s := range sf.facts.ComposeServices() {
		if s.MaySetEnv(name) {
			return fmt.Sprintf("%s (%s)", s.Name, s.File)
		}
	}
	return ""
}

// envPort is the port a variable of the image's ENV gives.
func (sf *StageFacts) envPort(name, what string) listenPort {
	v, set := sf.endEnv[name]
	if !set {
		return listenPort{unknown: what + ", which the image does not set"}
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 && n <= 65535 {
		return listenPort{port: n, why: fmt.Sprintf("%s, which ENV sets to %d", what, n)}
	}
	return listenPort{unknown: fmt.Sprintf("%s, which ENV sets to %q", what, v)}
}

var (
	astroStandaloneMode = regexp.MustCompile(`\bmode\s*:\s*["']standalone["']`)
	astroHostAll        = regexp.MustCompile(`\bhost\s*:\s*(?:true|["']0\.0\.0\.0["'])`)
	astroHostKey        = regexp.MustCompile(`\bhost\s*:`)
	astroPortKey        = regexp.MustCompile(`\bport\s*:`)
)

// astroStandalone recognises Astro's Node adapter in standalone mode,
// whose built entry (dist/server/entry.mjs) is an HTTP server: it listens
// on $PORT, else the configuration's server.port (4321 by default), and
// on $HOST, else server.host, else 127.0.0.1 (localhost in older
// versions of the adapter). Middleware mode serves nothing by itself.
func (sf *StageFacts) astroStandalone() (appServer, bool) {
	ctx := sf.facts.ctx
	if ctx.Package == nil || !ctx.Package.HasDependency("@astrojs/node") {
		return appServer{}, false
	}
	name, config := "", ""
	for _, n := range []string{"astro.config.mjs", "astro.config.js", "astro.config.ts", "astro.config.mts", "astro.config.cjs"} {
		if !ctx.Has(n) {
			continue
		}
		if b, err := ctx.ReadFile(n); err == nil && len(b) <= maxScriptRead {
			name, config = n, string(b)
		}
		break
	}
	if !astroStandaloneMode.MatchString(config) {
		return appServer{}, false
	}
	s := appServer{why: name + " builds Astro with @astrojs/node in standalone mode, an HTTP server"}
	_, portSet := sf.endEnv["PORT"]
	switch {
	case portSet:
		s.listen = sf.envPort("PORT", "Astro's standalone server listens on PORT")
	case astroPortKey.MatchString(config):
		s.listen = listenPort{unknown: name + " sets server.port, which dockopt does not read"}
	default:
		s.listen = listenPort{port: 4321, why: "Astro's default port, as nothing sets PORT or server.port"}
	}
	host, hostSet := sf.endEnv["HOST"]
	switch {
	case s.listen.unknown != "":
	case hostSet && host != "":
		switch host {
		case "0.0.0.0", "::", "[::]", "127.0.0.1":
		default:
			s.listen = listenPort{unknown: fmt.Sprintf("HOST is set to %s, which dockopt cannot tell includes 127.0.0.1", host)}
		}
	case astroHostAll.MatchString(config):
	case astroHostKey.MatchString(config):
		s.listen = listenPort{unknown: name + " sets server.host, which dockopt does not read"}
	default:
		s.listen = listenPort{unknown: "neither HOST nor server.host is set, so the server listens on 127.0.0.1, or on localhost with older versions of the adapter, which may resolve to ::1 only"}
	}
	return s, true
}
