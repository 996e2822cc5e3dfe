package rewrite

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// NginxImage is the runtime of rewritten static sites: nginx built to run
// as its own unprivileged user, listening above 1024, on Alpine (which
// has busybox wget for the health check).
const NginxImage = "nginxinc/nginx-unprivileged:1.28-alpine"

// NginxStockImage serves a site the original served below port 1024: its
// master process starts as root to bind the port and runs the workers as
// the nginx user, so the port, which deployments map, stays.
const NginxStockImage = "nginx:1.28-alpine"

// htmlRoot is where that image serves files from.
const htmlRoot = "/usr/share/nginx/html"

// staticServers are the start commands that only serve files, with the
// options of each that take a value and the port they listen on by
// default.
var staticServers = map[string]struct {
	valued []string
	port   int
}{
	"serve":       {[]string{"-l", "--listen", "-p", "--port", "-c", "--config"}, 3000},
	"http-server": {[]string{"-p", "--port", "-a", "-c", "-e", "--ext", "-o", "-P", "--proxy", "-C", "--cert", "-K", "--key", "-t", "--username", "--password"}, 8080},
	"live-server": {nil, 8080},
	"lite-server": {[]string{"-c", "--config"}, 3000},
}

// devServers are the development servers of front-end tools (hot
// reload, sources served unbundled), by program and the subcommands or
// options that start them ("" for none). An image that runs one exists to
// develop the app: serving the build from nginx would make another image,
// not this one smaller, so the rewrite is withheld.
var devServers = map[string][]string{
	"vite":               {"", "dev", "serve"},
	"react-scripts":      {"start"},
	"vue-cli-service":    {"serve"},
	"webpack":            {"serve"},
	"webpack-dev-server": {""},
	"astro":              {"dev"},
	"eleventy":           {"--serve"},
	"parcel":             {"", "serve"},
	"gatsby":             {"develop"},
	"next":               {"dev"},
	"nuxt":               {"dev"},
	"nuxi":               {"dev"},
	"ng":                 {"serve"},
	"docusaurus":         {"start"},
	"ember":              {"serve", "server", "s"},
	"gridsome":           {"develop"},
	"snowpack":           {"dev"},
}

// previewServers serve what the build wrote, as the static servers do,
// with the port each listens on by default.
var previewServers = map[string]map[string]int{
	"vite":   {"preview": 4173},
	"astro":  {"preview": 4321},
	"gatsby": {"serve": 9000},
}

// frameworks with the folder their build writes and the folder their
// hashed assets live in ("" when only the hex-hash rule applies).
var frameworks = []struct {
	dep, out, assets string
	spa              bool
}{
	{"vite", "dist", "/assets/", true},
	{"react-scripts", "build", "/static/", true},
	{"@11ty/eleventy", "_site", "", false},
	{"astro", "dist", "/_astro/", false},
	{"gatsby", "public", "", false},
	{"@vue/cli-service", "dist", "", true},
	{"parcel", "dist", "", true},
}

// spaLibraries route in the browser, so unknown paths must serve index.html.
var spaLibraries = []string{"react", "react-dom", "vue", "svelte", "preact", "solid-js", "@angular/core"}

// staticPlan is what the static-site rewrite decided.
type staticPlan struct {
	pm     nodePM
	cmds   []command
	script string
	// scriptAdded is set when the original never runs the build script:
	// it served the output its build context brought.
	scriptAdded bool
	out         string
	port        int
	spa         bool
	assets      string
	framework   string
	// late are files the original copied into the served folder after
	// the build, as context source → path under htmlRoot.
	late      [][2]string
	buildPkgs []string
	envBefore []string
	envAfter  []string
	outReason string
	origPort  int
	// ipv4Only is true when the original server listened on IPv4 only,
	// as nginx's listen does.
	ipv4Only     bool
	droppedSteps []string
}

