package commands

import (
	"fmt"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// ExplainText is the reply to /dockopt explain: a rule's documentation,
// from the rule value itself like every other rule doc.
func ExplainText(r *analyzer.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**`%s`**: %s\n\n", r.ID, r.Title)
	fmt.Fprintf(&b, "Category %s, default severity %s", r.Category, r.Severity)
	if r.Fix != "" {
		fmt.Fprintf(&b, ", dockopt fixes it (%s fix)", r.Fix)
	}
	b.WriteString(".")
	if len(r.Equivalents) > 0 {
		fmt.Fprintf(&b, " Same check as %s.", "`"+strings.Join(r.Equivalents, "`, `")+"`")
	}
	b.WriteString("\n\n" + strings.TrimSpace(r.Rationale) + "\n")
	if r.Bad != "" {
		b.WriteString("\nReported:\n\n" + dockerBlock(r.Bad))
	}
	if r.Good != "" {
		b.WriteString("\nBetter:\n\n" + dockerBlock(r.Good))
	}
	fmt.Fprintf(&b, "\nTo stop reporting it, comment `/dockopt ignore %s [PATH]` (write access), or add `# dockopt ignore=%s` on the line before an instruction.\n", r.ID, r.ID)
	return b.String()
}

func dockerBlock(s string) string {
	s = strings.TrimRight(s, "\n")
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + "dockerfile\n" + s + "\n" + fence + "\n"
}

// IgnoreYAML is the `ignore:` entry that waives rule (under path, if set)
// in .github/dockopt.yml.
func IgnoreYAML(rule, path, reason string) string {
	var b strings.Builder
	b.WriteString("ignore:\n")
	fmt.Fprintf(&b, "  - rule: %s\n", rule)
	if path != "" {
		fmt.Fprintf(&b, "    path: %q\n", path)
	}
	if reason != "" {
		fmt.Fprintf(&b, "    reason: %q\n", reason)
	}
	return b.String()
}
