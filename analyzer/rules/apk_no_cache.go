package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ApkNoCache mirrors hadolint DL3019.
var ApkNoCache = &analyzer.Rule{
	ID:       "apk-no-cache",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "apk add without --no-cache",
	Rationale: `apk keeps the package index it downloads in /var/cache/apk, and that index is frozen into the layer ` +
		`although the running container never needs it. --no-cache fetches a fresh index, uses it and leaves ` +
		`nothing behind, which also makes a separate "apk update" unnecessary. A RUN that mounts a cache at ` +
		`/var/cache/apk, or removes /var/cache/apk itself, is not reported.`,
	Bad:         "RUN apk add curl\n",
	Good:        "RUN apk add --no-cache curl\n",
	Equivalents: []string{"hadolint:DL3019", "trivy:DS025"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		readers := &apkIndexReaders{}
		for in := range p.File.Each("RUN") {
			if in.Script == nil || mountHolds(in, "/var/cache/apk", "/etc/apk/cache") || removesPath(in.Script, "/var/cache/apk") {
				continue
			}
			apks := in.Script.CommandsNamed("apk")
			for i, c := range apks {
				sub, ok := subcommandWord(c, apkValued...)
				if !ok || sub.Value != "add" || c.Has("--no-cache") {
					continue
				}
				fix := insertAfterWord(in.Script, sub, " --no-cache", "add --no-cache")
				if i > 0 && fix != nil && !readers.readsLater(in, apks, i) {
					if del, ok := chainedUpdate(p.File, apks[i-1], c); ok {
						// --no-cache fetches the index itself; the update's
						// copy would stay in the layer.
						fix.Edits = append([]analyzer.TextEdit{del}, fix.Edits...)
						fix.Message += " and drop the apk update before it, whose index would stay in the layer"
					}
				}
				if later := laterApkCacheRemoval(in); fix != nil && later != nil {
					// With --no-cache there is nothing left for that RUN to
					// remove; kept, it would read as if there were.
					fix.Edits = append(fix.Edits, deleteInstruction(p.File, later))
					fix.Message += fmt.Sprintf(" and drop the RUN on line %d, which then removes nothing", later.StartLine)
				}
				p.Report(in, "apk add leaves its package index in the layer; add --no-cache", fix)
			}
		}
	},
}

// apkIndexReaders finds the apk commands that read the package index an
// apk update left: any but apk del and apk add --no-cache (upgrade, fetch,
// an add without it). Dropping the update would leave them without one.
type apkIndexReaders struct {
	// last is, per stage, the index of its last RUN with such a command
	// (-1: none), found once per stage.
	last map[*analyzer.Stage]int
}

// readsLater reports an index reader after the update that apks[at-1]
// runs: in the same RUN (other than apks[at], the add being fixed), or in
// a later RUN of the stage.
func (x *apkIndexReaders) readsLater(in *analyzer.Instruction, apks []analyzer.Command, at int) bool {
	for j, c := range apks {
		if j != at && j != at-1 && readsApkIndex(c) {
			return true
		}
	}
	if in.Stage == nil || in.Onbuild != nil {
		return in.Stage == nil
	}
	if x.last == nil {
		x.last = map[*analyzer.Stage]int{}
	}
	last, ok := x.last[in.Stage]
	if !ok {
		last = -1
		for _, r := range in.Stage.Instructions {
			if r.Keyword == "RUN" && r.Script != nil && slices.ContainsFunc(r.Script.CommandsNamed("apk"), readsApkIndex) {
				last = r.Index
			}
		}
		x.last[in.Stage] = last
	}
	return last > in.Index
}

func readsApkIndex(c analyzer.Command) bool {
	sub, ok := subcommandWord(c, apkValued...)
	if !ok {
		return false
	}
	return sub.Value != "del" && sub.Value != "update" && !(sub.Value == "add" && c.Has("--no-cache"))
}

// chainedUpdate returns the edit deleting a plain `apk update &&` right
// before add in the same chain: nothing but spaces, && and line
// continuations between them.
func chainedUpdate(d *analyzer.Dockerfile, update, add analyzer.Command) (analyzer.TextEdit, bool) {
	if len(update.Args) != 1 || update.Args[0].Value != "update" || len(update.Prefix) > 0 || update.End > add.Start || update.Start < 0 {
		return analyzer.TextEdit{}, false
	}
	between := strings.NewReplacer("&&", "", "\\\r\n", "", "\\\n", "", " ", "", "\t", "").Replace(string(d.Source[update.End:add.Start]))
	if between != "" {
		return analyzer.TextEdit{}, false
	}
	return analyzer.TextEdit{Start: update.Start, End: add.Start}, true
}

// apkValued are apk options that take the next word as their value.
var apkValued = []string{"-t", "--virtual", "-X", "--repository", "-p", "--root", "--repositories-file",
	"--keys-dir", "--cache-dir", "--arch"}

// laterApkCacheRemoval returns a later RUN of in's stage that does
// nothing but remove apk's cache (RUN rm -rf /var/cache/apk/*), when no
// RUN between them runs apk and it mounts nothing.
func laterApkCacheRemoval(in *analyzer.Instruction) *analyzer.Instruction {
	if in.Stage == nil || in.Onbuild != nil || earlierApkCacheWriter(in) {
		return nil
	}
	for _, x := range in.Stage.Instructions {
		if x.Index <= in.Index || x.Keyword != "RUN" {
			continue
		}
		if x.Script == nil || x.Onbuild != nil {
			return nil
		}
		if len(x.Script.CommandsNamed("apk")) > 0 {
			return nil
		}
		cmds := x.Script.Commands()
		if len(cmds) == 0 || len(x.Flags) > 0 || !x.Script.Exact() || x.Script.Heredoc || len(x.Comments) > 0 {
			// A comment over the cleanup explains something the
			// author may want kept.
			continue
		}
		onlyCache := true
		for _, c := range cmds {
			targets := c.Positional()
			if c.Name != "rm" || len(targets) == 0 {
				onlyCache = false
				break
			}
			for _, t := range targets {
				if t.Dynamic || !underApkCache(t.Value) {
					onlyCache = false
				}
			}
		}
		if onlyCache {
			return x
		}
	}
	return nil
}

func underApkCache(p string) bool {
	p = path.Clean(strings.TrimSuffix(p, "/*"))
	return p == "/var/cache/apk" || strings.HasPrefix(p, "/var/cache/apk/")
}

// earlierApkCacheWriter reports an apk command of in's stage lineage up to
// in that leaves files in /var/cache/apk: apk update or upgrade without
// --no-cache (in in too), or apk add without it in an earlier RUN (in's
// own gets --no-cache from the fix). A later removal still has those to
// remove.
func earlierApkCacheWriter(in *analyzer.Instruction) bool {
	for _, x := range in.Stage.LineageInstructions() {
		if x.Keyword != "RUN" || x.Script == nil || x.Stage == in.Stage && x.Index > in.Index {
			continue
		}
		if mountHolds(x, "/var/cache/apk", "/etc/apk/cache") {
			continue
		}
		for _, c := range x.Script.CommandsNamed("apk") {
			sub, ok := subcommandWord(c, apkValued...)
			if !ok || c.Has("--no-cache") {
				continue
			}
			if sub.Value == "update" || sub.Value == "upgrade" || sub.Value == "add" && x != in {
				return true
			}
		}
	}
	return false
}