func planStatic(o *original) (*Rewrite, *Withheld) {
	pkg := o.bc.Package
	if o.stage.Base.Name() != "node" || pkg == nil {
		return nil, nil
	}
	start, cmdDir, ok := startWords(o.cmd, pkg)
	if !ok {
		return nil, nil
	}
	if dev := devServerIn(start); dev != "" {
		return nil, &Withheld{Kind: analyzer.KindStaticSite, Title: titleStatic, Precondition: analyzer.PreconditionRole,
			Reason: devServerReason(o.cmd, start, dev)}
	}
	preview := previewServer(start)
	server, serverAt := "", -1
	if preview == "" {
		server, serverAt = findServer(start)
	}
	if server == "" && preview == "" {
		return nil, nil
	}
	if preview != "" && !hasFramework(pkg) {
		return nil, nil
	}
	if pkg.HasDependency("@astrojs/node") || pkg.HasDependency("next") || pkg.HasDependency("nuxt") || pkg.HasDependency("@sveltejs/kit") || pkg.HasDependency("@remix-run/node") {
		// Server-side rendering: the app needs its Node process.
		return nil, nil
	}
	o.app = appDir(o, cmdDir)

	cmds, ok := classify(o, nodeStep(pkg, func(name string) bool {
		_, ok := staticServers[name]
		return ok
	}))
	if !ok {
		return nil, nil
	}
	pm, ok := o.nodePackageManager()
	if !ok {
		return nil, nil
	}
	if why := installWithheld(cmds, o.bc, &pm); why != "" {
		return nil, &Withheld{Kind: analyzer.KindStaticSite, Title: titleStatic, Precondition: analyzer.PreconditionContext, Reason: why}
	}
	p := &staticPlan{pm: pm, cmds: cmds, script: buildScriptName(cmds, pkg), scriptAdded: !slices.ContainsFunc(cmds, func(c command) bool { return c.step == stepBuild })}
	if p.script == "" {
		// Sources served as they are: nothing to build, and no way to
		// tell which files are the site.
		return nil, nil
	}
	p.framework, p.assets, p.spa = detectFramework(pkg)

	// Where the build writes: the build script's own option, then what
	// the original served, then the bundler's config, then the default.
	served := ""
	if server != "" {
		served = servedFolder(start[serverAt+1:], staticServers[server].valued)
		if served != "" {
			served = o.relTo(served, cmdDir)
		}
	}
	switch {
	case outFlag(pkg.Scripts[p.script]) != "":
		p.out, p.outReason = outFlag(pkg.Scripts[p.script]), "the build script's output option"
	case served != "" && served != ".":
		p.out, p.outReason = served, "the folder the original command served"
	case configOutDir(o.bc) != "":
		p.out, p.outReason = configOutDir(o.bc), "outDir in the Vite config"
	case p.framework != "":
		p.out, p.outReason = frameworkOut(p.framework), p.framework+"'s default output folder"
	default:
		return nil, nil
	}
	if path.IsAbs(p.out) || strings.HasPrefix(p.out, "..") || p.out == "." {
		return nil, nil
	}
	if server == "http-server" {
		addr := ""
		if i := slices.Index(start, "-a"); i > serverAt && i+1 < len(start) {
			addr = start[i+1]
		}
		p.ipv4Only = addr == "" || !strings.Contains(addr, ":") && addr != "localhost"
	}
	if server == "serve" && slices.Contains(start, "-s") || slices.Contains(start, "--single") {
		p.spa = true
	}

	// Where it listens: the server's option, $PORT (which these servers
	// read), its default; for a preview server its option or the one port
	// the image declares. EXPOSE only documents; the port mappings that
	// work today point at where the server listens.
	if server != "" {
		p.origPort = portFlag(start[serverAt+1:])
		if v, ok := o.facts().EnvAt(0, "PORT"); ok && p.origPort == 0 {
			p.origPort, _ = strconv.Atoi(v)
		}
		if p.origPort == 0 {
			p.origPort = staticServers[server].port
		}
	} else {
		// A preview server: its --port, else the port its config sets as a
		// literal or its own default where the config sets none, else the
		// one port the image declares.
		p.origPort = portFlag(start)
		if _, portSet := o.facts().EnvAt(0, "PORT"); p.origPort == 0 && !portSet {
			p.origPort = previewPort(start, o.bc)
		}
		if p.origPort == 0 && len(o.ports) == 1 {
			p.origPort = o.ports[0]
		}
	}
	p.port = p.origPort
	if p.port == 0 {
		// nginx on a guessed port would break the port mappings that work
		// today, and no line of the rewrite could say where they point.
		return nil, &Withheld{Kind: analyzer.KindStaticSite, Title: titleStatic, Precondition: analyzer.PreconditionPort,
			Reason: fmt.Sprintf("dockopt could not tell which port `%s` listens on (%s), so nginx could not listen where the port mappings point today", strings.Join(start, " "), previewPortUnknown(start, o.bc))}
	}

	buildPos := len(o.stage.Instructions)
	installPos := len(o.stage.Instructions)
	for _, in := range o.runs {
		for _, c := range cmds {
			if c.cmd.Start >= in.Start && c.cmd.End <= in.End {
				if c.step == stepBuild && o.order[in] < buildPos {
					buildPos = o.order[in]
				}
				if c.step == stepDeps && o.order[in] < installPos {
					installPos = o.order[in]
				}
			}
		}
	}
	if !p.placeCopies(o, buildPos) {
		return nil, nil
	}
	p.envBefore, p.envAfter = o.envSplit(installPos)
	for _, e := range p.envBefore {
		if strings.Contains(e, "NODE_ENV") && strings.Contains(e, "production") {
			// The original installed without dev dependencies and still
			// built; keep it so, but say it.
			p.droppedSteps = append(p.droppedSteps, "NODE_ENV=production is set before the install, as in the original, so dev dependencies are not installed; move it after the install if the build needs them")
		}
	}
	for _, c := range cmds {
		if c.step == stepPackages {
			p.buildPkgs = appendNew(p.buildPkgs, c.packages...)
		}
	}
	if w := p.preconditions(o); w != nil {
		return nil, w
	}
	return p.write(o), nil
}

