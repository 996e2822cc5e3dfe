package rules

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// nginxSite is what the nginx rules know about an image that serves
// static files with nginx.
type nginxSite struct {
	final *analyzer.Stage
	// config is the text of every configuration file the Dockerfile
	// copies or writes, comments removed; stock means there is none and
	// the image's default configuration applies. Behind a .dockerignore
	// that could not be read, config may hold files the builder leaves
	// out: ask it only what the configuration lacks (see readContextConf).
	config string
	stock  bool
	// staticDir is where the site's files are copied.
	staticDir string
	// at is the instruction findings are reported on.
	at *analyzer.Instruction
}

// nginxSiteOf recognises an nginx image serving static files and reads
// its configuration; ok is false when the image is something else or a
// configuration comes from where it cannot be read (another stage, an
// image, a file outside the context).
func nginxSiteOf(p *analyzer.Pass) (site nginxSite, ok bool) {
	final := p.File.FinalStage()
	root := final.Root()
	name := root.Base.Name()
	if name != "nginx" && name != "nginx-unprivileged" {
		return site, false
	}
	site = nginxSite{final: final, stock: true, at: root.From}
	// nginx -c FILE runs another configuration than the image's
	// nginx.conf: the stock one does not apply, and unless the Dockerfile
	// writes FILE (read below like /etc/nginx), it cannot be judged.
	confFile := nginxConfFlag(p.Facts().Stage(final).StartCommand())
	confWritten := false
	isConf := func(dest string) bool {
		if confFile != "" && (dest == confFile || dest == path.Dir(confFile)) {
			confWritten = true
			return true
		}
		return strings.HasPrefix(dest, "/etc/nginx")
	}
	var texts []string
	budget := newConfBudget()
	for _, in := range final.LineageInstructions() {
		if in.Onbuild != nil {
			continue
		}
		switch in.Keyword {
		case "COPY", "ADD":
			c, isCopy := copyOf(in)
			if !isCopy {
				continue
			}
			dest := analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
			if strings.HasPrefix(dest, "/usr/share/nginx/html") || (!strings.HasPrefix(dest, "/etc/nginx") && c.from != "" && builtSite(c.sources)) {
				if site.staticDir == "" {
					site.staticDir = strings.TrimSuffix(dest, "/")
					if !strings.HasSuffix(c.dest, "/") && len(c.sources) == 1 && path.Ext(dest) != "" {
						site.staticDir = path.Dir(dest)
					}
				}
				continue
			}
			if !isConf(dest) {
				continue
			}
			site.stock = false
			if cc, ok := in.Command.(*instructions.CopyCommand); ok {
				for _, sc := range cc.SourceContents {
					texts = append(texts, sc.Data)
				}
			}
			if c.from != "" || (c.add && len(c.contextSources()) != len(c.sources)-countHeredocs(c)) {
				return site, false
			}
			for _, src := range c.contextSources() {
				t, readable := readContextConf(p.Context, src, budget)
				if !readable {
					return site, false
				}
				texts = append(texts, t...)
			}
		case "RUN":
			if in.Script == nil || in.Script.File == nil {
				continue
			}
			for _, w := range extractInlineWrites(in.Script, in.WorkdirBefore(), echoInterpretsEscapes(in.Stage)).writes {
				if isConf(w.target) {
					site.stock = false
					texts = append(texts, w.content)
				}
			}
		}
	}
	if site.staticDir == "" || (confFile != "" && !confWritten) {
		return site, false
	}
	site.config = stripNginxComments(strings.Join(texts, "\n"))
	return site, true
}

// nginxConfFlag returns the configuration file an nginx start command
// names with -c, "" when it names none or names the image's own
// /etc/nginx/nginx.conf.
func nginxConfFlag(words []string) string {
	i := slices.IndexFunc(words, func(w string) bool { return path.Base(w) == "nginx" })
	if i < 0 {
		return ""
	}
	for j := i + 1; j+1 < len(words); j++ {
		if words[j] == "-c" {
			if f := path.Clean(words[j+1]); f != "/etc/nginx/nginx.conf" {
				return f
			}
			return ""
		}
	}
	return ""
}

