package rules

import (
	"fmt"
	"path"
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
		for in := range p.File.Each("RUN") {
			if in.Script == nil || in.Onbuild != nil || in.Stage == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("chown") {
				if !c.Has("-R", "--recursive") && !c.HasShortFlag('R') {
					continue
				}
				pos := c.Positional("--from", "--reference")
				if len(pos) < 2 || pos[0].Dynamic {
					continue
				}
				owner := pos[0].Value
				wd := workdirBefore(in)
				for _, target := range pos[1:] {
					if target.Dynamic {
						continue
					}
					dir := resolvePath(wd, target.Value)
					var copies []*analyzer.Instruction
					for _, cp := range copiesUnder(in, dir) {
						if existing, ok := cp.Flag("chown"); !ok || existing != owner {
							copies = append(copies, cp)
						}
					}
					if len(copies) == 0 {
						continue
					}
					var lines []int
					for _, cp := range copies {
						lines = append(lines, cp.StartLine)
					}
					where := "line " + joinLines(lines)
					if len(lines) > 1 {
						where = "lines " + joinLines(lines)
					}
					msg := fmt.Sprintf("chown -R %s %s stores every file written by the COPY/ADD on %s again in a new layer; set the owner with --chown=%s on the COPY instead",
						owner, target.Value, where, owner)
					p.Report(in, msg, chownFix(p.File, in, c, owner, copies))
				}
			}
		}
	},
}

// copiesUnder returns the COPY and ADD instructions of in's stage, before
// in, whose destination lies under dir.
func copiesUnder(in *analyzer.Instruction, dir string) []*analyzer.Instruction {
	var out []*analyzer.Instruction
	for _, i := range in.Stage.Instructions {
		if i.Index >= in.Index {
			break
		}
		c, ok := copyOf(i)
		if !ok || c.dest == "" {
			continue
		}
		dest := resolvePath(workdirBefore(i), c.dest)
		if dest == dir || strings.HasPrefix(dest, strings.TrimSuffix(dir, "/")+"/") || dir == "/" {
			out = append(out, i)
		}
	}
	return out
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
	edits := []analyzer.TextEdit{deleteLines(d, in.StartLine, in.EndLine)}
	var between []string
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
	for _, i := range in.Stage.Instructions {
		if last.Index < i.Index && i.Index < in.Index && i.Keyword == "RUN" {
			between = append(between, fmt.Sprint(i.StartLine))
		}
	}
	msg := "set the owner on the COPY and drop the chown"
	if len(between) > 0 {
		msg += "; files created by the RUN on line " + strings.Join(between, ", ") + " stay owned by root (readable, not writable, by " + path.Base(strings.Split(owner, ":")[0]) + ")"
	}
	return &analyzer.Fix{Message: msg, Edits: edits}
}
