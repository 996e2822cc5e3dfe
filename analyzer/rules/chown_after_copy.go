package rules

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ChownAfterCopy finds recursive chowns that copy every file again.
var ChownAfterCopy = &analyzer.Rule{
	ID:       "chown-after-copy",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "Recursive chown of files an earlier COPY wrote",
	Rationale: `Image layers record whole files: changing the owner of a file written by an earlier layer stores ` +
		`the file again, so RUN chown -R over a copied application doubles its size in the image and the ` +
		`time to push and pull it. COPY --chown=user:group (and ADD --chown) sets the owner as the files are ` +
		`written, at no cost.`,
	Bad:       "FROM node:22-slim\nCOPY . /app\nRUN chown -R node:node /app\n",
	Good:      "FROM node:22-slim\nCOPY --chown=node:node . /app\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			copies := &copyTree{}
			var runs []*analyzer.Instruction
			// Only a RUN's chown looks back at the copies: those after
			// the last one need no index.
			for _, in := range s.Instructions[:lastRunning(s.Instructions, "chown")+1] {
				if c, ok := copyOf(in); ok && c.dest != "" {
					owner, chowned := in.Flag("chown")
					copies.add(in, analyzer.ResolvePath(in.WorkdirBefore(), c.dest), owner, chowned)
				}
				if in.Keyword == "RUN" && in.Script != nil {
					checkChownAfterCopy(p, in, copies, runs)
				}
				if in.Keyword == "RUN" {
					runs = append(runs, in)
				}
			}
		}
	},
}

// maxChownCopies bounds the COPY instructions one finding lists and its
// fix edits: a chown over more is rare, and listing them all for every
// chown would make the output grow with the square of the file.
const maxChownCopies = 20

func checkChownAfterCopy(p *analyzer.Pass, in *analyzer.Instruction, copies *copyTree, runs []*analyzer.Instruction) {
	for _, c := range in.Script.CommandsNamed("chown") {
		if !c.Has("-R", "--recursive") && !c.HasShortFlag('R') {
			continue
		}
		pos := c.Positional("--from", "--reference")
		if len(pos) < 2 || pos[0].Dynamic {
			continue
		}
		owner := pos[0].Value
		wd := in.WorkdirBefore()
		for _, target := range pos[1:] {
			if target.Dynamic {
				continue
			}
			// The COPY and ADD of the stage so far whose destination lies
			// under the target and that do not set this owner already.
			list, total := copies.under(analyzer.ResolvePath(wd, target.Value), owner, maxChownCopies)
			if total == 0 {
				continue
			}
			var lines []int
			for _, cp := range list {
				lines = append(lines, cp.StartLine)
			}
			where := "line " + joinLines(lines)
			if total > 1 {
				where = "lines " + joinLines(lines)
			}
			if total > len(list) {
				where += fmt.Sprintf(" and %d more", total-len(list))
			}
			msg := fmt.Sprintf("chown -R %s %s stores every file written by the COPY/ADD on %s again in a new layer; set the owner with --chown=%s on the COPY instead",
				owner, target.Value, where, owner)
			var fix *analyzer.Fix
			if total == len(list) {
				dir := analyzer.ResolvePath(wd, target.Value)
				if add := unpackingAdd(p.Context, list); add != nil {
					msg += fmt.Sprintf(" (no fix: the ADD on line %d unpacks an archive, and the classic builder and older BuildKit releases give --chown only to the folder, not to the unpacked files)", add.StartLine)
				} else if why := chownReaches(p.File, in, dir, runs); why != "" {
					msg += " (no fix: --chown on the COPY would leave " + why + " owned by root, where the chown gives it to " + owner + ")"
				} else {
					fix = chownFix(p.File, in, c, owner, list)
				}
			} else {
				msg += fmt.Sprintf(" (no fix is proposed: it would edit more than %d COPY instructions)", maxChownCopies)
			}
			p.Report(in, msg, fix)
		}
	}
}

// copyTree holds the COPY and ADD instructions of a stage so far by every
// folder their destination lies in, so that the ones under a chown's
// target are found without reading the stage again.
type copyTree struct {
	dirs map[string]*copiesIn
}

