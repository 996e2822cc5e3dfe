package rules

import "github.com/dockopt/dockopt/analyzer"

// UnusedSuppression is reported by the engine, which alone knows which
// waivers matched; its Check is empty on purpose.
var UnusedSuppression = &analyzer.Rule{
	ID:       "unused-suppression",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "Ignore comment that waives nothing",
	Rationale: `A "# dockopt ignore=" comment that matches no finding is stale: the problem was fixed or the ` +
		`rule ID is misspelled. Stale waivers hide future problems on the same line, so they are reported ` +
		`and the fix removes them. One that names a rule dockopt does not know is reported without a fix: ` +
		`it may be a misspelling of the waiver its author meant, which deleting it would undo.`,
	Bad:   "# dockopt ignore=apt-no-install-recommends\nRUN echo hello\n",
	Good:  "RUN echo hello\n",
	Fix:   analyzer.Safe,
	Check: func(*analyzer.Pass) {},
}
