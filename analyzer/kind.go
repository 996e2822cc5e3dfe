package analyzer

import (
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Kinds of Dockerfile dockopt recognises; the report and the structural
// rewrites are chosen by kind.
const (
	KindStaticSite    = "static-site"
	KindNodeService   = "node-service"
	KindPythonService = "python-service"
	KindGoService     = "go-service"
	KindJavaService   = "java-service"
	KindRubyService   = "ruby-service"
	KindPHPService    = "php-service"
	KindRustService   = "rust-service"
	KindDotnetService = "dotnet-service"
	KindWindows       = "windows"
	KindGeneric       = "generic"
)

var staticServers = map[string]bool{"serve": true, "http-server": true, "live-server": true, "lite-server": true}

// DetectKind classifies a Dockerfile from its stages, its start command and
// its build context, and names the ecosystem it builds.
func DetectKind(d *Dockerfile, bc *BuildContext) (kind, ecosystem string) {
	final := d.FinalStage()
	if final == nil {
		return KindGeneric, ""
	}
	if final.Windows {
		return KindWindows, firstEcosystem(bc)
	}
	eco := ""
	for _, s := range d.Stages {
		if e := imageEcosystem(s.Root().Base); e != "" && eco == "" {
			eco = e
		}
	}
	if eco == "" {
		eco = firstEcosystem(bc)
	}
	finalImg := final.Root().Base
	cmd := StartCommand(d)
	if isWebServerImage(finalImg) || (eco == "node" && servesStatic(cmd, packageOf(bc))) {
		return KindStaticSite, orDefault(eco, "static")
	}
	if eco == "node" && bc != nil && bc.Package != nil && isStaticFramework(bc.Package) && len(d.Stages) == 1 && servesStatic(cmd, bc.Package) {
		return KindStaticSite, eco
	}
	switch eco {
	case "node":
		if RunsOtherThanNode(d, bc) != "" {
			// The image runs another program (mkdocs serve on a node
			// image): not a Node service, whatever package.json says.
			return KindGeneric, eco
		}
		return KindNodeService, eco
	case "python":
		return KindPythonService, eco
	case "go":
		return KindGoService, eco
	case "java":
		return KindJavaService, eco
	case "ruby":
		return KindRubyService, eco
	case "php":
		return KindPHPService, eco
	case "rust":
		return KindRustService, eco
	case "dotnet":
		return KindDotnetService, eco
	}
	return KindGeneric, eco
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstEcosystem(bc *BuildContext) string {
	if bc == nil || len(bc.Ecosystems) == 0 {
		return ""
	}
	return bc.Ecosystems[0]
}

// imageEcosystem names the language an official image is for.
func imageEcosystem(r ImageRef) string {
	name := r.Name()
	switch {
	case name == "node" || strings.HasPrefix(name, "node-") || name == "bun":
		return "node"
	case name == "python" || strings.HasPrefix(name, "python-") || name == "pypy":
		return "python"
	case name == "golang" || name == "go":
		return "go"
	case name == "openjdk" || name == "eclipse-temurin" || name == "amazoncorretto" || name == "maven" || name == "gradle" || strings.Contains(name, "java") || name == "tomcat":
		return "java"
	case name == "ruby":
		return "ruby"
	case name == "php" || name == "composer":
		return "php"
	case name == "rust":
		return "rust"
	case strings.Contains(r.Repository, "dotnet"):
		return "dotnet"
	}
	return ""
}

func isWebServerImage(r ImageRef) bool {
	name := r.Name()
	return name == "nginx" || name == "nginx-unprivileged" || name == "httpd" || name == "caddy" || strings.HasSuffix(name, "-nginx")
}

func isStaticFramework(p *PackageJSON) bool {
	for _, dep := range []string{"vite", "react-scripts", "@angular/cli", "@vue/cli-service", "gatsby", "@11ty/eleventy", "astro", "parcel", "webpack"} {
		if p.HasDependency(dep) {
			return true
		}
	}
	return false
}

func servesStatic(cmd []string, pkg *PackageJSON) bool {
	return servesStaticScript(cmd, pkg, 0)
}

// maxScriptDepth bounds package.json scripts that run one another.
const maxScriptDepth = 3

func servesStaticScript(cmd []string, pkg *PackageJSON, depth int) bool {
	cmd = splitSeparators(cmd)
	for i := 0; i < len(cmd); i++ {
		if r, ok := scriptRun(cmd, i); ok {
			// A script's name is not a program (npm run serve may run
			// tsx): what it runs is in package.json, and unknown without
			// it. yarn, pnpm and bun run the program of that name when no
			// script has it.
			script, found := "", false
			if pkg != nil {
				script, found = pkg.Scripts[r.name]
			}
			switch {
			case found && depth < maxScriptDepth && servesStaticScript(strings.Fields(script), pkg, depth+1):
				return true
			case !found && r.mayRunProgram && staticServerAt(cmd, r.at):
				return true
			}
			i = r.at
			continue
		}
		if commandPosition(cmd, i) && staticServerAt(cmd, i) {
			return true
		}
	}
	return false
}

// staticServerAt reports a static server, or a framework's command that
// serves the site, run as cmd[i].
func staticServerAt(cmd []string, i int) bool {
	base := path.Base(cmd[i])
	if subs, ok := frameworkServers[base]; ok {
		return i+1 < len(cmd) && slices.Contains(subs, cmd[i+1])
	}
	return staticServers[base]
}

// splitSeparators splits a shell separator off the word it is glued to
// (cd build; serve).
func splitSeparators(cmd []string) []string {
	if !slices.ContainsFunc(cmd, func(w string) bool { return len(w) > 1 && strings.HasSuffix(w, ";") }) {
		return cmd
	}
	var out []string
	for _, w := range cmd {
		if len(w) > 1 && strings.HasSuffix(w, ";") {
			out = append(out, strings.TrimSuffix(w, ";"), ";")
			continue
		}
		out = append(out, w)
	}
	return out
}

// frameworkServers are front-end framework commands whose subcommands
// serve the site (vite preview, docusaurus serve), or run its dev server,
// a static site in disguise (vite serve, ng serve).
var frameworkServers = map[string][]string{
	"vite":            {"preview", "serve"},
	"docusaurus":      {"serve"},
	"gatsby":          {"serve"},
	"astro":           {"preview"},
	"ng":              {"serve"},
	"vue-cli-service": {"serve"},
}

// scriptCall is a package manager running a package.json script: its
// name at cmd[at]; mayRunProgram when, without such a script, the package
// manager runs the program of that name instead (yarn NAME, pnpm NAME).
type scriptCall struct {
	name          string
	at            int
	mayRunProgram bool
}

// packageManagerValueFlags take a value as the next word.
var packageManagerValueFlags = map[string]bool{
	"--cwd": true, "--prefix": true, "--dir": true, "-C": true, "--filter": true, "-F": true, "--workspace": true, "-w": true,
}

// scriptRun reports a package manager at cmd[i] running a package.json
// script (npm run NAME, npm start, yarn NAME, pnpm run NAME …).
func scriptRun(cmd []string, i int) (scriptCall, bool) {
	pm := path.Base(cmd[i])
	if pm != "npm" && pm != "yarn" && pm != "pnpm" && pm != "bun" {
		return scriptCall{}, false
	}
	skipFlags := func(j int) int {
		for j < len(cmd) && strings.HasPrefix(cmd[j], "-") {
			if packageManagerValueFlags[cmd[j]] {
				j++
			}
			j++
		}
		return j
	}
	j := skipFlags(i + 1)
	if j >= len(cmd) {
		return scriptCall{}, false
	}
	switch w := cmd[j]; {
	case w == "run" || w == "run-script":
		if j = skipFlags(j + 1); j >= len(cmd) {
			return scriptCall{}, false
		}
		return scriptCall{name: cmd[j], at: j}, true
	case w == "start" || w == "test":
		return scriptCall{name: w, at: j}, true
	case pm != "npm" && !packageManagerCommands[w]:
		return scriptCall{name: w, at: j, mayRunProgram: true}, true
	}
	return scriptCall{}, false
}

// packageManagerCommands are yarn's, pnpm's and bun's own commands, which
// a script of that name does not shadow.
var packageManagerCommands = map[string]bool{
	"add": true, "install": true, "i": true, "remove": true, "rm": true, "exec": true, "dlx": true, "x": true,
	"node": true, "create": true, "why": true, "info": true, "list": true, "ls": true,
	"outdated": true, "upgrade": true, "update": true, "up": true, "link": true, "unlink": true, "pack": true,
	"publish": true, "config": true, "cache": true, "workspace": true, "workspaces": true, "init": true,
	"install-test": true, "audit": true, "licenses": true, "bin": true, "global": true, "set": true,
}

// commandPosition reports whether cmd[i] is a program the command runs,
// not an argument (hugo serve): the first word; one after a launcher
// (npx, exec, dlx, bun x, tini --, env), past its options; one after a
// shell separator or a variable assignment; or one after an entrypoint
// script (docker-entrypoint.sh), which runs its arguments.
func commandPosition(cmd []string, i int) bool {
	if i == 0 {
		return true
	}
	prev := cmd[i-1]
	if strings.HasSuffix(prev, ".sh") {
		return true
	}
	if name, _, assigns := strings.Cut(prev, "="); assigns && name != "" && !strings.ContainsAny(name, "-/.") {
		return true
	}
	j := i - 1
	for j > 0 && (strings.HasPrefix(cmd[j], "-") && cmd[j] != "--" || cmd[j-1] == "-p" || cmd[j-1] == "--package") {
		j--
	}
	switch path.Base(cmd[j]) {
	case "npx", "pnpx", "bunx", "exec", "dlx", "x", "--", "tini", "dumb-init", "env", "&&", "||", "|", ";":
		return true
	}
	return false
}

// StartCommand returns the words the final image runs: ENTRYPOINT then
// CMD, inherited through stages built on one another. Shell-form
// commands are split on white space, which is enough to recognise them.
func StartCommand(d *Dockerfile) []string {
	final := d.FinalStage()
	if final == nil {
		return nil
	}
	var entry, cmd []string
	shellEntry := false
	chain := []*Stage{}
	for s := final; s != nil && len(chain) < 100; s = s.BaseStage {
		chain = append([]*Stage{s}, chain...)
	}
	for _, s := range chain {
		for _, in := range s.Instructions {
			switch c := in.Command.(type) {
			case *instructions.EntrypointCommand:
				entry = shellWords(c.CmdLine, c.PrependShell)
				shellEntry = c.PrependShell
				cmd = nil
			case *instructions.CmdCommand:
				cmd = shellWords(c.CmdLine, c.PrependShell)
			}
		}
	}
	if shellEntry {
		// /bin/sh -c gets no arguments from CMD: a shell-form
		// ENTRYPOINT ignores it.
		return entry
	}
	return append(entry, cmd...)
}

func shellWords(line []string, shell bool) []string {
	if !shell {
		return line
	}
	return strings.Fields(strings.Join(line, " "))
}

func packageOf(bc *BuildContext) *PackageJSON {
	if bc == nil {
		return nil
	}
	return bc.Package
}
