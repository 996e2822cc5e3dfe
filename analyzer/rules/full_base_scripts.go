package rules

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// maxScriptRead bounds a context script read for the commands it runs.
const maxScriptRead = 256 << 10

// slimLacksInScripts looks past the RUN lines into what they run: a shell
// script of the build context (./scripts/fetch.sh, sh build.sh) and the
// package.json scripts of npm run, yarn and pnpm. It returns why the slim
// image alt would fail them: a command of theirs the full image ships and
// alt does not, or a script it cannot read to tell; "" when neither.
func slimLacksInScripts(p *analyzer.Pass, sf *analyzer.StageFacts, final *analyzer.Stage, full analyzer.ImageRef, alt string) string {
	slimImage, slimKnown := analyzer.ImageContents(analyzer.ParseImageRef(alt))
	if !slimKnown {
		return ""
	}
	lacking := func(name string, at int) bool { return lackedBySlim(slimImage, name, sf.ToolAtOffset(at, name)) }
	lineage := final.LineageInstructions()
	copies := contextCopies(lineage)
	// Each script is read once, and only the first few distinct ones: a
	// file of thousands of RUN ./x.sh stays linear. Past that, what the
	// rest need is unknown, and the swap is not proposed.
	const maxScripts = 32
	checked := map[string]scriptNeed{}
	read := 0
	check := func(keys []string, at, before int, where string) string {
		for _, key := range keys {
			need, seen := checked[key]
			if !seen {
				if read >= maxScripts {
					return fmt.Sprintf("the image runs more scripts than the %d dockopt reads (the next at %s), and whether the others need a tool %s lacks is unknown", maxScripts, where, alt)
				}
				// One answer per command a script names, whatever its
				// length (ToolAtOffset is linear in the stage's events).
				memo := map[string]bool{}
				need = scriptNeeds(p, key, copies, before, func(n string) bool {
					v, ok := memo[n]
					if !ok {
						v = lacking(n, at)
						memo[n] = v
					}
					return v
				})
				checked[key] = need
				if need.read {
					read++
				}
			}
			if need.tool != "" {
				return fmt.Sprintf("%s, which %s runs, runs %s: %s ships it and %s does not", need.script, where, need.tool, full.Raw, alt)
			}
		}
		return ""
	}
	for i, in := range lineage {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			var keys []string
			if script, ok := scriptRun(in.WorkdirBefore(), c.Name, commandWord(c), argValues(c)); ok {
				keys = append(keys, "file:"+script)
			}
			keys = append(keys, packageScriptKeys(c.Name, argValues(c))...)
			if why := check(keys, c.Start, i, fmt.Sprintf("line %d", in.StartLine)); why != "" {
				return why
			}
		}
	}
	// The start command runs on the image as it ends: a script it starts
	// (an entrypoint that fetches with curl) fails the container, not the
	// build.
	if words := startWords(sf.StartCommand()); len(words) > 0 {
		var keys []string
		if script, ok := scriptRun(sf.WorkdirAt(0), path.Base(words[0]), words[0], words[1:]); ok {
			keys = append(keys, "file:"+script)
		}
		keys = append(keys, packageScriptKeys(path.Base(words[0]), words[1:])...)
		if why := check(keys, math.MaxInt, len(lineage), "the container's start command"); why != "" {
			return why
		}
	}
	return ""
}

// startWords drops the init (tini, dumb-init) and its options in front of
// a start command.
func startWords(words []string) []string {
	for i, w := range words {
		b := path.Base(w)
		if b == "tini" || b == "tini-static" || b == "dumb-init" || strings.HasPrefix(w, "-") {
			continue
		}
		return words[i:]
	}
	return nil
}

func argValues(c analyzer.Command) []string {
	out := make([]string, 0, len(c.Args))
	for _, a := range c.Args {
		if a.Dynamic {
			out = append(out, "$")
			continue
		}
		out = append(out, a.Value)
	}
	return out
}

// scriptNeed is the first command a script runs that the slim image
// lacks (tool "" for none), how the script is named in a message, and
// whether there was a script to read.
type scriptNeed struct {
	script, tool string
	read         bool
}

