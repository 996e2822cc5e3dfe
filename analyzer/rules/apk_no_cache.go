package rules

import (
	"fmt"
	"path"
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
		`nothing behind, which also makes a separate "apk update" unnecessary: the fix drops an apk update ` +
		`chained right before the add, or a RUN apk update only that add reads. Where an apk update or upgrade ` +
		`that stays (another apk command reads its index) has already left the index in the layer or an ` +
		`earlier one, --no-cache alone would save nothing, and no fix is offered. A RUN that mounts a cache at ` +
		`/var/cache/apk, or removes /var/cache/apk itself, is not reported, nor an apk add --no-network, which ` +
		`fetches no index.`,
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
				if !ok || sub.Value != "add" || c.Has("--no-cache", "--no-network") {
					// --no-network fetches no index: the docker-library
					// idiom that records installed so: providers under a
					// virtual name leaves nothing behind.
					continue
				}
				const msg = "apk add leaves its package index in the layer; add --no-cache"
				fix := insertAfterWord(in.Script, sub, " --no-cache", "add --no-cache")
				dropped := false
				if i > 0 && fix != nil && !readers.readsLater(in, apks, i) {
					if del, ok := chainedUpdate(p.File, apks[i-1], c); ok {
						// --no-cache fetches the index itself; the update's
						// copy would stay in the layer.
						fix.Edits = append([]analyzer.TextEdit{del}, fix.Edits...)
						fix.Message += " and drop the apk update before it, whose index would stay in the layer"
						dropped = true
					}
				}
				var droppedRun *analyzer.Instruction
				if fix != nil && !dropped {
					// An index another apk command wrote, earlier in this
					// RUN or in an earlier layer, stays whatever this add
					// does: --no-cache alone would save nothing. A RUN apk
					// update whose index only this add reads goes with the
					// fix; otherwise no fix claims a saving it cannot make.
					w := apkIndexWriterBefore(p.File, in, apks, i, readers)
					switch {
					case w == nil:
					case w.in != in && droppableUpdate(p.File, w, in):
						droppedRun = w.in
						fix.Edits = append([]analyzer.TextEdit{deleteInstruction(p.File, w.in)}, fix.Edits...)
						fix.Message += fmt.Sprintf(" and drop the RUN apk update on line %d, whose index would stay in its layer", w.in.StartLine)
					default:
						p.ReportWithheld(in, fmt.Sprintf("%s; no fix: %s, so --no-cache here would save nothing", msg, w.describe(in)), analyzer.PreconditionTool)
						continue
					}
				}
				if later := laterApkCacheRemoval(in, droppedRun); fix != nil && later != nil {
					// With --no-cache there is nothing left for that RUN to
					// remove; kept, it would read as if there were.
					fix.Edits = append(fix.Edits, deleteInstruction(p.File, later))
					fix.Message += fmt.Sprintf(" and drop the RUN on line %d, which then removes nothing", later.StartLine)
				}
				p.Report(in, msg, fix)
			}
		}
	},
}

// apkIndexReaders finds the apk commands that read the package index an
// apk update left: any but apk del and apk add --no-cache (upgrade, fetch,
// an add without it). Dropping the update would leave them without one.
type apkIndexReaders struct{}

// readsLater reports an index reader after the update that apks[at-1]
// runs and before the next apk update (which leaves an index of its own):
// later in the same RUN (other than apks[at], the add being fixed), or in
// a later RUN of the stage.
func (x *apkIndexReaders) readsLater(in *analyzer.Instruction, apks []analyzer.Command, at int) bool {
	if r, decided := firstReader(apks[at+1:]); decided {
		return r
	}
	if in.Stage == nil || in.Onbuild != nil {
		return in.Stage == nil
	}
	for _, r := range in.Stage.Instructions {
		if r.Index <= in.Index || r.Keyword != "RUN" || r.Script == nil {
			continue
		}
		if reads, decided := firstReader(r.Script.CommandsNamed("apk")); decided {
			return reads
		}
	}
	return false
}

// firstReader walks apk commands in order: true at one that reads the
// index, false at an apk update, undecided past all of them.
func firstReader(apks []analyzer.Command) (reads, decided bool) {
	for _, c := range apks {
		if sub, ok := writesApkIndex(c); ok && sub == "update" {
			return false, true
		}
		if keepsIndexNeeded(c) {
			return true, true
		}
	}
	return false, false
}

