// Package rules is dockopt's rule catalog: one file per rule, each a value
// of analyzer.Rule, registered here explicitly (no init side effects).
package rules

import (
	"slices"

	"github.com/dockopt/dockopt/analyzer"
)

// All returns every rule in catalog order. Each group is kept in its own
// list file so that the catalog can grow in parallel without conflicts.
func All() []*analyzer.Rule {
	return slices.Concat(
		engineRules,
		hadolintRulesA,
		hadolintRulesB,
		buildkitRules,
		themeRulesA,
		themeRulesB,
	)
}

// engineRules are rules whose findings the engine itself produces.
var engineRules = []*analyzer.Rule{
	UnusedSuppression,
	VariableExpansionTooLarge,
}
