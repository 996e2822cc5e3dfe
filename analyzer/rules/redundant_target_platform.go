package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// RedundantTargetPlatform mirrors BuildKit's RedundantTargetPlatform check.
var RedundantTargetPlatform = &analyzer.Rule{
	ID:       "redundant-target-platform",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityWarning,
	Title:    "FROM --platform=$TARGETPLATFORM is the default",
	Rationale: `A stage is built for the target platform unless told otherwise, so "--platform=$TARGETPLATFORM" ` +
		`changes nothing. It is often written where "$BUILDPLATFORM" was meant (a cross-compiling build stage), ` +
		`so the redundant flag hides a missed optimisation; removing it makes the real choice visible.`,
	Bad:         "FROM --platform=$TARGETPLATFORM alpine:3.20\n",
	Good:        "FROM alpine:3.20\n",
	Equivalents: []string{"buildkit:RedundantTargetPlatform", "hadolint:DL3065"},
	Fix:         analyzer.Safe,
	Check: func(p *analyzer.Pass) {
		d := p.File
		// An ARG default for TARGETPLATFORM replaces the real target in FROM
		// lines, so there the flag is not redundant, whatever BuildKit says.
		if metaArgHasDefault(d, "TARGETPLATFORM") {
			return
		}
		mirrorBuildKit(p, "RedundantTargetPlatform", func(w analyzer.BuildKitWarning, in *analyzer.Instruction) (string, *analyzer.Fix, bool) {
			var fix *analyzer.Fix
			if in != nil {
				fix = removeFlagFix(d, in, "platform")
			}
			return "--platform=$TARGETPLATFORM is what FROM does anyway; remove it (or did you mean $BUILDPLATFORM?)", fix, true
		})
	},
}

// metaArgHasDefault reports whether an ARG before the first FROM gives name a
// default, which would make a predefined variable mean something else.
func metaArgHasDefault(d *analyzer.Dockerfile, name string) bool {
	for _, in := range d.MetaArgs {
		if c, ok := in.Command.(*instructions.ArgCommand); ok {
			for _, kv := range c.Args {
				if kv.Key == name && kv.Value != nil {
					return true
				}
			}
		}
	}
	return false
}

// removeFlagFix deletes a --name=value flag and the blanks after it.
func removeFlagFix(d *analyzer.Dockerfile, in *analyzer.Instruction, name string) *analyzer.Fix {
	words := rawWords(d, in.Start, in.ArgsStart)
	for i, w := range words {
		key, _, _ := strings.Cut(w.Text, "=")
		if !strings.EqualFold(key, "--"+name) {
			continue
		}
		end := in.ArgsStart
		if i+1 < len(words) {
			end = words[i+1].Start
		}
		return &analyzer.Fix{
			Message: "remove --" + name,
			Edits:   []analyzer.TextEdit{{Start: w.Start, End: end, New: ""}},
		}
	}
	return nil
}
