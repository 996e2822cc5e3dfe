package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// goBuildValued are go build flags that take a separate value.
var goBuildValued = []string{"-C", "-p", "-tags", "-ldflags", "-gcflags", "-asmflags", "-mod", "-modfile", "-o",
	"-pkgdir", "-toolexec", "-overlay", "-pgo", "-buildmode", "-compiler", "-installsuffix", "-coverpkg",
	"-covermode", "-exec", "-gccgoflags", "-buildvcs"}

// GoInstallPinVersions mirrors hadolint DL3062.
var GoInstallPinVersions = &analyzer.Rule{
	ID:       "go-install-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "go install, go get or go run of a remote package without a fixed version",
	Rationale: `go install example.com/tool@latest (or with no version outside a module) fetches whatever ` +
		`was published last, so the same Dockerfile builds a different tool next week and may break. Name a ` +
		`version (@v1.2.3). Unlike hadolint, dockopt does not report go install or go run of a package ` +
		`without a version when the build context has a go.mod, because the go command then takes its ` +
		`version from it (go get still moves to the newest one), nor local and standard-library packages: a ` +
		`path whose first element has no dot, such as foobar, has no version to pin.`,
	Bad:         "FROM golang:1.22\nRUN go install golang.org/x/tools/cmd/goimports@latest\n",
	Good:        "FROM golang:1.22\nRUN go install golang.org/x/tools/cmd/goimports@v0.24.0\n",
	Equivalents: []string{"hadolint:DL3062"},
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		hasGoMod := p.Context != nil && p.Context.Has("go.mod")
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("go") {
				pos := c.Positional(goBuildValued...)
				if len(pos) < 2 {
					continue
				}
				pkgs := pos[1:]
				switch pos[0].Value {
				case "install", "get":
				case "run":
					pkgs = pkgs[:1]
				default:
					continue
				}
				for _, w := range pkgs {
					if w.Dynamic {
						continue
					}
					path, version, versioned := strings.Cut(w.Value, "@")
					if !remoteGoPackage(path) {
						continue
					}
					switch {
					case versioned && floatingGoVersion(version):
						p.Reportf(in, "go %s %s follows a moving version; pin an exact one (@v1.2.3)", pos[0].Value, w.Value)
					case !versioned && (!hasGoMod || pos[0].Value == "get"):
						p.Reportf(in, "go %s %s has no version; add @ and an exact version", pos[0].Value, w.Value)
					}
				}
			}
		}
	},
}

// remoteGoPackage reports import paths that name a module on the network:
// the first element has a dot (example.com/x). Local paths, patterns such
// as ./... and standard-library packages do not.
func remoteGoPackage(p string) bool {
	if p == "" || strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, ".go") {
		return false
	}
	first, _, _ := strings.Cut(p, "/")
	return strings.Contains(first, ".")
}

// floatingGoVersion reports version queries that resolve to whatever is
// newest when the build runs.
func floatingGoVersion(v string) bool {
	switch v {
	case "latest", "upgrade", "patch", "master", "main", "HEAD":
		return true
	}
	return false
}
