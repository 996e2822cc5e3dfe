package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/cli"
)

// ruleJSON is the stable shape of `dockopt rules --format json`.
type ruleJSON struct {
	ID          string   `json:"id"`
	Category    string   `json:"category"`
	Severity    string   `json:"severity"`
	Title       string   `json:"title"`
	Equivalents []string `json:"equivalents"`
	Fixable     bool     `json:"fixable"`
	Safety      string   `json:"safety,omitempty"`
}

func runRules(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	format := fs.String("format", "text", "output format: text or json")
	const head = "usage: dockopt rules [--format text|json]\n\nLists every rule: ID, category, default severity, fix safety, equivalents in other tools, title.\n"
	if code, done := cli.Parse(fs, head, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dockopt rules: unexpected argument %q; `dockopt explain %s` prints one rule\n", fs.Arg(0), fs.Arg(0))
		return exitUsage
	}
	all := rules.All()
	switch *format {
	case "json":
		out := make([]ruleJSON, 0, len(all))
		for _, r := range all {
			out = append(out, ruleJSON{
				ID: r.ID, Category: string(r.Category), Severity: r.Severity.String(), Title: r.Title,
				Equivalents: nonNil(r.Equivalents), Fixable: r.Fix != "", Safety: string(r.Fix),
			})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(stderr, "dockopt:", err)
			return 2
		}
	case "text":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCATEGORY\tSEVERITY\tFIX\tEQUIVALENTS\tTITLE")
		for _, r := range all {
			fix := "-"
			if r.Fix != "" {
				fix = string(r.Fix)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Category, r.Severity, fix, strings.Join(r.Equivalents, ","), r.Title)
		}
		tw.Flush()
	default:
		fmt.Fprintf(stderr, "dockopt rules: unknown format %q (want text or json)\n", *format)
		return 2
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func runExplain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	const head = "usage: dockopt explain RULE\n\nPrints a rule's documentation in Markdown. RULE is an ID like apt-no-install-recommends\nor an equivalent in another tool like DL3015; `dockopt rules` lists them.\n"
	if code, done := cli.Parse(fs, head, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "dockopt explain: name one rule")
		cli.Usage(fs, head, stderr)
		return exitUsage
	}
	found := analyzer.New(rules.All()).Lookup(fs.Arg(0))
	if len(found) == 0 {
		fmt.Fprintf(stderr, "dockopt explain: no rule %q; `dockopt rules` lists them\n", fs.Arg(0))
		return exitUsage
	}
	for i, r := range found {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprint(stdout, RuleDoc(r))
	}
	return 0
}

// RuleDoc renders a rule's documentation as Markdown; `dockopt explain` and
// the generated docs/rules pages share it.
func RuleDoc(r *analyzer.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", r.ID, r.Title)
	fmt.Fprintf(&b, "- Category: %s\n- Default severity: %s\n", r.Category, r.Severity)
	if r.Fix != "" {
		fmt.Fprintf(&b, "- Fix: yes (%s)\n", fixSafetyText(r.Fix))
	} else {
		fmt.Fprintf(&b, "- Fix: no (reported only)\n")
	}
	if len(r.Equivalents) > 0 {
		fmt.Fprintf(&b, "- Equivalents: %s\n", strings.Join(r.Equivalents, ", "))
	}
	fmt.Fprintf(&b, "\n## Why\n\n%s\n", r.Rationale)
	if r.Bad != "" {
		fmt.Fprintf(&b, "\n## Problem\n\n```dockerfile\n%s```\n", ensureNewline(r.Bad))
	}
	if r.Good != "" {
		fmt.Fprintf(&b, "\n## Better\n\n```dockerfile\n%s```\n", ensureNewline(r.Good))
	}
	fmt.Fprintf(&b, "\n## Waive it\n\nOn the next instruction: `# dockopt ignore=%s`; for the whole file: `# dockopt ignore-file=%s`; in `.github/dockopt.yml`: `rules: {%s: off}`.\n", r.ID, r.ID, r.ID)
	return b.String()
}

func fixSafetyText(s analyzer.Safety) string {
	if s == analyzer.Safe {
		return "safe: applied automatically, no change of behaviour expected"
	}
	return "review: changes behaviour a person should look at"
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
