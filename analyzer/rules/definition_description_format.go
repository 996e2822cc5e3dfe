package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// DefinitionDescriptionFormat mirrors BuildKit's experimental
// InvalidDefinitionDescription check.
var DefinitionDescriptionFormat = &analyzer.Rule{
	ID:       "definition-description-format",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "Comment above a stage or ARG is not in description form",
	Rationale: `BuildKit reads the comment directly above a named FROM or an ARG as its description and shows it ` +
		`in "docker buildx build --call outline" and in IDEs, but only when it starts with the stage or ARG name ` +
		`("# VERSION the release to package"). Otherwise the documentation is lost, or an unrelated comment is ` +
		`shown as the description (an empty line does not stop that; an empty "#" line does). Start the ` +
		`comment with the name, or end an unrelated comment with an empty "#" line. The check is experimental in BuildKit, hence info. Lint directives such as ` +
		`"# hadolint ignore=…" are not descriptions and are left alone.`,
	Bad:         "# the Go toolchain release\nARG GO_VERSION=1.22\n",
	Good:        "# GO_VERSION the Go toolchain release\nARG GO_VERSION=1.22\n",
	Equivalents: []string{"buildkit:InvalidDefinitionDescription"},
	Check: func(p *analyzer.Pass) {
		// One finding a file: official-style Dockerfiles comment most of
		// their ARGs in prose, and a finding on each (13 in mastodon's) is
		// noise for an experimental check.
		var misread []*analyzer.Instruction
		var example string
		for _, in := range p.File.Instructions {
			if len(in.Comments) == 0 {
				continue
			}
			var keys []string
			switch c := in.Parsed.(type) {
			case *instructions.Stage:
				if c.Name != "" {
					keys = []string{c.Name}
				}
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					keys = append(keys, kv.Key)
				}
			}
			last := in.Comments[len(in.Comments)-1]
			if len(keys) == 0 || isLintDirective(last) {
				continue
			}
			first, _, _ := strings.Cut(last, " ")
			if slices.Contains(keys, first) {
				continue
			}
			if len(misread) == 0 {
				example = keys[0]
				if len(keys) > 1 {
					example = "<name>"
				}
			}
			misread = append(misread, in)
		}
		if len(misread) == 0 {
			return
		}
		first := misread[0]
		also := ""
		if rest := misread[1:]; len(rest) > 0 {
			var lines []string
			for _, in := range rest {
				lines = append(lines, fmt.Sprint(in.StartLine))
			}
			also = fmt.Sprintf(" (so are the comments above lines %s)", strings.Join(lines, ", "))
			if len(rest) == 1 {
				also = fmt.Sprintf(" (so is the comment above line %d)", rest[0].StartLine)
			}
		}
		advice := fmt.Sprintf("start it with the name (# %s <description>), or end the comment with an empty \"#\" line if it describes something else", example)
		if len(misread) > 1 {
			advice = fmt.Sprintf("start each with its name (# %s <description>), or end one that describes something else with an empty \"#\" line", example)
		}
		p.Report(first, fmt.Sprintf("the comment above %s is read as its description%s; %s", first.Written, also, advice), nil)
	},
}

// isLintDirective recognises comments addressed to linters, not readers.
func isLintDirective(comment string) bool {
	f := strings.Fields(strings.ToLower(comment))
	return len(f) > 0 && (f[0] == "hadolint" || f[0] == "dockopt" || f[0] == "trivy:ignore" || strings.HasPrefix(f[0], "check="))
}
