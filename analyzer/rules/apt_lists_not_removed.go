package rules

import (
	"fmt"
	"github.com/dockopt/dockopt/analyzer"
	"sort"
)

// AptListsNotRemoved mirrors hadolint DL3009.
var AptListsNotRemoved = &analyzer.Rule{
	ID:       "apt-lists-not-removed",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "apt-get update without removing /var/lib/apt/lists",
	Rationale: `apt-get update downloads the package lists of every configured repository into /var/lib/apt/lists, ` +
		`often 20 to 40 MB. If the same RUN does not delete them, they are frozen into the layer: a later RUN ` +
		`cannot take the space back, and the lists are stale anyway by the time the image runs. Only stages that ` +
		`end up in the final image are checked (the final stage and the stages it is built on), and a RUN that ` +
		`mounts a cache or tmpfs over /var/lib/apt is left alone: there is nothing in the layer to remove. No fix ` +
		`is offered where a later RUN reads the lists without updating them first (an install, an upgrade, ` +
		`apt-cache policy, aptitude): removing them would change what it does.`,
	Bad:         "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	Good:        "RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
	Equivalents: []string{"hadolint:DL3009"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		shipped := shippedStages(p.File)
		removals := &laterRemovals{dir: "/var/lib/apt/lists"}
		for in := range p.File.Each("RUN") {
			if in.Script == nil || (in.Onbuild == nil && !shipped[in.Stage]) {
				continue
			}
			if !updatesAptLists(in.Script) || removesPath(in.Script, "/var/lib/apt/lists") ||
				mountHolds(in, "/var/lib/apt/lists") {
				continue
			}
			const msg = "apt-get update leaves the package lists in the layer; remove /var/lib/apt/lists/* in the same RUN"
			if later, what := installsFromListsLater(p.File, in); later != nil {
				if what == "" {
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: line %d installs packages without apt-get update, from these lists", msg, later.StartLine), analyzer.PreconditionLater)
				} else {
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: line %d reads these lists (%s) without apt-get update, and would read none", msg, later.StartLine, what), analyzer.PreconditionLater)
				}
				continue
			}
			if later := removals.laterRemoval(in); later != nil {
				// cleanup-in-later-layer proposes moving that removal
				// here where it can, which also deletes the RUN left with
				// nothing to do.
				p.ReportWithheld(in, fmt.Sprintf("%s; no fix here: line %d removes them in a later layer, where they still take space; move that removal into this RUN (cleanup-in-later-layer proposes it where it can)", msg, later.StartLine), analyzer.PreconditionLater)
				continue
			}
			if !usesAptLists(in.Script) {
				// Removing the lists would undo the RUN's only work.
				p.ReportWithheld(in, "this RUN updates the apt package lists, which stay in the layer, and nothing installs from them; drop the apt-get update (no fix: removing the lists right after updating them would only undo the update)", analyzer.PreconditionUnknown)
				continue
			}
			var fix *analyzer.Fix
			if e, ok := appendToChain(in, aptElevation(in.Script)+"rm -rf /var/lib/apt/lists/*"); ok {
				fix = &analyzer.Fix{Message: "remove the apt lists in the same RUN", Edits: []analyzer.TextEdit{e}}
			}
			p.Report(in, msg, fix)
		}
	},
}

func updatesAptLists(s *analyzer.Script) bool {
	for _, c := range s.CommandsNamed("apt-get", "apt") {
		if c.Subcommand(aptGetValued...) == "update" {
			return true
		}
	}
	return false
}

// laterRemovals answers laterRemoval for the RUNs of a Check, reading
// each stage's RUNs once: per RUN, it made a stage of thousands of apt
// RUNs quadratic.
type laterRemovals struct {
	dir string
	// removers are, per stage, its RUNs that remove dir, in order.
	removers map[*analyzer.Stage][]*analyzer.Instruction
}