// builtSite reports sources copied from a build stage that are, by their
// names, a built site's folder (dist, build, public …): elsewhere than
// nginx's own html folder, only those are taken for the site. A binary
// (go build -o /app) copied next to nginx is not one, and a configuration
// serving it would answer 404 to everything.
func builtSite(sources []string) bool {
	for _, src := range sources {
		// dist/. and dist/* copy the folder's contents: still the site.
		switch path.Base(strings.TrimSuffix(path.Clean(src), "/*")) {
		case "dist", "build", "public", "out", "site", "_site", "html", "www", "static", "storybook-static":
		default:
			return false
		}
	}
	return len(sources) > 0
}

func countHeredocs(c copySpec) int {
	n := 0
	for _, s := range c.sources {
		if strings.HasPrefix(s, "<<") {
			n++
		}
	}
	return n
}

// readContextConf reads a COPY source from the context: one file, or the
// .conf files of a folder. Behind a .dockerignore that could not be read
// every file is read: the rules ask what the configuration lacks, and what
// all of them lack, the part the builder sees lacks too.
func readContextConf(bc *analyzer.BuildContext, src string, budget *confBudget) ([]string, bool) {
	return readContextFiles(bc, src, []string{".conf", ".template"}, budget)
}

// confBudget bounds what one reading of a copied server configuration
// takes from the build context: a Dockerfile that copies a 1 MiB file a
// thousand times, or a thousand such files, would otherwise have each
// read and searched, at seconds of CPU per hundred. A real nginx or
// Traefik configuration is a few KiB in a few files. Past the budget the
// configuration is not judged.
type confBudget struct {
	bytes, sources int
	read           map[string]bool
}

func newConfBudget() *confBudget {
	return &confBudget{bytes: 2 << 20, sources: 64, read: map[string]bool{}}
}

// readContextFiles reads a COPY source from the context: one file, or
// the files of a folder whose names end in one of exts. A source the
// budget already read returns nothing more: copying it again adds
// nothing to read. readable is false past the budget.
func readContextFiles(bc *analyzer.BuildContext, src string, exts []string, budget *confBudget) ([]string, bool) {
	src = path.Clean(strings.TrimPrefix(src, "/"))
	if budget.read[src] {
		return nil, true
	}
	if budget.sources--; budget.sources < 0 {
		return nil, false
	}
	budget.read[src] = true
	if bc == nil || bc.Truncated {
		// Past a truncated listing, a source may hold files the listing
		// never reached, so none is read: the site is left unjudged.
		return nil, false
	}
	var out []string
	matched := false
	for _, f := range bc.Files {
		if !analyzer.SourceCovers(src, f) || bc.DockerIgnore.Excludes(f) {
			continue
		}
		if f != src && !slices.ContainsFunc(exts, func(e string) bool { return strings.HasSuffix(f, e) }) {
			continue
		}
		b, err := bc.ReadFile(f)
		if err != nil {
			return nil, false
		}
		if budget.bytes -= len(b); budget.bytes < 0 {
			return nil, false
		}
		matched = true
		out = append(out, string(b))
	}
	return out, matched
}

// The nginx directives the rules look for, compiled once rather than at
// each check of each file.
var (
	nginxCommentRE   = regexp.MustCompile(`(?m)#.*$`)
	nginxGzipOnRE    = regexp.MustCompile(`\bgzip\s+on\s*;`)
	nginxGzipTypesRE = regexp.MustCompile(`\bgzip_types\s+([^;]*);`)
	nginxAddHeaderRE = map[string]*regexp.Regexp{
		"X-Content-Type-Options": addHeaderRE("X-Content-Type-Options"),
		"X-Frame-Options":        addHeaderRE("X-Frame-Options"),
		"Referrer-Policy":        addHeaderRE("Referrer-Policy"),
	}
	nginxCSPFrameAncestorsRE = regexp.MustCompile(`(?i)\badd_header\s+["']?Content-Security-Policy["']?\s+("[^"]*|'[^']*|[^;]*)frame-ancestors`)
)

