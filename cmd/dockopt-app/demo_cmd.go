package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockopt/dockopt/app/demo"
	"github.com/dockopt/dockopt/internal/cli"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	out := fs.String("out", "", "folder for the pull-request body (default: a new temporary folder)")
	pr := fs.Bool("pr", false, "open a sample pull request by a person and show dockopt's review with suggestions")
	const head = "usage: dockopt-app demo [--json] [DIR]\n       dockopt-app demo --pr [--json]\n\nRuns the GitHub App end to end on this machine against a built-in fake GitHub:\nDIR (default examples/monorepo) is pushed to a repository where dockopt is installed,\nand the pull request and check run dockopt makes are shown.\nWith --pr, a sample pull request by a person is opened instead, and dockopt's review\nwith one-click suggestions is shown.\n"
	if code, done := cli.Parse(fs, head, args, stdout, stderr); done {
		return code
	}
	if *pr {
		if fs.NArg() > 0 {
			fs.Usage()
			return 2
		}
		return runDemoPR(ctx, *asJSON, stdout, stderr)
	}
	dir := "examples/monorepo"
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "dockopt-app demo: %s is not a directory\n", dir)
		return 2
	}
	bodyDir := *out
	if bodyDir == "" {
		var err error
		if bodyDir, err = os.MkdirTemp("", "dockopt-demo-out-"); err != nil {
			fmt.Fprintln(stderr, "dockopt-app demo:", err)
			return 1
		}
	}
	res, err := demo.Run(ctx, dir, bodyDir, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dockopt-app demo:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "Pushed %s to a fake GitHub where dockopt is installed.\n\n", filepath.ToSlash(dir))
	fmt.Fprintf(stdout, "Check run:    %s, %s (%s)\n", res.CheckRun.Conclusion, cli.Plural(res.CheckRun.Annotations, "annotation"), res.CheckRun.Title)
	if res.CheckRun.Why != "" {
		fmt.Fprintf(stdout, "  why:        %s\n", res.CheckRun.Why)
	}
	if pr := res.PullRequest; pr != nil {
		fmt.Fprintf(stdout, "Pull request: #%d %s\n", pr.Number, pr.Title)
		fmt.Fprintf(stdout, "  body:       %s\n", res.BodyPath)
		fmt.Fprintf(stdout, "  files:      %s\n", strings.Join(pr.Files, "\n              "))
	} else {
		fmt.Fprintln(stdout, "Pull request: none (nothing to change)")
	}
	fmt.Fprintf(stdout, "\n%s (+%s for the clone), %d ms\n", cli.Plural(res.GitHubCalls, "GitHub API call"), cli.Plural(res.GitRequests, "git request"), res.ElapsedMS)
	return 0
}

func runDemoPR(ctx context.Context, asJSON bool, stdout, stderr io.Writer) int {
	res, err := demo.RunPR(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dockopt-app demo:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "Opened pull request #%d %q on a fake GitHub where dockopt is installed.\n\n", res.Number, res.Title)
	fmt.Fprintf(stdout, "Check run: %s, %s (%s)\n\n", res.CheckRun.Conclusion, cli.Plural(res.CheckRun.Annotations, "annotation"), res.CheckRun.Title)
	if res.Review == "" {
		fmt.Fprintln(stdout, "Review: none (nothing to suggest on the changed lines)")
	} else {
		fmt.Fprintf(stdout, "Review (%s):\n\n%s\n", cli.Plural(len(res.Comments), "comment"), indent(res.Review))
	}
	for _, c := range res.Comments {
		where := fmt.Sprintf("%s line %d", c.Path, c.Line)
		if c.StartLine > 0 {
			where = fmt.Sprintf("%s lines %d-%d", c.Path, c.StartLine, c.Line)
		}
		fmt.Fprintf(stdout, "\n--- comment on %s ---\n%s\n", where, indent(c.Body))
	}
	for path, text := range res.Applied {
		fmt.Fprintf(stdout, "\n--- %s after accepting every suggestion ---\n%s", path, indent(text))
	}
	fmt.Fprintf(stdout, "\n%s (+%s for the clone), %d ms\n", cli.Plural(res.GitHubCalls, "GitHub API call"), cli.Plural(res.GitRequests, "git request"), res.ElapsedMS)
	return 0
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