// keepsIndexNeeded reports an apk command that reads the index an
// earlier update left, other than an apk add: an add without --no-cache
// gets it from this rule's fix, and fetches the index itself where there
// is none.
func keepsIndexNeeded(c analyzer.Command) bool {
	sub, ok := subcommandWord(c, apkValued...)
	return ok && sub.Value != "add" && readsApkIndex(c)
}

func readsApkIndex(c analyzer.Command) bool {
	sub, ok := subcommandWord(c, apkValued...)
	if !ok {
		return false
	}
	return sub.Value != "del" && sub.Value != "update" && !(sub.Value == "add" && c.Has("--no-cache"))
}

// chainedUpdate returns the edit deleting a plain `apk update &&` (or
// `apk update;`) right before add in the same chain: nothing but spaces,
// one && or ;, and line continuations between them.
func chainedUpdate(d *analyzer.Dockerfile, update, add analyzer.Command) (analyzer.TextEdit, bool) {
	if len(update.Args) != 1 || update.Args[0].Value != "update" || len(update.Prefix) > 0 || update.End > add.Start || update.Start < 0 {
		return analyzer.TextEdit{}, false
	}
	between := strings.NewReplacer("\\\r\n", "", "\\\n", "", " ", "", "\t", "").Replace(string(d.Source[update.End:add.Start]))
	if between != "&&" && between != ";" {
		return analyzer.TextEdit{}, false
	}
	return analyzer.TextEdit{Start: update.Start, End: add.Start}, true
}

// apkIndexWriter is an apk command that leaves the package index in
// /var/cache/apk: apk update, or apk upgrade without --no-cache.
type apkIndexWriter struct {
	in  *analyzer.Instruction
	cmd analyzer.Command
	sub string
	// reader is a later apk command that reads the index it leaves, for
	// the message ("" when none is known).
	reader string
}

// describe says where the writer leaves the index, as seen from the add
// in `in`.
func (w *apkIndexWriter) describe(in *analyzer.Instruction) string {
	where := "before it in this RUN leaves the index in the layer"
	if w.in != in {
		where = fmt.Sprintf("on line %d already left the index in an earlier layer", w.in.StartLine)
	}
	s := fmt.Sprintf("the apk %s %s", w.sub, where)
	if w.reader != "" {
		s += " (" + w.reader + " reads it)"
	}
	return s
}

// writesApkIndex reports apk update, or apk upgrade without --no-cache.
func writesApkIndex(c analyzer.Command) (string, bool) {
	sub, ok := subcommandWord(c, apkValued...)
	if !ok || c.Has("--no-cache") {
		return "", false
	}
	return sub.Value, sub.Value == "update" || sub.Value == "upgrade"
}

// apkIndexWriterBefore returns the last apk command that leaves the
// package index before apks[at] runs in `in`: earlier in the same RUN, or
// in an earlier RUN of the stage's lineage that neither mounts a cache
// over /var/cache/apk nor removes it. nil when the add would fetch the
// index itself. An update the fix of the add right after it drops (see
// Check) leaves nothing once the fixes are applied.
func apkIndexWriterBefore(d *analyzer.Dockerfile, in *analyzer.Instruction, apks []analyzer.Command, at int, readers *apkIndexReaders) *apkIndexWriter {
	for j := at - 1; j >= 0; j-- {
		if sub, ok := writesApkIndex(apks[j]); ok {
			w := &apkIndexWriter{in: in, cmd: apks[j], sub: sub}
			for k := at + 1; k < len(apks); k++ {
				if keepsIndexNeeded(apks[k]) {
					w.reader = "the " + apkWords(apks[k]) + " after it"
					break
				}
			}
			return w
		}
	}
	if in.Stage == nil || in.Onbuild != nil {
		return nil
	}
	var found *apkIndexWriter
	for _, x := range in.Stage.LineageInstructions() {
		if x == in {
			break
		}
		if x.Keyword != "RUN" || x.Script == nil || x.Onbuild != nil {
			continue
		}
		if mountHolds(x, "/var/cache/apk", "/etc/apk/cache") || removesPath(x.Script, "/var/cache/apk") {
			found = nil
			continue
		}
		xs := x.Script.CommandsNamed("apk")
		for k, c := range xs {
			// An upgrade after an update reads the index the update left
			// (it fetches one itself only where there is none).
			if sub, ok := writesApkIndex(c); ok && (sub == "update" || found == nil) && !droppedWithAdd(d, x, xs, k, readers) {
				found = &apkIndexWriter{in: x, cmd: c, sub: sub}
			} else if found != nil && found.reader == "" && keepsIndexNeeded(c) {
				found.reader = fmt.Sprintf("the %s on line %d", apkWords(c), x.StartLine)
			}
		}
	}
	if found != nil && found.reader == "" {
		for _, x := range in.Stage.Instructions {
			if x.Index <= in.Index || x.Keyword != "RUN" || x.Script == nil {
				continue
			}
			for _, c := range x.Script.CommandsNamed("apk") {
				if keepsIndexNeeded(c) && found.reader == "" {
					found.reader = fmt.Sprintf("the %s on line %d", apkWords(c), x.StartLine)
				}
			}
		}
	}
	return found
}

