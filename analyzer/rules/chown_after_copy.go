package rules

import (
	"fmt"
	"path"
	"sort"
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
			for _, in := range s.Instructions {
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
				if why := chownReaches(in, dir, runs); why != "" {
					msg += " (no fix: --chown on the COPY would leave " + why + " owned by root, where the chown gives it to " + owner + ")"
				} else {
					fix = chownFix(p.File, in, c, owner, list, runs)
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

// chownReaches names what a recursive chown of dir changes that --chown on
// the copies into it would not: files a RUN of the stage may have written
// there (node_modules, from npm ci), and the folder itself when no COPY
// created it (a WORKDIR did, or the stage's base has it). "" when the
// copies are all the chown reaches. runs are the RUNs of the stage before
// the chown.
func chownReaches(chown *analyzer.Instruction, dir string, runs []*analyzer.Instruction) string {
	if len(runs) > 0 {
		return fmt.Sprintf("what the RUN on line %d may write under %s", runs[0].StartLine, dir)
	}
	stage := chown.Stage
	if stage == nil || stage.BaseStage != nil {
		return dir + " as the earlier stage it builds on left it"
	}
	under := func(p string) bool { return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/") }
	for _, in := range stage.Instructions {
		if in.Index >= chown.Index {
			break
		}
		if in.Keyword == "WORKDIR" && len(in.Args) == 1 {
			if wd := analyzer.ResolvePath(in.WorkdirBefore(), in.Args[0]); under(wd) {
				return fmt.Sprintf("%s (the WORKDIR on line %d creates it)", wd, in.StartLine)
			}
		}
	}
	for _, in := range stage.Instructions {
		if in.Index >= chown.Index {
			break
		}
		if c, ok := copyOf(in); ok && c.dest != "" && strings.TrimSuffix(analyzer.ResolvePath(in.WorkdirBefore(), c.dest), "/") == strings.TrimSuffix(dir, "/") {
			return ""
		}
	}
	return dir + " itself (no COPY creates it)"
}

// chownFix deletes a RUN that is only the chown and moves the owner onto
// the COPY instructions, when that is all it takes. runs are the RUNs of
// the stage before in.
func chownFix(d *analyzer.Dockerfile, in *analyzer.Instruction, c analyzer.Command, owner string, copies, runs []*analyzer.Instruction) *analyzer.Fix {
	stmts := topStmts(in.Script)
	if len(stmts) != 1 || len(in.Script.Commands()) != 1 || len(c.Prefix) > 0 || len(in.Heredocs) > 0 || len(in.Flags) > 0 {
		return nil
	}
	if len(c.Positional("--from", "--reference")) != 2 {
		return nil
	}
	edits := []analyzer.TextEdit{deleteLines(d, in.StartLine, in.EndLine)}
	for _, cp := range copies {
		if existing, ok := cp.Flag("chown"); ok {
			if existing != owner {
				return nil
			}
			continue
		}
		at := cp.Start + len(cp.Written)
		edits = append(edits, analyzer.TextEdit{Start: at, End: at, New: " --chown=" + owner})
	}
	last := copies[len(copies)-1]
	first := sort.Search(len(runs), func(i int) bool { return runs[i].Index > last.Index })
	var between []string
	for _, r := range runs[first:min(len(runs), first+maxChownCopies)] {
		between = append(between, fmt.Sprint(r.StartLine))
	}
	msg := "set the owner on the COPY and drop the chown"
	if len(between) > 0 {
		msg += "; files created by the RUN on line " + strings.Join(between, ", ")
		if more := len(runs) - first - len(between); more > 0 {
			msg += fmt.Sprintf(" and %d more", more)
		}
		msg += " stay owned by root (readable, not writable, by " + path.Base(strings.Split(owner, ":")[0]) + ")"
	}
	return &analyzer.Fix{Message: msg, Edits: edits}
}