// copiesIn are the copies into one folder in order, in runs of equal
// --chown, and how many copies set each owner.
type copiesIn struct {
	runs    []copyRun
	total   int
	byOwner map[string]int
}

type copyRun struct {
	owner   string
	chowned bool
	ins     []*analyzer.Instruction
}

func (t *copyTree) add(in *analyzer.Instruction, dest, owner string, chowned bool) {
	if t.dirs == nil {
		t.dirs = map[string]*copiesIn{}
	}
	put := func(dir string) {
		d := t.dirs[dir]
		if d == nil {
			d = &copiesIn{byOwner: map[string]int{}}
			t.dirs[dir] = d
		}
		if n := len(d.runs); n > 0 && d.runs[n-1].owner == owner && d.runs[n-1].chowned == chowned {
			d.runs[n-1].ins = append(d.runs[n-1].ins, in)
		} else {
			d.runs = append(d.runs, copyRun{owner: owner, chowned: chowned, ins: []*analyzer.Instruction{in}})
		}
		d.total++
		if chowned {
			d.byOwner[owner]++
		}
	}
	put(dest)
	for k := len(dest) - 1; k > 0; k-- {
		if dest[k] == '/' {
			put(dest[:k])
		}
	}
	if dest != "/" {
		put("/")
	}
}

// under returns the first limit copies into dir or below it that do not
// already set owner, and how many there are. Runs that set owner are
// skipped whole, so the work is bounded by limit.
func (t *copyTree) under(dir, owner string, limit int) ([]*analyzer.Instruction, int) {
	d := t.dirs[dir]
	if d == nil {
		return nil, 0
	}
	total := d.total - d.byOwner[owner]
	var out []*analyzer.Instruction
	for _, r := range d.runs {
		if len(out) >= limit {
			break
		}
		if r.chowned && r.owner == owner {
			continue
		}
		out = append(out, r.ins[:min(len(r.ins), limit-len(out))]...)
	}
	return out, total
}

// unpackingAdd returns the first ADD among copies that unpacks a local
// archive, nil when there is none.
func unpackingAdd(bc *analyzer.BuildContext, copies []*analyzer.Instruction) *analyzer.Instruction {
	for _, in := range copies {
		c, ok := copyOf(in)
		if !ok || !c.add {
			continue
		}
		for _, src := range c.sources {
			if !strings.Contains(src, "://") && (isArchiveName(src) || bc != nil && addsArchive(bc, []string{src})) {
				return in
			}
		}
	}
	return nil
}

// chownReaches names what a recursive chown of dir changes that --chown on
// the copies into it would not: files a RUN of the stage may have written
// there (node_modules, from npm ci), and the folder itself when no COPY
// creates it (a WORKDIR did, or the stage's base may have it). "" when the
// copies are all the chown reaches. runs are the RUNs of the stage before
// the chown.
func chownReaches(d *analyzer.Dockerfile, chown *analyzer.Instruction, dir string, runs []*analyzer.Instruction) string {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return "/ and everything the base image has"
	}
	under := func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	for _, r := range runs {
		if mayWriteUnder(d, r, dir, under) {
			return fmt.Sprintf("what the RUN on line %d may write under %s", r.StartLine, dir)
		}
	}
	stage := chown.Stage
	if stage == nil || stage.BaseStage != nil {
		return dir + " as the earlier stage it builds on left it"
	}
	var created *analyzer.Instruction
	for _, in := range stage.Instructions {
		if in.Index >= chown.Index {
			break
		}
		if in.Keyword == "WORKDIR" && len(in.Args) == 1 {
			wd := strings.TrimSuffix(analyzer.ResolvePath(in.WorkdirBefore(), in.Args[0]), "/")
			if under(wd) && (created == nil || wd != dir) {
				// A WORKDIR into the folder before a COPY creates it, or
				// below it, makes a folder owned by root.
				return fmt.Sprintf("%s (the WORKDIR on line %d creates it)", wd, in.StartLine)
			}
		}
		if c, ok := copyOf(in); ok && c.dest != "" && created == nil &&
			strings.TrimSuffix(analyzer.ResolvePath(in.WorkdirBefore(), c.dest), "/") == dir {
			created = in
		}
	}
	if created == nil {
		return dir + " itself (no COPY creates it)"
	}
	if why := mayPreexist(stage, dir); why != "" {
		return dir + " itself (" + why + ")"
	}
	return ""
}

