package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// CopyRelativeDestWithoutWorkdir mirrors hadolint DL3045.
var CopyRelativeDestWithoutWorkdir = &analyzer.Rule{
	ID:       "copy-relative-dest-without-workdir",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "COPY to a relative destination before any WORKDIR",
	Rationale: `A relative COPY destination is resolved against the working directory, which, until the ` +
		`Dockerfile sets one, is whatever the base image chose: / for most images, something else for others. ` +
		`The files then land somewhere the reader cannot tell from the Dockerfile, and moving to another base ` +
		`image silently moves them. Set WORKDIR first or copy to an absolute path. Unlike hadolint, a base image ` +
		`whose own WORKDIR dockopt's image table records (golang's /go) counts as setting one.`,
	Bad:         "FROM node:20\nCOPY package.json .\n",
	Good:        "FROM node:20\nWORKDIR /app\nCOPY package.json .\n",
	Equivalents: []string{"hadolint:DL3045"},
	Check: func(p *analyzer.Pass) {
		workdirs := newChainFirst(func(in *analyzer.Instruction) bool { return in.Keyword == "WORKDIR" })
		for _, s := range p.File.Stages {
			// A WORKDIR of a parent stage (FROM builder) carries over, and
			// so does the base image's own (golang's /go).
			workdir := workdirs.inChain(s.BaseStage)
			dir, known, why := p.Facts().Stage(s).BaseWorkdir()
			if known && dir != "/" {
				workdir = true
			}
			for _, in := range s.Instructions {
				if in.Keyword == "WORKDIR" {
					workdir = true
				}
				c, ok := in.Command.(*instructions.CopyCommand)
				if !ok || workdir {
					continue
				}
				dest := strings.Trim(c.DestPath, `"'`)
				if dest == "" || strings.HasPrefix(dest, "/") || strings.HasPrefix(dest, "$") ||
					len(dest) >= 3 && dest[1] == ':' && (dest[2] == '\\' || dest[2] == '/') {
					continue
				}
				if !known {
					// Where the files land is the base image's to say, and
					// dockopt does not know it.
					p.Reportf(in, "COPY to the relative path %q before any WORKDIR of this Dockerfile: %s, so where the files land cannot be told from here; set WORKDIR first or use an absolute path", dest, why)
					continue
				}
				p.Reportf(in, "COPY to the relative path %q with no WORKDIR set; set WORKDIR first or use an absolute path", dest)
			}
		}
	},
}