// preconditions are what the static-site rewrite must know before it is
// offered. The runtime is nginx with the rewrite's own configuration, so
// the user (nginx, unprivileged by the image, or its workers when the
// original served below 1024 and the stock image keeps that port) and the health
// endpoint (the config's /healthz, probed with the image's busybox wget)
// are the rewrite's to choose; what remains is the image's role and room
// for the config file.
func (p *staticPlan) preconditions(o *original) *Withheld {
	if w := o.roleWithheld(analyzer.KindStaticSite, titleStatic); w != nil {
		return w
	}
	// The files the rewrite copies by name are in the context.
	if why := o.ignoredWithheld(append(slices.Clone(p.pm.manifests), lateSources(p.late)...)); why != "" {
		return &Withheld{Kind: analyzer.KindStaticSite, Title: titleStatic, Precondition: analyzer.PreconditionContext, Reason: why}
	}
	// The install finds what the original's found in its cache folder.
	if why := o.shippedCacheWithheld(p.cmds, p.pm.cache); why != "" {
		return &Withheld{Kind: analyzer.KindStaticSite, Title: titleStatic, Precondition: analyzer.PreconditionMount, Reason: why}
	}
	// The config is the rewrite's own: one already at its path would be
	// copied in its place.
	if conf := "nginx/default.conf"; o.bc.Has(conf) {
		return &Withheld{Kind: analyzer.KindStaticSite, Title: titleStatic, Precondition: analyzer.PreconditionContext,
			Reason: "the build context already holds " + conf + ", where the rewrite would write the nginx configuration it relies on"}
	}
	return nil
}

// runtimeUser explains who the runtime's nginx runs as.
func runtimeUser(image string, stock bool, port int) string {
	if stock {
		return fmt.Sprintf("Runtime `%s`: the nginx master starts as root to bind port %d, as the original's server did, and runs the workers that serve requests as the `nginx` user.", image, port)
	}
	return fmt.Sprintf("Runtime `%s`: nginx as its `nginx` user, uid 101, stated as `USER 101`.", image)
}

func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