// addHeaderRE matches an add_header of one header.
func addHeaderRE(h string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)\badd_header\s+["']?` + regexp.QuoteMeta(h) + `["']?\s`)
}

func stripNginxComments(s string) string { return nginxCommentRE.ReplaceAllString(s, "") }

// nginxGzipMissing lists what the configuration lacks for compression.
func nginxGzipMissing(conf string) []string {
	if !nginxGzipOnRE.MatchString(conf) {
		return []string{"gzip on;", "gzip_types " + strings.Join(nginxGzipTypes, " ") + ";"}
	}
	var types string
	for _, m := range nginxGzipTypesRE.FindAllStringSubmatch(conf, -1) {
		types += " " + m[1] + " "
	}
	if strings.Contains(types, " * ") {
		return nil
	}
	var missing []string
	for _, want := range [][]string{{"text/css"}, {"application/javascript", "text/javascript"}, {"application/json"}, {"image/svg+xml"}} {
		found := false
		for _, w := range want {
			found = found || strings.Contains(types, " "+w+" ")
		}
		if !found {
			missing = append(missing, want[0])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []string{"gzip_types " + strings.Join(missing, " ") + ";"}
}

var nginxGzipTypes = []string{"text/plain", "text/css", "application/javascript", "text/javascript", "application/json", "image/svg+xml"}

// nginxHeadersMissing lists the security headers the configuration does
// not add.
func nginxHeadersMissing(conf string) []string {
	has := func(h string) bool { return nginxAddHeaderRE[h].MatchString(conf) }
	var missing []string
	if !has("X-Content-Type-Options") {
		missing = append(missing, `add_header X-Content-Type-Options "nosniff" always;`)
	}
	// SAMEORIGIN, not DENY: a site that frames its own pages keeps
	// working, and other sites still cannot frame it.
	if !has("X-Frame-Options") && !nginxCSPFrameAncestorsRE.MatchString(conf) {
		missing = append(missing, `add_header X-Frame-Options "SAMEORIGIN" always;`)
	}
	if !has("Referrer-Policy") {
		missing = append(missing, `add_header Referrer-Policy "strict-origin-when-cross-origin" always;`)
	}
	return missing
}

// servesFile reports a copy of the build context into the site's folder
// that would take the context file src with it (COPY . /usr/share/nginx/html):
// the configuration written there would be served to anyone who asks.
func servesFile(site nginxSite, src string) bool {
	for _, in := range site.final.LineageInstructions() {
		c, ok := copyOf(in)
		if !ok || c.from != "" {
			continue
		}
		dest := analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
		if dest != site.staticDir && !strings.HasPrefix(dest, site.staticDir+"/") {
			continue
		}
		for _, s := range c.contextSources() {
			if analyzer.SourceCovers(s, src) {
				return true
			}
		}
	}
	return false
}

// nginxSnippet is where the fix writes its configuration in the image:
// the official images include /etc/nginx/conf.d/*.conf in the http block
// of nginx.conf, so the directives reach every server without replacing
// the packaged default.conf. Replacing it would lose IPv6: the images'
// 10-listen-on-ipv6-by-default.sh adds `listen [::]:80` at start only
// while default.conf is the packaged file, and a `listen [::]` written
// into the configuration stops nginx from starting where the container
// has no IPv6.
const nginxSnippet = "/etc/nginx/conf.d/dockopt.conf"

// nginxFixWithheld says why nginxFix proposes nothing for a stock site,
// "" when there is no reason worth telling.
func nginxFixWithheld(p *analyzer.Pass, site nginxSite) string {
	bc := p.Context
	if bc == nil || site.at.Onbuild != nil {
		return ""
	}
	if why := stockNginxUnprivileged(p, site); why != "" {
		return why
	}
	if why := nginxSnippetUnsafe(p, site); why != "" {
		return why
	}
	gen := path.Join(path.Dir(p.File.Path), "nginx", path.Base(nginxSnippet))
	src, ok := relUnder(bc.Dir, gen)
	switch {
	case !ok:
		return ""
	case bc.Has(src):
		return "the build context already has " + src + ", where the fix would write the configuration"
	case bc.DockerIgnore.Excludes(src):
		return ".dockerignore excludes " + src + ", where the fix would write the configuration"
	case servesFile(site, src):
		return "a copy into the site's folder would take the written configuration along, and nginx would serve it to anyone who asks"
	}
	return ""
}

// officialNginx reports the images whose stock configuration dockopt
// knows: the official nginx and nginxinc/nginx-unprivileged, whose
// nginx.conf has gzip commented out and adds no header.
func officialNginx(base analyzer.ImageRef) bool {
	return !base.Unresolved && (base.Official() == "nginx" || base.Registry == "docker.io" && base.Repository == "nginxinc/nginx-unprivileged")
}

// reportUnknownStock reports, at info, a site served with the own
// configuration of an nginx image other than the official ones, which
// dockopt does not know; lacks says what it would lack, add what to add.
// It returns false for the official images, whose configuration is known.
func reportUnknownStock(p *analyzer.Pass, site nginxSite, lacks string, add []string) bool {
	base := site.final.Root().Base
	if !site.stock || officialNginx(base) {
		return false
	}
	p.ReportAdvisory(site.at, "the image keeps the configuration "+base.Raw+" ships, which dockopt does not know; if it "+lacks+", add to its http block: "+strings.Join(add, " "), analyzer.PreconditionUnknown)
	return true
}

// nginxSnippetUnsafe says why directives added to the http block may not
// reach the site, or may stop nginx from starting, "" when they are known
// to do neither. They do in the official images (nginx and
// nginxinc/nginx-unprivileged, Debian and Alpine alike): nginx.conf
// includes conf.d/*.conf in its http block and sets no gzip directive (a
// second one is an error), and the packaged default.conf sets no
// add_header or gzip (either would replace what the http block sets).
func nginxSnippetUnsafe(p *analyzer.Pass, site nginxSite) string {
	base := site.final.Root().Base
	if !officialNginx(base) {
		return "the fix relies on the configuration the official nginx images ship (conf.d/*.conf included in the http block, a default.conf without add_header), and " + base.Raw + " is not one of them"
	}
	if site.staticDir != "/usr/share/nginx/html" {
		return "the site is copied to " + site.staticDir + ", and the image's default.conf serves /usr/share/nginx/html: where nginx serves the site from is for you to decide"
	}
	if why := mountedNginxConfig(p.Context); why != "" {
		return why + ": a gzip directive of its own beside the fix's would stop nginx from starting"
	}
	for _, in := range site.final.LineageInstructions() {
		if in.Onbuild != nil {
			continue
		}
		switch in.Keyword {
		case "RUN":
			if strings.Contains(in.Text(p.File.Source), "/etc/nginx") {
				return fmt.Sprintf("the RUN on line %d touches /etc/nginx, and dockopt cannot tell what it leaves there", in.StartLine)
			}
		case "CMD", "ENTRYPOINT":
			words := strings.Fields(strings.NewReplacer(`"`, " ", ",", " ", "[", " ", "]", " ").Replace(in.Text(p.File.Source)))
			if i := slices.IndexFunc(words, func(w string) bool { return path.Base(w) == "nginx" }); i >= 0 && slices.Contains(words[i:], "-c") {
				return fmt.Sprintf("the %s on line %d starts nginx with a configuration file of its own (-c)", in.Keyword, in.StartLine)
			}
		}
	}
	return ""
}

// mountedNginxConfig says why the configuration nginx runs with may not be
// the one a stock image ships, "" when nothing suggests it: the build
// context holds an nginx configuration the Dockerfile does not copy, or a
// compose file mounts something under /etc/nginx.
func mountedNginxConfig(bc *analyzer.BuildContext) string {
	if bc == nil {
		return ""
	}
	composeRead := 0
	for _, f := range bc.Files {
		base := path.Base(f)
		if strings.Contains(f, "node_modules/") || base == path.Base(nginxSnippet) {
			continue // the fix's own file
		}
		switch {
		case base == "nginx.conf" || path.Ext(base) == ".conf" && strings.Contains(f, "nginx"):
			return "the build context holds " + f + ", which the Dockerfile does not copy and which may be mounted over the image's configuration when it runs (compose, a ConfigMap)"
		case analyzer.IsComposeFile(base) && composeRead < 8:
			composeRead++
			if b, err := bc.ReadFile(f); err == nil && bytes.Contains(b, []byte("/etc/nginx")) {
				return "the compose file " + f + " mounts something under /etc/nginx"
			}
		}
	}
	return ""
}

// nginxFix proposes an http-level configuration file with compression
// and security headers for an image that runs nginx's stock
// configuration, which its packaged server inherits. Both nginx rules
// return the same fix, so that whichever the patcher applies first
// satisfies the other.
func nginxFix(p *analyzer.Pass, site nginxSite) *analyzer.Fix {
	bc := p.Context
	if !site.stock || bc == nil || site.at.Onbuild != nil || stockNginxUnprivileged(p, site) != "" || nginxSnippetUnsafe(p, site) != "" {
		return nil
	}
	gen := path.Join(path.Dir(p.File.Path), "nginx", path.Base(nginxSnippet))
	src, ok := relUnder(bc.Dir, gen)
	if !ok || bc.Has(src) || bc.DockerIgnore.Excludes(src) || servesFile(site, src) {
		return nil
	}
	// A waived rule's part stays out: the file is one fix for both.
	gzip, headers := !p.WaivedAt("nginx-no-gzip", site.at), !p.WaivedAt("nginx-missing-security-headers", site.at)
	var what []string
	if gzip {
		what = append(what, "compression")
	}
	if headers {
		what = append(what, "security headers")
	}
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\n") }
	w("# Written by dockopt: " + strings.Join(what, " and ") + " for the static site.")
	w("# nginx reads this file inside its http block (nginx.conf includes")
	w("# conf.d/*.conf there), so the image's own default.conf still serves the")
	if headers {
		w("# site and inherits these directives; a server or location that sets an")
		w("# add_header of its own no longer sends the ones below.")
	} else {
		w("# site and inherits these directives.")
	}
	if gzip {
		w("gzip on;")
		w("gzip_vary on;")
		w("gzip_min_length 1024;")
		w("gzip_types " + strings.Join(nginxGzipTypes, " ") + ";")
	}
	if gzip && headers {
		w("")
	}
	if headers {
		w(`add_header X-Content-Type-Options "nosniff" always;`)
		w(`add_header X-Frame-Options "SAMEORIGIN" always;`)
		w(`add_header Referrer-Policy "strict-origin-when-cross-origin" always;`)
	}
	parts := slices.Clone(what)
	if gzip {
		parts[0] = "gzip"
	}
	line := matchCase("COPY", site.at.Written) + " " + quoteCopy(src) + " " + nginxSnippet
	return &analyzer.Fix{
		Message: "add " + gen + " to nginx's http block (" + strings.Join(parts, ", ") + "); the image's default.conf stays",
		Safety:  analyzer.Review,
		Edits:   []analyzer.TextEdit{insertLinesAfter(p.File, site.at, line)},
		Files: []analyzer.GeneratedFile{{Path: gen, Content: b.String(),
			Why: "new nginx configuration written by dockopt: compression and security headers, read in nginx's http block"}},
	}
}

// stockNginxUnprivileged says why a configuration cannot make the stock
// nginx image work under the USER the Dockerfile sets, or "": as any
// account but root, nginx binds no port below 1024 and cannot write
// /run/nginx.pid or its caches there. A configuration on another port
// would only move the failure, and change the port people publish.
func stockNginxUnprivileged(p *analyzer.Pass, site nginxSite) string {
	base := site.final.Root().Base
	if base.Official() != "nginx" {
		return ""
	}
	u := analyzer.FinalUser(p.File)
	if u == "" || analyzer.IsRootUser(u) {
		return ""
	}
	return fmt.Sprintf("the image runs the stock %s as %s, which can neither bind port 80 nor write /run/nginx.pid there: build FROM nginxinc/nginx-unprivileged, which listens on 8080 as uid 101, instead", base.Raw, u)
}
