package rules

import (
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// WorkdirNotCd mirrors hadolint DL3003.
var WorkdirNotCd = &analyzer.Rule{
	ID:       "workdir-not-cd",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "cd in RUN instead of WORKDIR",
	Rationale: `A cd lasts only until the end of its RUN, so every later instruction has to repeat it, and a ` +
		`reader must track the directory through chains of commands. WORKDIR sets it once, creates it if ` +
		`needed, and applies to RUN, COPY, CMD and ENTRYPOINT alike. Unlike hadolint, a cd inside a subshell ` +
		`"(cd dir && make)", a loop or a conditional is not reported, nor one to a directory computed at build ` +
		`time ("cd $(mktemp -d)"): those are deliberate and WORKDIR cannot express them. Nor is a cd into ` +
		`a directory the same RUN removes before it ends (a source tree unpacked, built and deleted): ` +
		`WORKDIR would leave it in the image, empty, as the default directory.`,
	Bad:            "RUN cd /app && npm ci\n",
	Good:           "WORKDIR /app\nRUN npm ci\n",
	Equivalents:    []string{"hadolint:DL3003", "trivy:DS013"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			if c, ok := cdToReport(topLevelCommands(in.Script)); ok {
				p.Reportf(in, "cd %s lasts only for this RUN; use WORKDIR %s", c, c)
			}
		}
	},
}

// runStart stands for the directory a RUN starts in, which is not known
// here: relative paths are followed from it.
const runStart = "/(where the RUN starts)"

// maxRemovals bounds the rm -r commands of one RUN compared with its cds.
const maxRemovals = 256

// cdToReport returns the first cd of a RUN's top-level commands that
// WORKDIR could replace. Not one into a directory that a later rm -r of the
// same RUN removes (or a folder holding it): a source tree unpacked, built
// and deleted, which WORKDIR would leave in the image, empty; nor a cd out
// of such a tree (cd /, cd ..). Directories are followed through the cds in
// between; a cd to a computed directory loses track of them.
func cdToReport(cmds []analyzer.Command) (string, bool) {
	type removal struct {
		at   int
		path string
	}
	dirs := make([]string, len(cmds)) // where each command runs, "" when unknown
	var removals []removal
	cwd := runStart
	for i, c := range cmds {
		dirs[i] = cwd
		switch {
		case c.Name == "cd":
			if len(c.Args) != 1 || c.Args[0].Dynamic || c.Args[0].Value == "-" {
				cwd = ""
			} else if cwd != "" || strings.HasPrefix(c.Args[0].Value, "/") {
				cwd = joinPath(cwd, c.Args[0].Value)
			}
		case c.Name == "rm" && cwd != "" && recursiveRemove(c) && len(removals) < maxRemovals:
			for _, a := range c.Positional() {
				if !a.Dynamic {
					removals = append(removals, removal{i, joinPath(cwd, a.Value)})
				}
			}
		}
	}
	var removedTrees []string
	for i, c := range cmds {
		if c.Name != "cd" || len(c.Args) != 1 || c.Args[0].Dynamic || c.Args[0].Value == "-" {
			continue
		}
		target := ""
		if dirs[i] != "" || strings.HasPrefix(c.Args[0].Value, "/") {
			target = joinPath(dirs[i], c.Args[0].Value)
		}
		removed := target != "" && slices.ContainsFunc(removals, func(r removal) bool {
			return r.at > i && (r.path == target || strings.HasPrefix(target, r.path+"/"))
		})
		if removed {
			removedTrees = append(removedTrees, target)
			continue
		}
		leaves := target != "" && slices.ContainsFunc(removedTrees, func(t string) bool {
			return target == "/" || strings.HasPrefix(t, target+"/")
		})
		if !leaves {
			return c.Args[0].Value, true
		}
	}
	return "", false
}

// joinPath is where p leads from dir.
func joinPath(dir, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

func recursiveRemove(c analyzer.Command) bool {
	for _, a := range c.Args {
		v := a.Value
		if v == "--recursive" || len(v) > 1 && v[0] == '-' && v[1] != '-' && strings.ContainsAny(v[1:], "rR") {
			return true
		}
	}
	return false
}