// laterRemoval returns the first later RUN of in's stage that removes
// the folder, nil when there is none.
func (x *laterRemovals) laterRemoval(in *analyzer.Instruction) *analyzer.Instruction {
	if in.Stage == nil || in.Onbuild != nil {
		return nil
	}
	if x.removers == nil {
		x.removers = map[*analyzer.Stage][]*analyzer.Instruction{}
	}
	rs, ok := x.removers[in.Stage]
	if !ok {
		for _, r := range in.Stage.Instructions {
			if r.Keyword == "RUN" && r.Script != nil && removesPath(r.Script, x.dir) {
				rs = append(rs, r)
			}
		}
		x.removers[in.Stage] = rs
	}
	if i := sort.Search(len(rs), func(i int) bool { return rs[i].Index > in.Index }); i < len(rs) {
		return rs[i]
	}
	return nil
}

// aptElevation is the sudo the script's apt commands run under, if any.
func aptElevation(s *analyzer.Script) string {
	for _, c := range s.CommandsNamed("apt-get", "apt") {
		if e := elevation(c); e != "" {
			return e
		}
	}
	return ""
}

// usesAptLists reports a script that installs or upgrades with apt after
// its update, which is what the lists are for.
func usesAptLists(s *analyzer.Script) bool {
	for _, c := range s.CommandsNamed("apt-get", "apt") {
		switch c.Subcommand(aptGetValued...) {
		case "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source", "reinstall", "satisfy":
			return true
		}
	}
	return false
}

// shippedStages are the stages whose layers end up in the final image: the
// last stage and every stage it is built FROM.
func shippedStages(d *analyzer.Dockerfile) map[*analyzer.Stage]bool {
	out := map[*analyzer.Stage]bool{}
	s := d.FinalStage()
	for i := 0; s != nil && i < 1000; i++ {
		out[s] = true
		s = s.BaseStage
	}
	return out
}

// installsFromListsLater returns a later RUN, in the stage or a stage built
// FROM it, that reads the lists before any RUN updates them again: it
// installs with apt (what is ""), or upgrades, or asks apt-cache or
// aptitude (what names the command: "apt-cache policy"). It relies on the
// lists this RUN leaves, which removing them would break or change.
func installsFromListsLater(d *analyzer.Dockerfile, in *analyzer.Instruction) (*analyzer.Instruction, string) {
	if in.Stage == nil || in.Onbuild != nil {
		return nil, ""
	}
	// firstUse is the first RUN of instructions that uses the lists, what
	// reads them, and whether a RUN updates them before any does.
	firstUse := func(ins []*analyzer.Instruction) (*analyzer.Instruction, string, bool) {
		for _, later := range ins {
			if later.Keyword != "RUN" || later.Script == nil || later.Onbuild != nil {
				continue
			}
			for _, c := range later.Script.CommandsNamed("apt-get", "apt", "apt-cache", "aptitude") {
				if c.Name == "apt-cache" {
					return later, "apt-cache " + c.Subcommand(), false
				}
				switch sub := c.Subcommand(aptGetValued...); {
				case sub == "update":
					return nil, "", true
				case (sub == "install" || sub == "build-dep" || sub == "source" || sub == "download") && !installsNothing(c):
					if c.Name == "aptitude" {
						return later, "aptitude " + sub, false
					}
					return later, "", false
				case aptListReaders[sub]:
					return later, c.Name + " " + sub, false
				}
			}
		}
		return nil, "", false
	}
	// The instructions after in, found by search: copying them out for
	// every RUN made a stage of thousands of apt RUNs quadratic.
	ins := in.Stage.Instructions
	after := ins[sort.Search(len(ins), func(i int) bool { return ins[i].StartLine > in.EndLine }):]
	if use, what, updated := firstUse(after); use != nil || updated {
		return use, what
	}
	for _, s := range d.Stages {
		if s != in.Stage && builtFrom(s, in.Stage) {
			if use, what, _ := firstUse(s.Instructions); use != nil {
				return use, what
			}
		}
	}
	return nil, ""
}

// aptListReaders are the apt-get, apt and aptitude subcommands other than
// the installs that read the package lists: without them an upgrade
// finds nothing to upgrade, and a search or show finds nothing.
var aptListReaders = map[string]bool{
	"upgrade": true, "dist-upgrade": true, "full-upgrade": true, "safe-upgrade": true, "reinstall": true,
	"satisfy": true, "changelog": true, "search": true, "show": true, "showsrc": true, "policy": true,
	"list": true, "depends": true, "rdepends": true, "madison": true,
}
