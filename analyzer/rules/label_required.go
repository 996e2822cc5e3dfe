package rules

import (
	"slices"
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// LabelRequired mirrors hadolint DL3049.
var LabelRequired = &analyzer.Rule{
	ID:       "label-required",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "Label required by the label schema is missing",
	Rationale: `When a repository configures a label schema (label_schema in .github/dockopt.yml, or hadolint's ` +
		`label-schema), every image it builds is expected to carry those labels, for example a source URL or ` +
		`a revision that lets anyone trace a running container back to its code. This rule reports each image ` +
		`stage that lacks one. Stages that only feed other stages (COPY --from, FROM) are not images anyone ` +
		`runs and are not reported.`,
	Bad:         "FROM alpine:3.20\nCMD [\"app\"]\n",
	Good:        "FROM alpine:3.20\nLABEL org.opencontainers.image.source=https://github.com/acme/app\nCMD [\"app\"]\n",
	Equivalents: []string{"hadolint:DL3049"},
	Check: func(p *analyzer.Pass) {
		if p.Config == nil || len(p.Config.LabelSchema) == 0 {
			return
		}
		required := make([]string, 0, len(p.Config.LabelSchema))
		for k := range p.Config.LabelSchema {
			required = append(required, k)
		}
		sort.Strings(required)
		used := usedStages(p.File)
		// The required labels each stage's chain still lacks, carried down
		// the chains: a stage without labels shares its base's list.
		lacks := map[*analyzer.Stage][]string{}
		for _, s := range p.File.Stages {
			missing := required
			if s.BaseStage != nil {
				missing = lacks[s.BaseStage]
			}
			have := map[string]bool{}
			for _, in := range s.Instructions {
				for _, lp := range labelPairs(p.File, in) {
					have[lp.Key] = true
				}
			}
			if len(have) > 0 {
				missing = slices.DeleteFunc(slices.Clone(missing), func(k string) bool { return have[k] })
			}
			lacks[s] = missing
			if used[s] {
				continue
			}
			if len(missing) > 0 {
				p.Report(s.From, "the image lacks the label(s) the schema requires: "+strings.Join(missing, ", "), nil)
			}
		}
	},
}

// usedStages returns the stages other stages build on or copy from.
func usedStages(d *analyzer.Dockerfile) map[*analyzer.Stage]bool {
	used := map[*analyzer.Stage]bool{}
	for _, s := range d.Stages {
		if s.BaseStage != nil {
			used[s.BaseStage] = true
		}
		for _, in := range s.Instructions {
			refs := []string{}
			if from, ok := in.Flag("from"); ok {
				refs = append(refs, from)
			}
			for _, f := range in.Flags {
				for _, field := range strings.Split(strings.TrimPrefix(f, "--mount="), ",") {
					if v, ok := strings.CutPrefix(field, "from="); ok && strings.HasPrefix(f, "--mount=") {
						refs = append(refs, v)
					}
				}
			}
			for _, r := range refs {
				if t := d.StageByRef(r); t != nil && t != s && !s.InLineage(t) {
					used[t] = true
				}
			}
		}
	}
	return used
}