// mayWriteUnder reports a RUN that may write under dir: one that runs
// there (npm ci in WORKDIR /app), names the folder by its full path or,
// from a folder above it, by a relative one or after a cd, or uses a value
// dockopt cannot read.
func mayWriteUnder(d *analyzer.Dockerfile, r *analyzer.Instruction, dir string, under func(string) bool) bool {
	if r.Script == nil || !r.Script.Exact() || len(r.Heredocs) > 0 {
		return true
	}
	wd := strings.TrimSuffix(r.WorkdirBefore(), "/")
	if under(wd) || strings.Contains(r.Text(d.Source), dir) {
		return true
	}
	// From a folder above dir, a relative path reaches it (mkdir -p
	// app/data from /), and so does anything after a cd.
	rel, above := "", wd == "" || strings.HasPrefix(dir, wd+"/")
	if above {
		rel = strings.TrimPrefix(dir, wd+"/")
	}
	for _, c := range r.Script.Commands() {
		if above && (c.Name == "cd" || c.Name == "pushd") {
			return true
		}
		for _, w := range c.Args {
			if w.Dynamic {
				return true
			}
			v := strings.TrimPrefix(w.Value, "./")
			if above && !namesOnly[c.Name] && (v == rel || strings.HasPrefix(v, rel+"/") || v == ".") {
				return true
			}
		}
	}
	return false
}

// namesOnly are commands whose words name accounts and packages, not
// paths: useradd app from / does not write ./app.
var namesOnly = map[string]bool{"useradd": true, "adduser": true, "groupadd": true, "addgroup": true, "usermod": true,
	"apt-get": true, "apt": true, "apk": true, "dnf": true, "yum": true, "microdnf": true}

// mayPreexist says why dir may exist in the stage's base image before the
// COPY, "" when the COPY surely creates it: a base the image table knows
// (or scratch) and a folder outside the system's own tree (/app, /srv/app,
// /home/node/app). A folder the base has keeps the base's owner under
// COPY --chown, while the chown gives it to the user.
func mayPreexist(stage *analyzer.Stage, dir string) string {
	if _, known := analyzer.ImageContents(stage.Base); !known {
		return "the base image " + stage.BaseRaw + " may already have it"
	}
	parts := strings.Split(strings.TrimPrefix(dir, "/"), "/")
	switch parts[0] {
	case "bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "media", "mnt", "proc", "root", "run", "sbin", "sys", "tmp", "var":
		return "the base image may already have it"
	case "usr":
		if len(parts) >= 3 && (parts[1] == "src" || parts[1] == "local" && parts[2] == "src" && len(parts) >= 4) {
			return ""
		}
		return "the base image may already have it"
	case "home", "opt", "srv":
		if len(parts) >= 3 || parts[0] != "home" && len(parts) == 2 {
			return ""
		}
		return "the base image may already have it"
	}
	return ""
}

// chownFix deletes a RUN that is only the chown and moves the owner onto
// the COPY instructions, when that is all it takes.
func chownFix(d *analyzer.Dockerfile, in *analyzer.Instruction, c analyzer.Command, owner string, copies []*analyzer.Instruction) *analyzer.Fix {
	stmts := topStmts(in.Script)
	if len(stmts) != 1 || len(in.Script.Commands()) != 1 || len(c.Prefix) > 0 || len(in.Heredocs) > 0 || len(in.Flags) > 0 {
		return nil
	}
	if len(c.Positional("--from", "--reference")) != 2 {
		return nil
	}
	edits := []analyzer.TextEdit{deleteInstruction(d, in)}
	for _, cp := range copies {
		if existing, ok := cp.Flag("chown"); ok {
			if existing != owner {
				return nil
			}
			continue
		}
		at := cp.KeywordStart + len(cp.Written)
		edits = append(edits, analyzer.TextEdit{Start: at, End: at, New: " --chown=" + owner})
	}
	msg := "set the owner on the COPY and drop the chown"
	return &analyzer.Fix{Message: msg, Edits: edits}
}
