package rules

import (
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// CopyFromKnownStage mirrors hadolint DL3022.
var CopyFromKnownStage = &analyzer.Rule{
	ID:       "copy-from-known-stage",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "COPY --from names no earlier stage",
	Rationale: `When COPY --from names no stage, BuildKit takes the name for an image and pulls it from Docker Hub: ` +
		`a typo in a stage name becomes a download of some stranger's image, or a confusing pull error. A name ` +
		`that belongs to a later stage makes the build order hard to follow. Unlike hadolint, stage indexes ` +
		`(--from=0) and image references (anything with a registry, a tag or a digest, such as nginx:1.27) are ` +
		`accepted; only bare names that match no earlier stage are reported.`,
	Bad:         "FROM golang:1.23 AS build\nRUN go build -o /app .\nFROM alpine:3.20\nCOPY --from=biuld /app /app\n",
	Good:        "FROM golang:1.23 AS build\nRUN go build -o /app .\nFROM alpine:3.20\nCOPY --from=build /app /app\n",
	Equivalents: []string{"hadolint:DL3022"},
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("COPY") {
			// An ONBUILD trigger runs in another Dockerfile, whose stages are unknown.
			from, ok := in.Flag("from")
			if !ok || in.Stage == nil || in.Onbuild != nil || from == "" || strings.Contains(from, "$") {
				continue
			}
			if n, err := strconv.Atoi(from); err == nil {
				if n > in.Stage.Index {
					p.Reportf(in, "COPY --from=%d refers to a stage that is not defined before this one", n)
				}
				continue
			}
			target := p.File.StageByRef(from)
			switch {
			case target != nil && target.Index > in.Stage.Index:
				p.Reportf(in, "stage %q is defined after this COPY; copy only from earlier stages", from)
			case target == nil && !strings.ContainsAny(from, "/:@."):
				p.Reportf(in, "no stage is named %q, so BuildKit will pull an image of that name from Docker Hub; name an earlier stage or a full image reference", from)
			}
		}
	},
}