// scriptNeeds reads the script key names (file:/image/path or npm:name)
// for the first command it runs that lacking says the slim image does not
// have; none when it is not the context's to read (the base image's, one
// a RUN wrote, a package.json without it). A package.json script's own
// npm run, yarn or pnpm calls are followed, three deep.
func scriptNeeds(p *analyzer.Pass, key string, copies []contextCopy, before int, lacking func(string) bool) scriptNeed {
	if p.Context == nil {
		return scriptNeed{}
	}
	kind, name, _ := strings.Cut(key, ":")
	if kind == "npm" {
		if p.Context.Package == nil {
			return scriptNeed{}
		}
		body, ok := p.Context.Package.Scripts[name]
		if !ok {
			return scriptNeed{}
		}
		return scriptNeed{script: fmt.Sprintf("the package.json script %q", name), tool: npmScriptLacking(p.Context.Package.Scripts, body, lacking, 3), read: true}
	}
	rel, found := contextFileAt(p.Context, copies, before, name)
	if !found {
		return scriptNeed{}
	}
	b, err := p.Context.ReadFile(rel)
	if err != nil || len(b) > maxScriptRead {
		return scriptNeed{}
	}
	return scriptNeed{script: rel, tool: firstLacking(string(b), lacking), read: true}
}

// npmScriptLacking is firstLacking for a package.json script, following
// the scripts it runs in turn (npm run stamp && tsc) depth levels down.
func npmScriptLacking(scripts map[string]string, body string, lacking func(string) bool, depth int) string {
	if tool := firstLacking(body, lacking); tool != "" || depth == 0 {
		return tool
	}
	for _, call := range shellCalls(body) {
		for _, key := range packageScriptKeys(path.Base(call[0]), call[1:]) {
			name := strings.TrimPrefix(key, "npm:")
			if inner, ok := scripts[name]; ok {
				if tool := npmScriptLacking(scripts, inner, lacking, depth-1); tool != "" {
					return tool
				}
			}
		}
	}
	return ""
}

// scriptRun returns the image path of a shell script a command runs:
// ./x.sh or a path as the command, or the file of sh/bash FILE.
func scriptRun(workdir, name, word string, args []string) (string, bool) {
	file := ""
	switch {
	case name == "sh" || name == "bash":
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return "", false
		}
		file = args[0]
	case strings.HasPrefix(word, "./") || strings.Contains(word, "/") && strings.HasSuffix(word, ".sh"):
		file = word
	default:
		return "", false
	}
	if strings.Contains(file, "$") {
		return "", false
	}
	return analyzer.ResolvePath(workdir, file), true
}

// commandWord is the command as written (./scripts/x.sh), where Name is
// its base name.
func commandWord(c analyzer.Command) string {
	if c.Call != nil {
		for _, w := range c.Call.Args {
			if lit := w.Lit(); lit != "" && path.Base(lit) == c.Name {
				return lit
			}
		}
	}
	return c.Name
}

// contextCopy is a COPY of context sources (no --from, no ADD), at its
// position in the lineage, with its destination resolved.
type contextCopy struct {
	at      int
	dest    string
	rawDest string
	sources []string
}

func contextCopies(lineage []*analyzer.Instruction) []contextCopy {
	var out []contextCopy
	for i, x := range lineage {
		c, ok := copyOf(x)
		if !ok || c.from != "" || c.add {
			continue
		}
		out = append(out, contextCopy{at: i, dest: analyzer.ResolvePath(x.WorkdirBefore(), c.dest), rawDest: c.dest, sources: c.contextSources()})
	}
	return out
}

// contextFileAt maps an image path back to the build context file the
// last copy before position before put there: from a copy of the whole
// context, of a folder, or of the file itself. Copies from stages, images
// and URLs, and anything a RUN may have written since, are not followed.
func contextFileAt(bc *analyzer.BuildContext, copies []contextCopy, before int, imagePath string) (string, bool) {
	for i := len(copies) - 1; i >= 0; i-- {
		c := copies[i]
		if c.at >= before {
			continue
		}
		for _, s := range slices.Backward(c.sources) {
			if strings.ContainsAny(s, "*?[$") {
				continue
			}
			src := path.Clean(strings.TrimPrefix(s, "/"))
			under, ok := strings.CutPrefix(imagePath, strings.TrimSuffix(c.dest, "/")+"/")
			switch {
			case isWholeContext(s):
				if ok {
					return under, true
				}
			case imagePath == c.dest || imagePath == path.Join(c.dest, path.Base(src)) && (strings.HasSuffix(c.rawDest, "/") || len(c.sources) > 1):
				return src, true
			case ok && len(filesUnder(bc, src)) > 0:
				// A folder of the context copied to dest.
				return path.Join(src, under), true
			}
		}
	}
	return "", false
}