// droppedWithAdd reports the apk update xs[k] of RUN x that the fix of
// the apk add right after it drops: chained to it, with nothing after it
// reading its index.
func droppedWithAdd(d *analyzer.Dockerfile, x *analyzer.Instruction, xs []analyzer.Command, k int, readers *apkIndexReaders) bool {
	if k+1 >= len(xs) || !x.Script.Exact() || mountHolds(x, "/var/cache/apk", "/etc/apk/cache") || removesPath(x.Script, "/var/cache/apk") {
		return false
	}
	add := xs[k+1]
	if sub, ok := subcommandWord(add, apkValued...); !ok || sub.Value != "add" || add.Has("--no-cache") {
		return false
	}
	if _, ok := chainedUpdate(d, xs[k], add); !ok {
		return false
	}
	return !readers.readsLater(x, xs, k+1)
}

// apkWords names an apk command by its subcommand: "apk upgrade".
func apkWords(c analyzer.Command) string {
	if sub, ok := subcommandWord(c, apkValued...); ok {
		return "apk " + sub.Value
	}
	return "apk"
}

// droppableUpdate reports a RUN that does nothing but apk update, in the
// add's own stage, whose index nothing but that add reads: no other apk
// command of the stage after it reads the index, and no stage is built on
// this one (its apk commands could). Dropping it with the add's
// --no-cache leaves the build what it was, without the index.
func droppableUpdate(d *analyzer.Dockerfile, w *apkIndexWriter, add *analyzer.Instruction) bool {
	x := w.in
	if w.sub != "update" || w.reader != "" || x.Stage != add.Stage || len(x.Flags) > 0 || !x.Script.Exact() || x.Script.Heredoc || len(x.Comments) > 0 {
		return false
	}
	cmds := x.Script.Commands()
	if len(cmds) != 1 || len(cmds[0].Args) != 1 || len(cmds[0].Prefix) > 0 {
		return false
	}
	for _, s := range d.Stages {
		if s.BaseStage == add.Stage {
			return false
		}
	}
	for _, r := range add.Stage.Instructions {
		if r.Index <= x.Index || r.Keyword != "RUN" {
			continue
		}
		if r.Script == nil {
			return false
		}
		for _, c := range r.Script.CommandsNamed("apk") {
			if readsApkIndex(c) && r != add {
				return false
			}
		}
		if r == add && len(r.Script.CommandsNamed("apk")) != 1 {
			return false
		}
	}
	return true
}

// apkValued are apk options that take the next word as their value.
var apkValued = []string{"-t", "--virtual", "-X", "--repository", "-p", "--root", "--repositories-file",
	"--keys-dir", "--cache-dir", "--arch"}

// laterApkCacheRemoval returns a later RUN of in's stage that does
// nothing but remove apk's cache (RUN rm -rf /var/cache/apk/*), when no
// RUN between them runs apk and it mounts nothing.
func laterApkCacheRemoval(in, dropped *analyzer.Instruction) *analyzer.Instruction {
	if in.Stage == nil || in.Onbuild != nil || earlierApkCacheWriter(in, dropped) {
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
// remove. dropped is a RUN the fix deletes, which leaves nothing.
func earlierApkCacheWriter(in, dropped *analyzer.Instruction) bool {
	for _, x := range in.Stage.LineageInstructions() {
		if x.Keyword != "RUN" || x.Script == nil || x == dropped || x.Stage == in.Stage && x.Index > in.Index {
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
