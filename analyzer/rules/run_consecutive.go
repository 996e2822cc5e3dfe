package rules

import (
	"slices"

	"github.com/dockopt/dockopt/analyzer"
)

// RunConsecutive mirrors hadolint DL3059.
var RunConsecutive = &analyzer.Rule{
	ID:       "run-consecutive",
	Category: analyzer.CategoryBuildCache,
	Severity: analyzer.SeverityInfo,
	Title:    "Consecutive short RUN instructions that could be one",
	Rationale: `Each RUN makes a layer and a build step. Several tiny RUNs in a row (a mkdir, then a chmod) ` +
		`add layers, metadata and cache lookups without benefit, and files a later RUN deletes still ship in ` +
		`the earlier layer. Joining them with && keeps related work in one layer. Like hadolint, dockopt only ` +
		`reports RUNs of a single command each: a RUN that already chains commands was most likely split from ` +
		`its neighbour on purpose. RUNs with different mounts are left alone too.`,
	Bad:         "FROM alpine:3.20\nRUN mkdir /data\nRUN chown nobody /data\n",
	Good:        "FROM alpine:3.20\nRUN mkdir /data && chown nobody /data\n",
	Equivalents: []string{"hadolint:DL3059"},
	Check: func(p *analyzer.Pass) {
		var prev *analyzer.Instruction
		for _, in := range p.File.Instructions {
			if in.Keyword != "RUN" {
				prev = nil
				continue
			}
			if prev != nil && slices.Equal(prev.Flags, in.Flags) && runCommandCount(prev) <= 1 && runCommandCount(in) <= 1 {
				p.Report(in, "this RUN follows another short RUN; consider joining them with &&", nil)
			}
			prev = in
		}
	},
}

// runCommandCount is the number of simple commands a RUN runs.
func runCommandCount(in *analyzer.Instruction) int {
	if in.Script == nil {
		return 1
	}
	return len(in.Script.Commands())
}
