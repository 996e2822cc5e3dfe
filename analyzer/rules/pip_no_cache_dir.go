package rules

import (
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// pipInstallWord returns the `install` word of `pip install` or
// `python -m pip install`.
func pipInstallWord(c analyzer.Command) (analyzer.Word, bool) {
	pm, pc := analyzer.PackageManagerOf(c)
	if pm != analyzer.Pip || !pm.InstallsDependencies(pc) {
		return analyzer.Word{}, false
	}
	return subcommandWord(pc, pm.Valued...)
}

var truthyValues = map[string]bool{"1": true, "true": true, "on": true, "yes": true}

// PipNoCacheDir mirrors hadolint DL3042.
var PipNoCacheDir = &analyzer.Rule{
	ID:       "pip-no-cache-dir",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "pip install without --no-cache-dir",
	Rationale: `pip keeps every wheel it downloads or builds in ~/.cache/pip so that the next install on the ` +
		`same machine is faster. In an image layer there is no next install: the cache only adds its size, ` +
		`often tens of megabytes, to the image. Pass --no-cache-dir, set PIP_NO_CACHE_DIR=1 (ENV, a prefix, or an ` +
		`earlier export in the RUN), or mount a BuildKit cache on ~/.cache/pip to keep the speed without ` +
		`shipping the cache. Unlike hadolint, dockopt does not ` +
		`report stages that do not ship in the final image.`,
	Bad:         "FROM python:3.12-slim\nRUN pip install -r requirements.txt\n",
	Good:        "FROM python:3.12-slim\nRUN pip install --no-cache-dir -r requirements.txt\n",
	Equivalents: []string{"hadolint:DL3042"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		disabled := newChainFirst(func(in *analyzer.Instruction) bool { return setsPipNoCacheDir(p.File, in) })
		for in := range p.File.Each("RUN") {
			s := stageOf(in)
			if in.Script == nil || !shipsInFinalImage(p.File, s) || s != nil && disabled.before(in) ||
				mountTouches(in, "/root/.cache/pip", "/root/.cache") || hasCacheMountSuffix(in, "/.cache/pip") {
				continue
			}
			var exports *scriptExports
			for _, c := range in.Script.Commands() {
				w, ok := pipInstallWord(c)
				if ok && exports == nil {
					exports = exportsOf(in.Script, "PIP_NO_CACHE_DIR")
				}
				if !ok || c.HasPrefixArg("--no-cache-dir") || inlineEnvTruthy(c, "PIP_NO_CACHE_DIR") ||
					exports.truthyBefore(c.Start) {
					continue
				}
				fix := insertAfterWord(in.Script, w, " --no-cache-dir", "add --no-cache-dir")
				p.Report(in, "pip install keeps its download cache in the layer; add --no-cache-dir", fix)
			}
		}
	},
}

func hasCacheMountSuffix(in *analyzer.Instruction, suffix string) bool {
	for _, t := range layerlessMountTargets(in) {
		if strings.HasSuffix(t, suffix) {
			return true
		}
	}
	return false
}

// setsPipNoCacheDir reports an ENV or ARG that sets PIP_NO_CACHE_DIR to a
// true value; the check asks whether one comes earlier in the stage or in
// a stage it is built on.
func setsPipNoCacheDir(d *analyzer.Dockerfile, in *analyzer.Instruction) bool {
	var pairs []instructions.KeyValuePair
	switch c := in.Command.(type) {
	case *instructions.EnvCommand:
		pairs = c.Env
	case *instructions.ArgCommand:
		for _, a := range c.Args {
			if a.Value != nil {
				pairs = append(pairs, instructions.KeyValuePair{Key: a.Key, Value: *a.Value})
			}
		}
	}
	for _, kv := range pairs {
		if kv.Key == "PIP_NO_CACHE_DIR" {
			v, _ := dockerWord(d, kv.Value)
			if truthyValues[strings.ToLower(v)] {
				return true
			}
		}
	}
	return false
}

// truthy reports a literal shell word that turns an option on.
func truthy(w *syntax.Word) bool {
	v, ok := analyzer.Literal(w)
	return ok && truthyValues[strings.ToLower(v)]
}

// inlineEnvTruthy reports `NAME=1 cmd` or `env NAME=1 cmd`.
func inlineEnvTruthy(c analyzer.Command, name string) bool {
	for _, a := range c.Call.Assigns {
		if a.Name != nil && a.Name.Value == name && truthy(a.Value) {
			return true
		}
	}
	for _, w := range c.Prefix {
		k, v, ok := strings.Cut(w.Value, "=")
		if ok && k == name && truthyValues[strings.ToLower(v)] {
			return true
		}
	}
	return false
}

// scriptExports are the `export NAME=value` of a script for one name, by
// position, read once per script rather than once per command.
type scriptExports struct {
	list []scriptExport
}

type scriptExport struct {
	at     int
	truthy bool
}

func exportsOf(s *analyzer.Script, name string) *scriptExports {
	x := &scriptExports{}
	syntax.Walk(s.File, func(n syntax.Node) bool {
		d, ok := n.(*syntax.DeclClause)
		if !ok || d.Variant == nil || d.Variant.Value != "export" {
			return true
		}
		for _, a := range d.Args {
			if a.Name != nil && a.Name.Value == name {
				x.list = append(x.list, scriptExport{at: s.Pos(d.Pos()), truthy: truthy(a.Value)})
			}
		}
		return true
	})
	sort.SliceStable(x.list, func(i, j int) bool { return x.list[i].at < x.list[j].at })
	return x
}

// truthyBefore reports whether the last export before offset sets a true
// value, which the commands after it inherit.
func (x *scriptExports) truthyBefore(offset int) bool {
	i := sort.Search(len(x.list), func(i int) bool { return x.list[i].at >= offset })
	return i > 0 && x.list[i-1].truthy
}