// placeCopies checks that every COPY/ADD of the original is reproduced:
// before the build by copying the whole context, after it by copying the
// file into the served folder.
func (p *staticPlan) placeCopies(o *original, buildPos int) bool {
	for _, in := range o.copies {
		srcs, rel, dirDest, ok := copySources(o, in)
		if !ok {
			return false
		}
		if o.order[in] > buildPos {
			if rel != p.out && !strings.HasPrefix(rel, p.out+"/") {
				return false
			}
			target := path.Join(htmlRoot, strings.TrimPrefix(strings.TrimPrefix(rel, p.out), "/"))
			if dirDest {
				target += "/"
			}
			for _, s := range srcs {
				p.late = append(p.late, [2]string{path.Clean(s), target})
			}
			continue
		}
		if !mirrorsContext(o.bc, srcs, rel, dirDest) {
			return false
		}
	}
	return true
}

// mirrorsContext reports whether a COPY puts its sources at the same
// paths under the app folder as they have in the context, so that one
// `COPY . .` reproduces it. When the original rearranged files, copying
// the context as it is would build something else.
func mirrorsContext(bc *analyzer.BuildContext, srcs []string, rel string, dirDest bool) bool {
	for _, s := range srcs {
		s = path.Clean(s)
		switch {
		case s == "." && rel == ".":
		case rel == s:
		case dirDest && path.Join(rel, path.Base(s)) == s && isContextFile(bc, s):
		default:
			return false
		}
	}
	return true
}

// copySources splits a COPY/ADD into its sources and destination relative
// to the app folder, refusing remote sources, archives ADD would unpack,
// and destinations outside the app folder.
func copySources(o *original, in *analyzer.Instruction) (srcs []string, rel string, dirDest bool, ok bool) {
	args := in.Args
	if len(args) < 2 {
		return nil, "", false, false
	}
	srcs, dest := args[:len(args)-1], args[len(args)-1]
	for _, s := range srcs {
		if strings.Contains(s, "://") || strings.HasPrefix(s, "git@") || strings.Contains(s, "$") ||
			in.Keyword == "ADD" && isArchive(s) {
			return nil, "", false, false
		}
	}
	abs := dest
	if !path.IsAbs(abs) {
		abs = path.Join(o.workdir, dest)
	}
	rel = o.rel(abs)
	if path.IsAbs(rel) {
		return nil, "", false, false
	}
	// "." is the WORKDIR, a folder even without a trailing slash.
	dirDest = strings.HasSuffix(dest, "/") || len(srcs) > 1 || path.Clean(dest) == "." || path.Clean(abs) == o.workdir
	return srcs, rel, dirDest, true
}

func isArchive(s string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	return false
}

// isContextFile reports a file (not a folder) of the context; globs count
// as files, since they are how manifests are copied.
func isContextFile(bc *analyzer.BuildContext, p string) bool {
	if strings.ContainsAny(p, "*?[") {
		return true
	}
	_, found := slices.BinarySearch(bc.Files, p)
	return found
}

// relTo resolves a folder named in the start command against the folder
// the command runs in.
func (o *original) relTo(p, cmdDir string) string {
	if !path.IsAbs(p) {
		base := o.workdir
		if cmdDir != "" {
			base = path.Join(base, cmdDir)
		}
		p = path.Join(base, p)
	}
	return o.rel(p)
}

func findServer(words []string) (string, int) {
	for _, i := range programWords(words) {
		if name := path.Base(words[i]); hasStaticServer(name) {
			return name, i
		}
	}
	return "", -1
}

func hasStaticServer(name string) bool {
	_, ok := staticServers[name]
	return ok
}

