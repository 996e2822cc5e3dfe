package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// CleanupInLaterLayer finds deletions that free nothing because the files
// live on in an earlier layer.
var CleanupInLaterLayer = &analyzer.Rule{
	ID:       "cleanup-in-later-layer",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "Files are deleted in a later layer than the one that created them",
	Rationale: `Every RUN, COPY and ADD is a layer, and a layer only adds to the ones before it: deleting ` +
		`apt lists, a pip or npm cache, a downloaded archive or copied test folders in a later RUN hides ` +
		`them from the running container but every byte is still pulled and stored with the image. The ` +
		`removal has to happen in the same RUN that created the files (or the files should never enter the ` +
		`image: a .dockerignore, a narrower COPY, a cache mount, or a build stage). Only the final image's ` +
		`stages are checked, since build stages do not ship.`,
	Bad:       "RUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
	Good:      "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		all := p.File.FinalStage().LineageInstructions()
		// Only the rm of a RUN looks back at what was created: the
		// instructions after the last one need no index.
		all = all[:lastRunning(all, "rm")+1]
		created := &createdIndex{}
		for idx, in := range all {
			if in.Keyword == "RUN" && in.Script != nil {
				checkLaterCleanup(p, all[:idx], created, in)
			}
			created.add(in)
		}
	},
}

// checkLaterCleanup reports the rm targets of a RUN that an earlier
// instruction of the final image created.
func checkLaterCleanup(p *analyzer.Pass, earlier []*analyzer.Instruction, created *createdIndex, in *analyzer.Instruction) {
	wd := in.WorkdirBefore()
	type hit struct {
		word    string
		creator *analyzer.Instruction
		what    string
		// also is an earlier layer that wrote there too.
		also *analyzer.Instruction
	}
	var hits []hit
	targets := 0
	for _, c := range in.Script.CommandsNamed("rm") {
		for _, a := range c.Positional() {
			targets++
			if a.Dynamic {
				continue
			}
			creator, what := created.creatorOf(analyzer.ResolvePath(wd, a.Value))
			if creator != nil {
				also := created.earlierWriter(analyzer.ResolvePath(wd, a.Value), creator)
				hits = append(hits, hit{a.Value, creator, what, also})
			}
		}
	}
	// The RUN can move only when everything it removes came from
	// the same RUN.
	var fix *analyzer.Fix
	if len(hits) == targets && len(hits) > 0 {
		same := true
		for _, h := range hits {
			// Deleting in one RUN cannot shrink what other layers hold.
			same = same && h.creator == hits[0].creator && h.also == nil
		}
		if same {
			fix = laterCleanupFix(p.File, earlier, hits[0].creator, in)
		}
	}
	for i, h := range hits {
		var f *analyzer.Fix
		if i == 0 {
			f = fix
		}
		msg := fmt.Sprintf("rm %s removes what %s wrote on line %d, but the bytes stay in that earlier layer and the image does not shrink: %s",
			h.word, h.what, h.creator.StartLine, advice(h.creator))
		if h.also != nil {
			keep := advice(h.creator)
			switch {
			case strings.HasPrefix(h.what, "apk "):
				keep = "apk add --no-cache needs no apk update and leaves no index behind"
			case h.creator.Keyword == "RUN" && h.also.Keyword == "RUN":
				keep = "keep them from being written there, or delete them in each RUN that writes them"
			}
			msg = fmt.Sprintf("rm %s removes what %s wrote on line %d and line %d wrote before it, but the bytes stay in those earlier layers and the image does not shrink: %s",
				h.word, h.what, h.creator.StartLine, h.also.StartLine, keep)
		}
		p.Report(in, msg, f)
	}
}

func advice(creator *analyzer.Instruction) string {
	if creator.Keyword == "RUN" {
		return "delete it in that RUN"
	}
	if c, ok := copyOf(creator); ok && c.from != "" {
		return "copy only what the image needs from " + c.from
	}
	return "keep it out of the image with .dockerignore or a narrower " + creator.Keyword
}