// packageScriptKeys returns the package.json scripts a command runs, as
// npm:NAME keys: npm run X and yarn X with their pre and post scripts
// (which pnpm and Yarn 2 do not run by default), npm start/test, pnpm X.
func packageScriptKeys(name string, args []string) []string {
	if len(args) == 0 {
		return nil
	}
	sub, rest := args[0], args[1:]
	script := ""
	switch name {
	case "npm":
		switch sub {
		case "run", "run-script":
			if len(rest) > 0 {
				script = rest[0]
			}
		case "start", "test":
			script = sub
		}
	case "yarn", "pnpm":
		switch {
		case sub == "run" && len(rest) > 0:
			script = rest[0]
		case !strings.HasPrefix(sub, "-") && !slices.Contains([]string{"install", "add", "remove", "exec", "dlx", "create", "global", "config", "cache", "why", "info", "list", "ls", "import", "fetch", "store", "set", "up", "upgrade", "workspace", "workspaces", "dedupe", "patch", "pack", "publish", "link", "unlink"}, sub):
			script = sub
		}
	}
	if script == "" || strings.HasPrefix(script, "-") || strings.Contains(script, "$") {
		return nil
	}
	if name == "pnpm" {
		return []string{"npm:" + script}
	}
	return []string{"npm:pre" + script, "npm:" + script, "npm:post" + script}
}

// firstLacking parses a shell script and returns the first command it
// runs for which lacking is true; a script that does not parse returns "".
func firstLacking(src string, lacking func(string) bool) string {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(src), "")
	if err != nil {
		return ""
	}
	// A tool the script installs itself (apt-get install -y curl && curl
	// …) is there on the slim image too; whether its HTTPS works there is
	// slimBreaksHTTPS's question.
	installed := map[string]bool{}
	var calls [][]string
	syntax.Walk(f, func(n syntax.Node) bool {
		if call, ok := n.(*syntax.CallExpr); ok && len(call.Args) > 0 {
			var words []string
			for _, w := range call.Args {
				words = append(words, w.Lit())
			}
			calls = append(calls, words)
			if len(words) > 2 && slices.Contains([]string{"apt-get", "apt", "apk", "yum", "dnf", "microdnf"}, path.Base(words[0])) &&
				slices.Contains(words[1:], "install") || len(words) > 2 && path.Base(words[0]) == "apk" && slices.Contains(words[1:], "add") {
				for _, w := range words[1:] {
					installed[w] = true
				}
			}
		}
		return true
	})
	for _, words := range calls {
		if name := words[0]; name != "" && !installed[path.Base(name)] && lacking(name) {
			return path.Base(name)
		}
	}
	return ""
}

// slimBreaksHTTPS says why the slim image alt would fail an HTTPS request
// the build makes, "" when nothing suggests one would: a RUN, or a context
// script a RUN or the start command runs, installs curl, wget or git with
// apt-get install --no-install-recommends and without ca-certificates,
// then runs it on an https:// URL (or one dockopt cannot read). On full
// the certificates are there already; alt, without them, gets a tool that
// cannot verify any server. On Debian these tools only recommend
// ca-certificates (libcurl4 does, for curl), so an install that keeps the
// recommended packages brings them, and is no concern.
func slimBreaksHTTPS(p *analyzer.Pass, sf *analyzer.StageFacts, final *analyzer.Stage, full analyzer.ImageRef, alt string) string {
	slimImage, slimKnown := analyzer.ImageContents(analyzer.ParseImageRef(alt))
	fullImage, fullKnown := analyzer.ImageContents(full)
	if !slimKnown || !fullKnown {
		return ""
	}
	if in, known := slimImage.Tool("ca-certificates"); !known || in {
		return ""
	}
	if in, known := fullImage.Tool("ca-certificates"); !known || !in {
		return ""
	}
	var h httpsScan
	lineage := final.LineageInstructions()
	copies := contextCopies(lineage)
	const maxScripts = 32
	read := map[string]bool{}
	// script reads the context script a command runs, if any, once.
	script := func(workdir, name, word string, args []string, before int) (string, []analyzer.Command, bool) {
		file, ok := scriptRun(workdir, name, word, args)
		if !ok || p.Context == nil {
			return "", nil, true
		}
		rel, found := contextFileAt(p.Context, copies, before, file)
		if !found || read[rel] {
			return "", nil, true
		}
		if len(read) >= maxScripts {
			return rel, nil, false
		}
		read[rel] = true
		b, err := p.Context.ReadFile(rel)
		if err != nil || len(b) > maxScriptRead {
			return "", nil, true
		}
		f, err := syntax.NewParser().Parse(strings.NewReader(string(b)), "")
		if err != nil {
			return "", nil, true
		}
		return rel, (&analyzer.Script{File: f, Src: string(b), Offset: -1}).Commands(), true
	}
	for i, in := range lineage {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		where := fmt.Sprintf("line %d", in.StartLine)
		for _, c := range in.Script.Commands() {
			if why := h.command(c, where); why != "" {
				return why + httpsLost(full, alt)
			}
			rel, cmds, ok := script(in.WorkdirBefore(), c.Name, commandWord(c), argValues(c), i)
			if !ok {
				return fmt.Sprintf("the image runs more scripts than the %d dockopt reads (the next at %s), and whether one of them fetches https:// with a curl, wget or git that %s installs without ca-certificates is unknown", maxScripts, where, alt)
			}
			for _, sc := range cmds {
				if why := h.command(sc, fmt.Sprintf("%s (run by %s)", rel, where)); why != "" {
					return why + httpsLost(full, alt)
				}
			}
		}
	}
	if words := startWords(sf.StartCommand()); len(words) > 0 && h.noCerts != nil {
		rel, cmds, _ := script(sf.WorkdirAt(0), path.Base(words[0]), words[0], words[1:], len(lineage))
		for _, sc := range cmds {
			if why := h.command(sc, rel+" (run by the container's start command)"); why != "" {
				return why + httpsLost(full, alt)
			}
		}
	}
	return ""
}

