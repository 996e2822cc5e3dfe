package analyzer

import (
	"path"
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

var staticServers = map[string]bool{"serve": true, "http-server": true, "live-server": true, "lite-server": true, "vite": true, "next": false}

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
	if isWebServerImage(finalImg) || (eco == "node" && servesStatic(cmd)) {
		return KindStaticSite, orDefault(eco, "static")
	}
	if eco == "node" && bc != nil && bc.Package != nil && isStaticFramework(bc.Package) && len(d.Stages) == 1 && servesStatic(cmd) {
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

func servesStatic(cmd []string) bool {
	for i, w := range cmd {
		base := path.Base(w)
		if staticServers[base] {
			if base == "vite" && (i+1 >= len(cmd) || cmd[i+1] != "preview") {
				continue
			}
			return true
		}
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