// createdPaths lists what an instruction writes that is worth removing,
// with a description for messages. RUN paths come from the commands that
// leave caches or downloads behind.
func createdPaths(in *analyzer.Instruction) (paths []string, what []string) {
	add := func(p, w string) { paths = append(paths, p); what = append(what, w) }
	if c, ok := copyOf(in); ok {
		add(analyzer.ResolvePath(in.WorkdirBefore(), c.dest), in.Keyword)
		return paths, what
	}
	if in.Keyword != "RUN" || in.Script == nil {
		return nil, nil
	}
	wd := in.WorkdirBefore()
	for _, c := range in.Script.Commands() {
		sub := c.Subcommand("-o", "-t", "-c")
		pm, pc := analyzer.PackageManagerOf(c)
		installs := pm != nil && pm.InstallsDependencies(pc)
		switch {
		case (c.Name == "apt-get" || c.Name == "apt") && sub == "update":
			add("/var/lib/apt/lists", "apt-get update")
		case (c.Name == "apt-get" || c.Name == "apt") && (sub == "install" || sub == "upgrade" || sub == "dist-upgrade"):
			add("/var/cache/apt", "apt-get "+sub)
		case c.Name == "apk" && (sub == "add" || sub == "update") && !c.Has("--no-cache"):
			add("/var/cache/apk", "apk "+sub)
		case pm == analyzer.Pip && installs && !c.Has("--no-cache-dir"):
			add(pm.Caches[0].Dir, "pip install")
		case pm == analyzer.Npm && installs:
			add(pm.Caches[0].Dir, "npm "+pm.Subcommand(pc))
		case pm == analyzer.Yarn && installs:
			add(pm.Caches[0].Dir, "yarn install")
		case c.Name == "curl" || c.Name == "wget":
			if out := downloadTarget(c); out != "" {
				add(analyzer.ResolvePath(wd, out), c.Name)
			}
		case c.Name == "git" && sub == "clone":
			pos := c.Positional("-b", "--branch", "--depth", "-c", "--config", "-o", "--origin")
			if len(pos) == 3 && !pos[2].Dynamic {
				add(analyzer.ResolvePath(wd, pos[2].Value), "git clone")
			} else if len(pos) == 2 && !pos[1].Dynamic {
				add(analyzer.ResolvePath(wd, strings.TrimSuffix(path.Base(pos[1].Value), ".git")), "git clone")
			}
		}
	}
	// A cache or tmpfs mount keeps its target out of the layer.
	kept := paths[:0]
	keptWhat := what[:0]
	for i, p := range paths {
		if !mountTouches(in, p) {
			kept = append(kept, p)
			keptWhat = append(keptWhat, what[i])
		}
	}
	return kept, keptWhat
}

// downloadTarget returns the file curl or wget writes, "" for stdout.
func downloadTarget(c analyzer.Command) string {
	for i, a := range c.Args {
		v := a.Value
		switch {
		case (c.Name == "curl" && (v == "-o" || v == "--output")) || (c.Name == "wget" && (v == "-O" || v == "--output-document")):
			if i+1 < len(c.Args) && !c.Args[i+1].Dynamic && c.Args[i+1].Value != "-" {
				return c.Args[i+1].Value
			}
			return ""
		case c.Name == "wget" && strings.HasPrefix(v, "--output-document="):
			return strings.TrimPrefix(v, "--output-document=")
		}
	}
	return ""
}

// covers reports whether removing target deletes something at created.
func covers(target, created string, whole bool) bool {
	base := target
	for strings.HasSuffix(base, "/*") || strings.HasSuffix(base, "/.*") {
		base = strings.TrimSuffix(strings.TrimSuffix(base, "/*"), "/.*")
	}
	if strings.ContainsAny(base, "*?[") {
		base = path.Dir(base[:strings.IndexAny(base, "*?[")] + "x")
		if base == created || strings.HasPrefix(base, created+"/") {
			return whole
		}
		return false
	}
	base = path.Clean(base)
	if base == "/" {
		return false
	}
	if base == created || strings.HasPrefix(created, base+"/") {
		return true
	}
	// Removing part of a copied tree or a clone.
	return whole && strings.HasPrefix(base, created+"/")
}

// createdIndex answers creatorOf for every rm of the final image without
// reading all earlier instructions again for each: it keeps, per path, the
// latest instruction that created exactly that path, and per directory,
// the latest that created something under it.
type createdIndex struct {
	ins   []*analyzer.Instruction
	paths [][]string
	whats [][]string
	// exact and exactWhole are keyed by the created path (exactWhole only
	// for COPY, ADD and git clone, which create whole trees); under by
	// every directory above a created path.
	exact, exactWhole, under map[string]createdRef
	// removed remembers whether a creator removes one of its own paths.
	removed map[createdRef]bool
	// firstWriter is, per created path, the first instruction that wrote
	// it: when that is not the latest, several layers hold the path, and
	// deleting it in the latest one's RUN leaves the others' bytes.
	firstWriter map[string]*analyzer.Instruction
	// index is each instruction's position in ins.
	index map[*analyzer.Instruction]int
}

// earlierWriter returns an instruction before creator that also wrote
// what creator wrote at a path target removes, nil when creator was the
// only one.
func (x *createdIndex) earlierWriter(target string, creator *analyzer.Instruction) *analyzer.Instruction {
	for _, c := range x.paths[x.index[creator]] {
		if w := x.firstWriter[c]; w != nil && w != creator && covers(target, c, false) {
			return w
		}
	}
	return nil
}

// createdRef is the j-th path created by the at-th instruction.
type createdRef struct{ at, j int }

// later reports whether r is preferred to old: a later instruction, or
// an earlier path of the same one.
func (r createdRef) later(old createdRef, ok bool) bool {
	return !ok || r.at > old.at || r.at == old.at && r.j < old.j
}

