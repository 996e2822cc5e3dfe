package rules

import (
	"path"
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
			cmds := topLevelCommands(in.Script)
			for i, c := range cmds {
				if c.Name != "cd" || len(c.Args) != 1 || c.Args[0].Dynamic || c.Args[0].Value == "-" {
					continue
				}
				if removedLater(cmds, i) {
					// A build-and-clean-up script: the cds that follow
					// only leave the tree it removes.
					break
				}
				p.Reportf(in, "cd %s lasts only for this RUN; use WORKDIR %s", c.Args[0].Value, c.Args[0].Value)
				break
			}
		}
	},
}

// removedLater reports whether the directory the cd at cmds[at] enters is
// removed (rm -r of it or of a folder holding it) by a later command of the
// same RUN. Directories are followed through the cds in between; where the
// RUN started is unknown, so relative paths are taken from a stand-in.
func removedLater(cmds []analyzer.Command, at int) bool {
	const start = "/(where the RUN starts)"
	cwd := start
	var entered string
	for i, c := range cmds {
		switch {
		case c.Name == "cd":
			if len(c.Args) != 1 || c.Args[0].Dynamic || c.Args[0].Value == "-" {
				if i > at {
					return false // lost track of where later commands run
				}
				cwd = start
				continue
			}
			cwd = joinPath(cwd, c.Args[0].Value)
			if i == at {
				entered = cwd
			}
		case i > at && c.Name == "rm" && recursiveRemove(c):
			for _, a := range c.Positional() {
				if a.Dynamic {
					continue
				}
				gone := joinPath(cwd, a.Value)
				if gone == entered || strings.HasPrefix(entered, gone+"/") {
					return true
				}
			}
		}
	}
	return false
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