// programWords returns the indexes of the words that name the program a
// command runs: the first of each command of an && chain, past variable
// assignments and the runners that start another program (npx serve,
// env, cross-env, npm exec, yarn serve). Any other word is an argument:
// `docusaurus serve` and `npx nx serve web` run docusaurus and nx, not
// the serve package, and `serve -s dist/vite` does not run vite.
func programWords(words []string) []int {
	var out []int
	start := true
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "&&" || w == "||" || w == ";" || w == "|":
			start = true
			continue
		case !start:
			continue
		case strings.Contains(w, "=") && !strings.HasPrefix(w, "-"):
			continue // NAME=value before the program
		}
		out = append(out, i)
		switch path.Base(w) {
		case "npx", "bunx", "exec", "env", "cross-env", "yarn", "pnpm", "npm":
			// The runner, then its options, then what it runs; npm, yarn
			// and pnpm only through exec/dlx (yarn BIN too, as yarn runs
			// a package's binary).
			j := i + 1
			if base := path.Base(w); (base == "npm" || base == "pnpm" || base == "yarn") && j < len(words) && (words[j] == "exec" || words[j] == "dlx" || words[j] == "x") {
				j++
			} else if base == "npm" || base == "pnpm" {
				start = false
				continue
			}
			for j < len(words) && strings.HasPrefix(words[j], "-") {
				if words[j] == "-p" || words[j] == "--package" {
					j++
				}
				j++
			}
			i = j - 1
			continue
		}
		start = false
	}
	return out
}

// previewPort returns the port the preview server in words listens on
// by default, 0 when unknown: a config file of the context that may set
// another (vite.config.*, astro.config.*, gatsby-config.*) leaves it
// unknown.
func previewPort(words []string, bc *analyzer.BuildContext) int {
	for i, w := range words {
		if name, _, ok := strings.Cut(w, "="); ok && strings.Contains(strings.ToUpper(name), "PORT") {
			// PORT=4000 vite preview (or through cross-env): told another
			// port in a way not read here.
			return 0
		}
		ports, ok := previewServers[path.Base(w)]
		if !ok || i+1 >= len(words) {
			continue
		}
		port, ok := ports[words[i+1]]
		if !ok {
			return 0
		}
		for _, a := range words[i+1:] {
			if a == "--config" || a == "-c" || strings.HasPrefix(a, "--config=") {
				return 0
			}
		}
		configs := toolConfigs(bc, path.Base(w))
		switch {
		case len(configs) == 0:
			return port
		case len(configs) == 1 && path.Base(w) == "vite" && words[i+1] == "preview":
			return vitePreviewPort(bc, configs[0])
		}
		return 0
	}
	return 0
}

// toolConfigs lists the config files of a tool in the context
// (vite.config.ts, gatsby-config.js), outside node_modules.
func toolConfigs(bc *analyzer.BuildContext, tool string) []string {
	var out []string
	for _, f := range bc.Files {
		base := path.Base(f)
		if strings.Contains(f, "node_modules/") {
			continue
		}
		if strings.HasPrefix(base, tool+".config.") || strings.HasPrefix(base, tool+"-config.") {
			out = append(out, f)
		}
	}
	return out
}

// previewPortUnknown says why previewPort found no port.
func previewPortUnknown(words []string, bc *analyzer.BuildContext) string {
	for i, w := range words {
		if name, _, ok := strings.Cut(w, "="); ok && strings.Contains(strings.ToUpper(name), "PORT") {
			return "it is given " + w + ", which dockopt does not read"
		}
		if _, ok := previewServers[path.Base(w)]; !ok || i+1 >= len(words) {
			continue
		}
		if slices.ContainsFunc(words[i+1:], func(a string) bool { return a == "--config" || a == "-c" || strings.HasPrefix(a, "--config=") }) {
			return "it reads a config file named on its command line"
		}
		if configs := toolConfigs(bc, path.Base(w)); len(configs) > 0 {
			return code(configs) + " may set it, not as a number dockopt can read"
		}
	}
	return "the PORT variable is set, which dockopt does not read for it"
}

var (
	vitePreviewKey  = regexp.MustCompile(`\bpreview\s*:\s*\{`)
	viteLiteralPort = regexp.MustCompile(`\bport\s*:\s*(\d{2,5})\s*[,}\n]`)
)

// vitePreviewDefault is the port vite preview listens on when nothing
// sets preview.port (server.port does not apply to it).
const vitePreviewDefault = 4173

