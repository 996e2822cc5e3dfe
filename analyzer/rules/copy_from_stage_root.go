package rules

import (
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// CopyFromStageRoot mirrors hadolint DL3067.
var CopyFromStageRoot = &analyzer.Rule{
	ID:       "copy-from-stage-root",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "COPY --from copies a whole filesystem onto /",
	Rationale: `COPY --from=build / / brings everything the other stage holds, compilers, caches, package ` +
		`databases and all, into this one, which defeats the multi-stage build and can overwrite this ` +
		`image's own system files with the other image's. Copy the paths the image needs.`,
	Bad:         "FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM alpine:3.20\nCOPY --from=build / /\n",
	Good:        "FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM alpine:3.20\nCOPY --from=build /out/app /usr/local/bin/app\n",
	Equivalents: []string{"hadolint:DL3067"},
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("COPY") {
			c, ok := in.Command.(*instructions.CopyCommand)
			if !ok || c.From == "" || wholeImageIsPayload(p.File, c.From) {
				continue
			}
			root := func(s string) bool { return strings.Trim(s, `"'`) == "/" }
			if root(c.DestPath) && slices.ContainsFunc(c.SourcePaths, root) {
				p.Reportf(in, "COPY --from=%s / / copies the whole filesystem of %s; copy only what the image needs", c.From, c.From)
			}
		}
	},
}

// wholeImageIsPayload reports sources made to be copied whole: a stage
// built FROM scratch holds only what was put in it, and tonistiigi/xx is a
// set of helper scripts meant to be installed with COPY --from=xx / /.
func wholeImageIsPayload(d *analyzer.Dockerfile, from string) bool {
	ref := analyzer.ParseImageRef(from)
	if st := d.StageByRef(from); st != nil {
		ref = st.Root().Base
	}
	return ref.IsScratch() || ref.Repository == "tonistiigi/xx"
}
