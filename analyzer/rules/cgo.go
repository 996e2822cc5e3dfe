package rules

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// cgoBinaryWithoutLibc says why a program the final stage copies from a
// Go build stage cannot start there, "" when nothing says so: the stage
// built it with cgo on (a golang image that has gcc, and no CGO_ENABLED=0
// for the go command that wrote it), so it links the C library, and the
// final image has none (scratch, distroless static). A Go program that
// uses the network is dynamically linked under cgo; `CGO_ENABLED=0 go
// build … && go install …` sets the variable for the first command only.
// line is where the final stage copies the program.
func cgoBinaryWithoutLibc(d *analyzer.Dockerfile, final *analyzer.Stage, line int, program string) string {
	if !withoutLibc(final.Root().Base) {
		return ""
	}
	var c copySpec
	for _, in := range final.LineageInstructions() {
		if cs, ok := copyOf(in); ok && in.StartLine == line && in.Keyword == "COPY" {
			c = cs
		}
	}
	src := d.StageByRef(c.from)
	if c.from == "" || src == nil {
		return ""
	}
	base := src.Root().Base
	if base.Name() != "golang" || strings.Contains(base.Tag, "alpine") {
		// golang:alpine has no C compiler, and Go then builds without cgo.
		return ""
	}
	envOff := false // go env -w CGO_ENABLED=0 in an earlier RUN
	for _, in := range src.LineageInstructions() {
		if in.Keyword == "ARG" && strings.Contains(in.Text(d.Source), "CGO_ENABLED") {
			// A build argument may turn cgo off; dockopt does not know the value.
			return ""
		}
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		var exports []cgoExport // read once per RUN, when a go command needs them
		for _, g := range in.Script.CommandsNamed("go") {
			if g.Subcommand() == "env" && g.Has("-w") && slices.ContainsFunc(g.Args, func(a analyzer.Word) bool { return a.Value == "CGO_ENABLED=0" }) {
				envOff = true
				continue
			}
			out := goOutput(in, g)
			if out == "" || !namesPath(c.sources, out) || envOff || staticFlags(g) {
				continue
			}
			if exports == nil {
				exports = cgoExports(in.Script)
			}
			if cgoOff(in, g, exports) {
				continue
			}
			return fmt.Sprintf("%s is built on line %d with cgo on (%s has gcc, and that go command is not given CGO_ENABLED=0), so it needs the C library, which %s does not have",
				path.Base(program), in.StartLine, base.Raw, final.Root().Base.Raw)
		}
	}
	return ""
}

// withoutLibc reports base images that have no C library.
func withoutLibc(r analyzer.ImageRef) bool {
	return r.IsScratch() || strings.Contains(r.Repository, "distroless/static") || r.Repository == "chainguard/static"
}

// goOutput returns the path a go build -o or go install writes, "" when
// it is not known: go install puts a command in /go/bin (the golang
// image's GOPATH) under the last element of its package path.
func goOutput(in *analyzer.Instruction, g analyzer.Command) string {
	switch g.Subcommand() {
	case "build":
		for i, a := range g.Args {
			if a.Value == "-o" && i+1 < len(g.Args) && !g.Args[i+1].Dynamic {
				return analyzer.ResolvePath(in.WorkdirBefore(), g.Args[i+1].Value)
			}
		}
	case "install":
		if _, set := in.EnvBefore("GOBIN"); set {
			return ""
		}
		pos := g.Positional()
		if len(pos) < 2 || pos[1].Dynamic {
			return ""
		}
		pkg, _, _ := strings.Cut(pos[1].Value, "@")
		return "/go/bin/" + path.Base(pkg)
	}
	return ""
}

// namesPath reports a COPY source naming the absolute path p.
func namesPath(sources []string, p string) bool {
	for _, s := range sources {
		if path.Clean("/"+s) == p {
			return true
		}
	}
	return false
}

// staticFlags reports go build flags that link statically whatever cgo
// says: the netgo and osusergo tags, or -static for the external linker.
func staticFlags(g analyzer.Command) bool {
	for _, a := range g.Args {
		if strings.Contains(a.Value, "netgo") || strings.Contains(a.Value, "-static") {
			return true
		}
	}
	return false
}

// cgoExport is an `export CGO_ENABLED=…` of a RUN: where, and whether it
// turns cgo off.
type cgoExport struct {
	at  int
	off bool
}

// cgoExports reads a RUN's exports of CGO_ENABLED in one walk, in order
// (one walk per go command made a RUN of thousands quadratic).
func cgoExports(s *analyzer.Script) []cgoExport {
	out := []cgoExport{}
	syntax.Walk(s.File, func(n syntax.Node) bool {
		decl, ok := n.(*syntax.DeclClause)
		if !ok || decl.Variant == nil || decl.Variant.Value != "export" {
			return true
		}
		for _, a := range decl.Args {
			if a.Name != nil && a.Name.Value == "CGO_ENABLED" {
				v, lit := analyzer.Literal(a.Value)
				out = append(out, cgoExport{at: s.Pos(decl.Pos()), off: lit && v == "0"})
			}
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// cgoOff reports a go command run with CGO_ENABLED=0: in front of it, by
// an export before it in the RUN (exports, from cgoExports), or by the
// stage's ENV.
func cgoOff(in *analyzer.Instruction, g analyzer.Command, exports []cgoExport) bool {
	for _, a := range g.Call.Assigns {
		if a.Name != nil && a.Name.Value == "CGO_ENABLED" {
			v, lit := analyzer.Literal(a.Value)
			return lit && v == "0"
		}
	}
	for _, w := range g.Prefix {
		if k, v, ok := strings.Cut(w.Value, "="); ok && k == "CGO_ENABLED" {
			return v == "0"
		}
	}
	i := sort.Search(len(exports), func(i int) bool { return exports[i].at > g.Start })
	if i > 0 {
		return exports[i-1].off
	}
	v, _ := in.EnvBefore("CGO_ENABLED")
	return v == "0"
}