// vitePreviewPort reads preview.port from a Vite config where it is a
// number literal, or gives vite's default where the config has no
// preview settings at all; 0 where the config may set it some other way
// (a variable, a spread, a merged config, a preview object built
// elsewhere).
func vitePreviewPort(bc *analyzer.BuildContext, name string) int {
	b, err := bc.ReadFile(name)
	if err != nil {
		return 0
	}
	src := string(b)
	loc := vitePreviewKey.FindStringIndex(src)
	if loc == nil {
		if strings.Contains(src, "preview") || strings.Contains(src, "mergeConfig") {
			return 0
		}
		return vitePreviewDefault
	}
	if strings.Count(src, "preview") > 1 {
		// Another preview block (per mode) or a reference to one.
		return 0
	}
	// The preview object, up to its closing brace.
	depth, end := 0, -1
	for i := loc[1] - 1; i < len(src) && end < 0; i++ {
		switch src[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				end = i + 1
			}
		}
	}
	if end < 0 {
		return 0
	}
	body := src[loc[1]-1 : end]
	if strings.Contains(body, "...") {
		return 0
	}
	ms := viteLiteralPort.FindAllStringSubmatch(body, -1)
	switch {
	case len(ms) == 1 && strings.Count(body, "port") == 1:
		n, _ := strconv.Atoi(ms[0][1])
		return n
	case !strings.Contains(body, "port"):
		return vitePreviewDefault
	}
	return 0
}

// previewServer names the preview server words start ("vite preview"),
// "" for none.
func previewServer(words []string) string {
	for i, w := range words[:max(len(words)-1, 0)] {
		if _, ok := previewServers[path.Base(w)][words[i+1]]; ok {
			return path.Base(w) + " " + words[i+1]
		}
	}
	return ""
}

// devServerIn names the program whose development server words start
// ("vite", "eleventy"), "" for none.
func devServerIn(words []string) string {
	for _, i := range programWords(words) {
		w := words[i]
		subs, ok := devServers[path.Base(w)]
		if !ok {
			continue
		}
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		if path.Base(w) == "parcel" && next != "build" && next != "watch" {
			// parcel src/index.html serves as parcel serve does.
			return "parcel"
		}
		for _, s := range subs {
			if s == "" && (next == "" || strings.HasPrefix(next, "-")) ||
				strings.HasPrefix(s, "-") && slices.Contains(words[i+1:], s) || s != "" && next == s {
				return path.Base(w)
			}
		}
	}
	return ""
}

// devServerReason says why the rewrite leaves an image that runs a
// development server alone.
func devServerReason(cmd, start []string, dev string) string {
	run := "`" + strings.Join(cmd, " ") + "`"
	if !strings.HasSuffix(strings.Join(cmd, " "), strings.Join(start, " ")) {
		run += " runs `" + strings.Join(start, " ") + "`, which"
	}
	return run + " starts the development server of " + dev + " (hot reload, unbundled sources): the image exists to develop the app, and serving a production build from nginx would make another image, not this one smaller"
}

func hasFramework(pkg *analyzer.PackageJSON) bool {
	f, _, _ := detectFramework(pkg)
	return f != ""
}

func detectFramework(pkg *analyzer.PackageJSON) (name, assets string, spa bool) {
	for _, f := range frameworks {
		if pkg.HasDependency(f.dep) {
			spa := f.spa
			if spa {
				spa = false
				for _, lib := range spaLibraries {
					spa = spa || pkg.HasDependency(lib)
				}
			}
			return f.dep, f.assets, spa
		}
	}
	return "", "", false
}

func frameworkOut(dep string) string {
	for _, f := range frameworks {
		if f.dep == dep {
			return f.out
		}
	}
	return ""
}

// servedFolder is the first positional argument of a static server.
func servedFolder(args []string, valued []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "&&" || a == ";" {
			return ""
		}
		if strings.HasPrefix(a, "-") {
			if slices.Contains(valued, a) {
				i++
			}
			continue
		}
		return a
	}
	return ""
}

var portPattern = regexp.MustCompile(`(?:^|:)(\d{2,5})$`)

