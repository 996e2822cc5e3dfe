package rules

import (
	"fmt"
	"path"
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
	var cp *analyzer.Instruction
	for _, in := range final.LineageInstructions() {
		if in.StartLine == line && in.Keyword == "COPY" {
			cp = in
		}
	}
	if cp == nil {
		return ""
	}
	from, ok := cp.Flag("from")
	c, isCopy := copyOf(cp)
	if !ok || !isCopy {
		return ""
	}
	src := d.StageByRef(from)
	if src == nil {
		return ""
	}
	base := src.Root().Base
	if base.Name() != "golang" || strings.Contains(base.Tag, "alpine") {
		// golang:alpine has no C compiler, and Go then builds without cgo.
		return ""
	}
	for _, in := range src.LineageInstructions() {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		for _, g := range in.Script.CommandsNamed("go") {
			out := goOutput(in, g)
			if out == "" || !slicesContainsPath(c.sources, out) || cgoOff(in, g) {
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

// slicesContainsPath reports a COPY source naming p.
func slicesContainsPath(sources []string, p string) bool {
	for _, s := range sources {
		if path.Clean("/"+s) == p {
			return true
		}
	}
	return false
}

// cgoOff reports a go command run with CGO_ENABLED=0: in front of it, by
// an export before it in the RUN, or by the stage's ENV.
func cgoOff(in *analyzer.Instruction, g analyzer.Command) bool {
	zero := func(w *syntax.Word) bool {
		v, ok := analyzer.Literal(w)
		return ok && v == "0"
	}
	for _, a := range g.Call.Assigns {
		if a.Name != nil && a.Name.Value == "CGO_ENABLED" {
			return zero(a.Value)
		}
	}
	for _, w := range g.Prefix {
		if k, v, ok := strings.Cut(w.Value, "="); ok && k == "CGO_ENABLED" {
			return v == "0"
		}
	}
	off, found := false, false
	syntax.Walk(in.Script.File, func(n syntax.Node) bool {
		decl, ok := n.(*syntax.DeclClause)
		if !ok || decl.Variant == nil || decl.Variant.Value != "export" || in.Script.Pos(decl.Pos()) > g.Start {
			return true
		}
		for _, a := range decl.Args {
			if a.Name != nil && a.Name.Value == "CGO_ENABLED" {
				off, found = zero(a.Value), true
			}
		}
		return true
	})
	if found {
		return off
	}
	v, _ := in.EnvBefore("CGO_ENABLED")
	return v == "0"
}