func httpsLost(full analyzer.ImageRef, alt string) string {
	return fmt.Sprintf(": %s ships ca-certificates and %s does not, so unless something else installs them, the request fails there", full.Raw, alt)
}

// httpsScan follows, command by command in the order the build runs them,
// which of curl, wget and git were installed without the ca-certificates
// their HTTPS needs, and whether ca-certificates was installed since.
type httpsScan struct {
	noCerts map[string]string // tool → where it was installed without them
	certs   bool
	// aptNoRecommends is set once a command writes APT's configuration
	// to leave recommended packages out of every install.
	aptNoRecommends bool
}

// command takes the next command, run at where; it returns what fails
// when the command fetches over HTTPS with a tool installed without
// ca-certificates.
func (h *httpsScan) command(c analyzer.Command, where string) string {
	if h.certs {
		return ""
	}
	switch c.Name {
	case "echo", "printf", "tee":
		text := c.String()
		if strings.Contains(text, "Install-Recommends") && (strings.Contains(text, "false") || strings.Contains(text, `"0"`) || strings.Contains(text, " 0")) {
			h.aptNoRecommends = true
		}
		return ""
	case "apt-get", "apt", "apk":
		pkgs := installedWords(c)
		if len(pkgs) == 0 {
			return ""
		}
		words := make([]string, len(pkgs))
		for i, w := range pkgs {
			words[i] = analyzer.PackageName(w.Value)
			if words[i] == "ca-certificates" {
				h.certs = true
				return ""
			}
		}
		if c.Name == "apk" || !noRecommends(c) && !h.aptNoRecommends {
			return ""
		}
		for _, m := range analyzer.MissingRecommends(words) {
			if m.Package == "ca-certificates" {
				if h.noCerts == nil {
					h.noCerts = map[string]string{}
				}
				h.noCerts[m.NeededBy] = where
			}
		}
		return ""
	}
	installed, ok := h.noCerts[c.Name]
	if !ok {
		return ""
	}
	url, known := fetchedURL(c)
	switch {
	case known && !strings.HasPrefix(url, "https://"):
		return ""
	case !known:
		url = "a URL dockopt cannot read"
	}
	if installed == where {
		return fmt.Sprintf("%s installs %s without recommended packages and without ca-certificates, then fetches %s with it", where, c.Name, url)
	}
	return fmt.Sprintf("%s installs %s without recommended packages and without ca-certificates, and %s fetches %s with it", installed, c.Name, where, url)
}

// installedWords returns the package words of apt-get/apt install and apk
// add, nothing for other commands.
func installedWords(c analyzer.Command) []analyzer.Word {
	switch c.Name {
	case "apt-get", "apt":
		return aptInstallPackages(c)
	case "apk":
		if c.Subcommand("-X", "--repository", "-t", "--virtual", "-p", "--root") == "add" {
			return afterSubcommand(c, "-X", "--repository", "-t", "--virtual", "-p", "--root")
		}
	}
	return nil
}

// noRecommends reports an apt-get install that leaves recommended
// packages out: --no-install-recommends, or -o APT::Install-Recommends
// set to false.
func noRecommends(c analyzer.Command) bool {
	for _, a := range c.Args {
		v := strings.ToLower(a.Value)
		if strings.HasPrefix(v, "--no-install-recommends") {
			return true
		}
		if k, val, ok := strings.Cut(v, "install-recommends="); ok && k != "" {
			switch strings.Trim(val, `"' `) {
			case "false", "0", "no", "off":
				return true
			}
		}
	}
	return false
}

// fetchedURL returns the first URL among a command's arguments; known is
// false when there is none but an argument dockopt cannot read (curl
// "$URL") may be one.
func fetchedURL(c analyzer.Command) (url string, known bool) {
	dynamic := false
	for _, a := range c.Args {
		if i := strings.Index(a.Value, "://"); i >= 0 {
			v := a.Value[max(strings.LastIndexAny(a.Value[:i], `"'=`)+1, 0):]
			return strings.Trim(v, `"'`), true
		}
		dynamic = dynamic || a.Dynamic
	}
	return "", !dynamic
}