// portFlag reads -p/-l/--port/--listen values ("8080", "tcp://0.0.0.0:8080").
func portFlag(args []string) int {
	for i, a := range args {
		v := ""
		switch {
		case (a == "-p" || a == "-l" || a == "--port" || a == "--listen") && i+1 < len(args):
			v = args[i+1]
		case strings.HasPrefix(a, "--port="), strings.HasPrefix(a, "--listen="):
			_, v, _ = strings.Cut(a, "=")
		default:
			continue
		}
		if m := portPattern.FindStringSubmatch(v); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}

// outFlag reads the output folder option of a build script.
func outFlag(script string) string {
	words := strings.Fields(script)
	for i, w := range words {
		for _, opt := range []string{"--out-dir", "--outDir", "--output", "--dist-dir", "--output-path", "-o", "--outdir", "--out"} {
			if w == opt && i+1 < len(words) {
				return path.Clean(strings.Trim(words[i+1], `"'`))
			}
			if v, ok := strings.CutPrefix(w, opt+"="); ok {
				return path.Clean(strings.Trim(v, `"'`))
			}
		}
	}
	return ""
}

var outDirPattern = regexp.MustCompile(`outDir\s*:\s*["']([^"']+)["']`)

// configOutDir reads build.outDir from a Vite config, when written as a
// plain string.
func configOutDir(bc *analyzer.BuildContext) string {
	for _, name := range []string{"vite.config.js", "vite.config.ts", "vite.config.mjs", "vite.config.mts"} {
		b, err := bc.ReadFile(name)
		if err != nil {
			continue
		}
		if m := outDirPattern.FindSubmatch(b); m != nil {
			return path.Clean(string(m[1]))
		}
	}
	return ""
}

func (p *staticPlan) write(o *original) *Rewrite {
	var w dockerfile
	w.b.WriteString(o.headerText())
	// BuildKit reads a comment right above FROM as the stage's description
	// when it starts with the stage name.
	w.line("# build installs the dependencies and runs the build; none of it ships.")
	w.line("FROM %s AS build", o.stage.BaseRaw)
	w.raw(o.args...)
	w.line("WORKDIR /app")
	w.raw(installLine(o.stage.Base.Distro(), p.buildPkgs))
	w.raw(p.envBefore...)
	w.line("COPY %s ./", strings.Join(p.pm.manifests, " "))
	w.line("%s", p.pm.installRun(p.pm.install))
	w.raw(p.envAfter...)
	w.line("COPY . .")
	w.line("RUN %s %s", p.pm.run, p.script)
	w.blank()
	image, stock := NginxImage, p.port < 1024
	if stock {
		image = NginxStockImage
		w.line("# Runtime stage: only the built files, served by nginx; its workers run as the nginx user.")
	} else {
		w.line("# Runtime stage: only the built files, served by nginx as an unprivileged user.")
	}
	w.line("FROM %s", image)
	w.raw(o.labels...)
	w.line("COPY nginx/default.conf /etc/nginx/conf.d/default.conf")
	w.line("COPY --from=build /app/%s %s", p.out, htmlRoot)
	for _, l := range p.late {
		w.line("COPY %s %s", l[0], l[1])
	}
	w.raw(o.keep...)
	if !stock {
		// Numeric, as the image itself sets it: a runAsNonRoot check can
		// verify a UID but not a name.
		w.line("USER 101")
	}
	w.line("EXPOSE %d", p.port)
	w.line("HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \\")
	w.line("  CMD %s", execForm([]string{"wget", "-q", "--spider", fmt.Sprintf("http://127.0.0.1:%d/healthz", p.port)}))
	w.line(`CMD ["nginx", "-g", "daemon off;"]`)

	rw := &Rewrite{
		Kind:    analyzer.KindStaticSite,
		Title:   titleStatic,
		Content: w.bytes(),
		Resolves: []string{"static-site-node-server", "build-toolchain-in-final-image", "final-user-root", "healthcheck-missing",
			"full-base-image", "copy-not-add", "package-cache-mount-missing"},
	}
	if stock {
		// The stock image's master runs as root, as the finding still says.
		rw.Title = strings.TrimSuffix(titleStatic, " with unprivileged nginx") + " with nginx"
		rw.Resolves = slices.DeleteFunc(rw.Resolves, func(id string) bool { return id == "final-user-root" })
	}
	lock := "no lockfile, so `npm install` resolves versions afresh; commit one to get `npm ci`"
	if p.pm.stale != "" {
		lock = p.pm.stale + ", so `" + p.pm.install + "` updates it as the original's install did; update the lockfile to get a locked install"
	}
	if p.pm.locked {
		lock = "`" + p.pm.install + "` installs exactly `" + p.pm.manifests[1] + "`"
	}
	rw.Explanation = append(rw.Explanation,
		fmt.Sprintf("A build stage on `%s` copies %s first and installs with a cache mount; %s.", o.stage.BaseRaw, code(p.pm.manifests), lock),
		buildStep(p),
		runtimeUser(image, stock, p.port),
		"`nginx/default.conf` (new): gzip, headers X-Content-Type-Options, X-Frame-Options, Referrer-Policy, a year's immutable caching for hashed assets, `no-cache` for the rest, `/healthz`.",
		"A HEALTHCHECK asks `/healthz` with the image's busybox `wget`.",
	)
	if p.spa {
		rw.Explanation = append(rw.Explanation, "Unknown paths fall back to `index.html` (`try_files`): the app routes in the browser.")
	}
	if !p.ipv4Only {
		// http-server binds 0.0.0.0 unless -a says otherwise: IPv4 only,
		// as nginx here, and nothing to tell.
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("nginx listens on IPv4 only; the original server may also have answered on IPv6: where the container has IPv6 and clients use it, add `listen [::]:%d;` to `nginx/default.conf` (nginx does not start with it where there is no IPv6).", p.port))
	}
	rw.Explanation = append(rw.Explanation, fmt.Sprintf("nginx listens on %d, as the original did: port mappings stay.", p.port))
	if o.healthIn != nil {
		rw.Explanation = append(rw.Explanation, "The original HEALTHCHECK asked the Node server, gone from the runtime; the new one asks nginx.")
	}
	if len(p.late) > 0 {
		rw.Explanation = append(rw.Explanation, "Files the original added to the served folder after the build are copied likewise.")
	}
	if len(p.buildPkgs) > 0 {
		rw.Explanation = append(rw.Explanation, fmt.Sprintf("OS packages the original installed (%s): build stage only.", code(p.buildPkgs)))
	}
	rw.Explanation = append(rw.Explanation, p.droppedSteps...)
	rw.Files = append(rw.Files, analyzer.GeneratedFile{Path: o.contextPath("nginx/default.conf"), Content: nginxConf(p.port, p.spa, p.assets),
		Why: "new nginx configuration written by dockopt"})
	if f, ok := dockerignore(o, []string{".git", "coverage", "npm-debug.log*", "yarn-error.log*"}, []string{"**/node_modules"},
		append(append([]string{"nginx/default.conf"}, p.pm.manifests...), lateSources(p.late)...)); ok {
		rw.Files = append(rw.Files, f)
		what := "`node_modules` and `.git`"
		if o.sharedContext() {
			what = "`node_modules` (nothing else: other Dockerfiles build from the same context)"
		}
		rw.Explanation = append(rw.Explanation, "`.dockerignore` excludes "+what+".")
	}
	return rw
}

func lateSources(late [][2]string) []string {
	var out []string
	for _, l := range late {
		out = append(out, l[0])
	}
	return out
}

// code formats names as inline code, joined with commas.
func code(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

// buildStep says which script builds the site, and that the original
// never ran it where it did not: the new image builds from the sources
// what the original served as its build context brought it.
func buildStep(p *staticPlan) string {
	step := fmt.Sprintf("`%s %s` builds; only its output `%s/` (found from %s) reaches the runtime.", p.pm.run, p.script, p.out, p.outReason)
	if p.scriptAdded {
		step += fmt.Sprintf(" The original never ran this build: it served whatever `%s/` its build context held; the new image builds it from the sources.", p.out)
	}
	return step
}