func (x *createdIndex) add(in *analyzer.Instruction) {
	if x.exact == nil {
		x.exact, x.exactWhole, x.under = map[string]createdRef{}, map[string]createdRef{}, map[string]createdRef{}
		x.removed = map[createdRef]bool{}
		x.firstWriter = map[string]*analyzer.Instruction{}
		x.index = map[*analyzer.Instruction]int{}
	}
	paths, what := createdPaths(in)
	at := len(x.ins)
	x.index[in] = at
	x.ins, x.paths, x.whats = append(x.ins, in), append(x.paths, paths), append(x.whats, what)
	put := func(m map[string]createdRef, k string, r createdRef) {
		if old, ok := m[k]; r.later(old, ok) {
			m[k] = r
		}
	}
	for j, c := range paths {
		r := createdRef{at, j}
		if x.firstWriter[c] == nil && !(in.Keyword == "RUN" && removesInSameRun(in, c)) {
			x.firstWriter[c] = in
		}
		put(x.exact, c, r)
		if createsWhole(in, what[j]) {
			put(x.exactWhole, c, r)
		}
		for k := len(c) - 1; k >= 0; k-- {
			if c[k] == '/' {
				put(x.under, c[:k], r)
			}
		}
	}
}

func createsWhole(in *analyzer.Instruction, what string) bool {
	return in.Keyword != "RUN" || what == "git clone"
}

// creatorOf returns the latest earlier instruction that wrote what
// target removes and did not remove it itself: the instruction and
// path for which covers holds, latest instruction first, then its first
// such path.
func (x *createdIndex) creatorOf(target string) (*analyzer.Instruction, string) {
	var best createdRef
	found := false
	consider := func(m map[string]createdRef, k string) {
		if r, ok := m[k]; ok && r.later(best, found) {
			best, found = r, true
		}
	}
	ancestors := func(m map[string]createdRef, p string) {
		for k := len(p) - 1; k >= 0; k-- {
			if p[k] == '/' {
				consider(m, p[:k])
			}
		}
	}
	base := target
	for strings.HasSuffix(base, "/*") || strings.HasSuffix(base, "/.*") {
		base = strings.TrimSuffix(strings.TrimSuffix(base, "/*"), "/.*")
	}
	if strings.ContainsAny(base, "*?[") {
		// A glob covers only a whole tree at or above its fixed part.
		base = path.Dir(base[:strings.IndexAny(base, "*?[")] + "x")
		consider(x.exactWhole, base)
		ancestors(x.exactWhole, base)
	} else {
		base = path.Clean(base)
		if base == "/" {
			return nil, ""
		}
		consider(x.exact, base)
		consider(x.under, base)
		ancestors(x.exactWhole, base)
	}
	if x.ins == nil || !found {
		return nil, ""
	}
	in, c := x.ins[best.at], x.paths[best.at][best.j]
	if in.Keyword == "RUN" && x.removesInSameRun(best, in, c) {
		return nil, ""
	}
	return in, x.whats[best.at][best.j]
}

func (x *createdIndex) removesInSameRun(r createdRef, in *analyzer.Instruction, created string) bool {
	if v, ok := x.removed[r]; ok {
		return v
	}
	v := removesInSameRun(in, created)
	x.removed[r] = v
	return v
}

func removesInSameRun(in *analyzer.Instruction, created string) bool {
	wd := in.WorkdirBefore()
	for _, c := range in.Script.CommandsNamed("rm") {
		for _, a := range c.Positional() {
			if !a.Dynamic && covers(analyzer.ResolvePath(wd, a.Value), created, false) {
				return true
			}
		}
	}
	return false
}

// laterCleanupFix moves a RUN made only of rm into the RUN just before
// it, when that RUN created the files and both are plain && chains.
func laterCleanupFix(d *analyzer.Dockerfile, earlier []*analyzer.Instruction, creator, cleanup *analyzer.Instruction) *analyzer.Fix {
	if creator.Keyword != "RUN" || creator.Stage != cleanup.Stage || creator.Onbuild != nil || cleanup.Onbuild != nil {
		return nil
	}
	for i := len(earlier) - 1; i >= 0 && earlier[i] != creator; i-- {
		switch earlier[i].Keyword {
		case "RUN", "COPY", "ADD", "WORKDIR", "USER", "SHELL", "ONBUILD":
			return nil
		}
	}
	cs, rs := topStmts(creator.Script), topStmts(cleanup.Script)
	if len(cs) != 1 || len(rs) != 1 || !creator.Script.Exact() || !cleanup.Script.Exact() ||
		creator.Script.Heredoc || cleanup.Script.Heredoc || len(cleanup.Flags) > 0 ||
		!callChain(cs[0]) || !callChain(rs[0]) {
		return nil
	}
	for _, c := range cleanup.Script.Commands() {
		if c.Name != "rm" {
			return nil
		}
	}
	if len(cleanup.Comments) > 0 {
		return nil // a comment about the cleanup would be left describing nothing
	}
	text := strings.TrimSpace(string(d.Source[cleanup.Script.Pos(rs[0].Pos()):cleanup.Script.End(rs[0].End())]))
	if strings.Contains(text, "\n") {
		return nil
	}
	return &analyzer.Fix{
		Message: fmt.Sprintf("delete in the RUN on line %d that creates the files", creator.StartLine),
		Edits: []analyzer.TextEdit{
			{Start: creator.End, End: creator.End, New: " && " + text},
			{Start: d.Offset(cleanup.StartLine), End: d.Offset(cleanup.EndLine + 1), New: ""},
		},
	}
}
