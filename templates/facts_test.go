package templates_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/templates"
)

// Each test here checks one kind of sentence of the report against the
// analysis of the optimized files, so that a fixed phrase that is false
// for some file cannot come back.

func monorepo(t *testing.T) (templates.Input, string) {
	t.Helper()
	in := input(t, "examples/monorepo", os.DirFS("../examples/monorepo"))
	report, err := templates.Report(in)
	if err != nil {
		t.Fatal(err)
	}
	return in, report
}

func ruleCounts(fs []analyzer.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Rule]++
	}
	return m
}

func changed(in templates.Input) []*patcher.File {
	var out []*patcher.File
	for _, f := range in.Patch.Files {
		if f.Changed() && f.After != nil {
			out = append(out, f)
		}
	}
	return out
}

// TestVerificationSaysWhatReanalysisFound: "nothing the original did not
// have" only where re-analysis of the optimized file finds no rule more
// often than the original; otherwise the sentence names each such rule.
// Static checks never read as a build.
func TestVerificationSaysWhatReanalysisFound(t *testing.T) {
	in, report := monorepo(t)
	sawNew := false
	for _, f := range changed(in) {
		sec := section(t, report, f.Path)
		before, after := ruleCounts(f.Before.Findings), ruleCounts(f.After.Findings)
		var added []string
		for r, n := range after {
			if n > before[r] {
				added = append(added, r)
			}
		}
		const none = "re-analysis finds nothing the original did not have"
		if len(added) == 0 != strings.Contains(sec, none) {
			t.Errorf("%s: new rules after the fix %v, but the section says otherwise:\n%s", f.Path, added, sec)
		}
		for _, r := range added {
			sawNew = true
			if !strings.Contains(sec, "`"+r+"`") || !strings.Contains(sec[strings.Index(sec, "### Still to do"):], "`"+r+"`") {
				t.Errorf("%s: the fix adds %s; verification and still-to-do must name it:\n%s", f.Path, r, sec)
			}
		}
		if !strings.Contains(sec, "Verification: static, no image built") {
			t.Errorf("%s: static verification should say it is static and built nothing:\n%s", f.Path, sec)
		}
	}
	if !sawNew {
		t.Fatal("the example no longer has a fix that adds a finding; this test checks nothing")
	}
	for _, claim := range []string{"measured", "Checked on BuildKit", "builds ✓"} {
		if strings.Contains(strings.ReplaceAll(report, "not measured", ""), claim) {
			t.Errorf("no build ran, yet the report says %q", claim)
		}
	}
}

// TestNonRootClaims: "runs as ... instead of root" only where the optimized
// file's final user is non-root and the original's was root.
func TestNonRootClaims(t *testing.T) {
	in, report := monorepo(t)
	isRoot := func(u string) bool { return u == "" || analyzer.IsRootUser(u) }
	checked := 0
	for _, f := range changed(in) {
		sec := section(t, report, f.Path)
		before, after := analyzer.FinalUser(f.Before.Dockerfile), analyzer.FinalUser(f.After.Dockerfile)
		gained := isRoot(before) && !isRoot(after)
		says := strings.Contains(sec, "instead of root")
		if gained != says {
			t.Errorf("%s: final user %q → %q, but \"instead of root\" said: %v\n%s", f.Path, before, after, says, sec)
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("only %d changed files", checked)
	}
	// web/stage ran as node before: nothing may claim it stopped running as root.
	if sec := section(t, report, "web/stage/Dockerfile"); strings.Contains(sec, "instead of root") {
		t.Errorf("web/stage already ran as node:\n%s", sec)
	}
	// A user name is what runAsNonRoot cannot check.
	if regexp.MustCompile("`USER [a-z]+` .*runAsNonRoot").MatchString(report) {
		t.Errorf("a named USER is claimed to satisfy runAsNonRoot:\n%s", report)
	}
}

// TestGeneratedFilesSayWhatTheyAre: "extracted from an inline RUN" only for
// files the inline-config-file fix extracted.
func TestGeneratedFilesSayWhatTheyAre(t *testing.T) {
	in, report := monorepo(t)
	extracted := map[string]bool{}
	for _, f := range in.Patch.Files {
		for _, a := range f.Applied {
			if a.Rule == "inline-config-file" {
				for _, g := range f.Generated {
					extracted[g.Path] = true
				}
			}
		}
	}
	if len(extracted) == 0 {
		t.Fatal("the example extracts no inline config any more; this test checks nothing")
	}
	for _, c := range in.Patch.Changes {
		says := strings.Contains(c.Why, "extracted from an inline RUN")
		isConfig := !strings.HasSuffix(c.Path, ".dockerignore") && !strings.HasSuffix(c.Path, "Dockerfile")
		if says != (extracted[c.Path] && isConfig) {
			t.Errorf("%s: described as %q, extracted by a fix: %v", c.Path, c.Why, extracted[c.Path] && isConfig)
		}
	}
	if !strings.Contains(report, "| `website/nginx/default.conf` | create | new nginx configuration") {
		t.Errorf("the rewrite's nginx config should read as new:\n%s", report)
	}
}

// TestPythonEnvFixExplainsItsOwnVariable: a fix that sets only
// PYTHONDONTWRITEBYTECODE is explained with bytecode, not with buffering.
func TestPythonEnvFixExplainsItsOwnVariable(t *testing.T) {
	fsys := fstest.MapFS{
		"Dockerfile":       {Data: []byte("FROM python:3.12-slim\nENV PYTHONUNBUFFERED=1\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nUSER 1000\nEXPOSE 8000\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n")},
		"requirements.txt": {Data: []byte("flask==3.0.0\ngunicorn==23.0.0\n")},
		"app.py":           {Data: []byte("from flask import Flask\napp = Flask(__name__)\n")},
	}
	a := analyzer.New(rules.All())
	res, err := a.Analyze(t.Context(), fsys, ".", analyzer.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Files[0].Findings {
		if f.Rule != "python-env-missing" {
			continue
		}
		found = true
		for _, s := range []string{f.Message, f.Fix.Message} {
			if !strings.Contains(s, ".pyc") || strings.Contains(s, "PYTHONUNBUFFERED") || strings.Contains(s, "logs") {
				t.Errorf("explains more than the missing PYTHONDONTWRITEBYTECODE: %q", s)
			}
		}
	}
	if !found {
		t.Fatal("python-env-missing did not fire")
	}
	// The Why shown for any fix of the rule fits either variable.
	r := a.Lookup("python-env-missing")[0]
	first, _, _ := strings.Cut(r.Rationale, ". ")
	if !strings.Contains(first, "PYTHONUNBUFFERED") || !strings.Contains(first, "PYTHONDONTWRITEBYTECODE") {
		t.Errorf("the rationale's first sentence should cover both variables: %q", first)
	}
}

// TestFindingsAndFixesAgree: what a finding asks for is what the fix or the
// rewrite writes (MAINTAINER's label, the nginx security headers).
func TestFindingsAndFixesAgree(t *testing.T) {
	in, _ := monorepo(t)
	var website *patcher.File
	for _, f := range in.Patch.Files {
		if f.Path == "website/Dockerfile" {
			website = f
		}
	}
	if website == nil {
		t.Fatal("website/Dockerfile was not patched")
	}
	patched := string(website.Patched)
	if !strings.Contains(patched, "LABEL org.opencontainers.image.authors=") || strings.Contains(patched, "maintainer=") {
		t.Errorf("maintainer-deprecated asks for org.opencontainers.image.authors; the fix wrote:\n%s", patched)
	}
	// The plain rule fix, without a rewrite, writes the same label.
	fsys := fstest.MapFS{"Dockerfile": {Data: []byte("FROM alpine:3.20\nMAINTAINER Jane Doe <jane@example.com>\nUSER 1000\n")}}
	min := input(t, "maintainer", fsys)
	if got := string(min.Patch.Files[0].Patched); !strings.Contains(got, "LABEL org.opencontainers.image.authors=") {
		t.Errorf("MAINTAINER fix wrote:\n%s", got)
	}

	var conf string
	for _, c := range in.Patch.Changes {
		if c.Path == "website/nginx/default.conf" {
			conf = string(c.Content)
		}
	}
	var asked []string
	for _, fr := range in.Result.Files {
		for _, f := range fr.Findings {
			if f.Rule == "nginx-missing-security-headers" {
				asked = append(asked, regexp.MustCompile(`add_header [^;]+;`).FindAllString(f.Message, -1)...)
			}
		}
	}
	if len(asked) == 0 || conf == "" {
		t.Fatalf("nothing to compare: headers asked %v, generated config %d bytes", asked, len(conf))
	}
	for _, h := range asked {
		if !strings.Contains(conf, h) {
			t.Errorf("the finding asks for %q; the generated config does not send it:\n%s", h, conf)
		}
	}
}

// TestNoFalseEquivalents: Kubernetes' shareProcessNamespace does not do
// what --init does, and curl is not a shared library.
func TestNoFalseEquivalents(t *testing.T) {
	in, report := monorepo(t)
	for _, r := range rules.All() {
		if strings.Contains(r.Rationale, "shareProcessNamespace") && !strings.Contains(r.Rationale, "does not pass SIGTERM") {
			t.Errorf("%s offers shareProcessNamespace as an init: %s", r.ID, r.Rationale)
		}
	}
	for _, fr := range in.Result.Files {
		for _, f := range fr.Findings {
			if strings.Contains(f.Message, "shareProcessNamespace") {
				t.Errorf("%s: %s", f.Rule, f.Message)
			}
		}
	}
	for _, line := range strings.Split(report, "\n") {
		if strings.Contains(line, "librar") && strings.Contains(line, "`curl`") {
			t.Errorf("curl is a tool, not a library the built code loads: %s", line)
		}
	}
}

var overviewRow = regexp.MustCompile("(?m)^\\| \\d+ \\| \\[`([^`]+)`\\]\\([^)]*\\) \\| [^|]+ \\| (\\d+) \\| (\\d+) \\| (\\d+) \\|$")
var prRow = regexp.MustCompile("(?m)^\\| `([^`]+)` \\| [^|]+ \\| (\\d+) \\| (\\d+) \\| (\\d+) \\|$")
var figures = regexp.MustCompile(`(\d+) Dockerfiles? analyzed: (\d+) findings? .*The proposed changes to (\d+) files? resolve (\d+) of them; (\d+) findings? remains?(?:, (\d+) of them introduced)?`)

// TestFiguresAgree: the "resolved" column counts findings of the original
// that the optimized file no longer has (a finding the fix adds does not
// reduce it), and report, PR body and templates.Summary (the CLI's line)
// state the same figures.
func TestFiguresAgree(t *testing.T) {
	in, report := monorepo(t)
	body, _, err := templates.PullRequestBody(in, ".dockopt/REPORT.md")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]int{}
	var resolved, left, added int
	for _, f := range changed(in) {
		before, after := ruleCounts(f.Before.Findings), ruleCounts(f.After.Findings)
		r, n := 0, 0
		for rule, c := range before {
			r += max(0, c-after[rule])
		}
		for rule, c := range after {
			n += max(0, c-before[rule])
		}
		want[f.Path] = [3]int{len(f.Before.Findings), r, len(f.After.Findings)}
		resolved, left, added = resolved+r, left+len(f.After.Findings), added+n
	}
	for name, rows := range map[string][][]string{"report": overviewRow.FindAllStringSubmatch(report, -1), "PR body": prRow.FindAllStringSubmatch(body, -1)} {
		if len(rows) != len(want) {
			t.Fatalf("%s: %d rows, want %d", name, len(rows), len(want))
		}
		for _, row := range rows {
			var got [3]int
			for i := range got {
				got[i], _ = strconv.Atoi(row[i+2])
			}
			if got != want[row[1]] {
				t.Errorf("%s: %s findings/resolved/left %v, want %v", name, row[1], got, want[row[1]])
			}
		}
	}
	s := templates.Summary(in)
	if s.Resolved != resolved || s.Left != left || s.New != added || s.Findings != 61 || s.Dockerfiles != 4 {
		t.Errorf("Summary %+v, want resolved %d left %d new %d", s, resolved, left, added)
	}
	wantSentence := []string{strconv.Itoa(s.Dockerfiles), strconv.Itoa(s.Findings), strconv.Itoa(s.Changed), strconv.Itoa(s.Resolved), strconv.Itoa(s.Left), strconv.Itoa(s.New)}
	for name, doc := range map[string]string{"report": report, "PR body": body} {
		m := figures.FindStringSubmatch(doc)
		if m == nil || strings.Join(m[1:], " ") != strings.Join(wantSentence, " ") {
			t.Errorf("%s states %q, want figures %v", name, m, wantSentence)
		}
	}
}

// TestExpectedImprovements: outcomes, not fix titles again, and the basis
// said once per file.
func TestExpectedImprovements(t *testing.T) {
	in, report := monorepo(t)
	for _, f := range changed(in) {
		sec := section(t, report, f.Path)
		i := strings.Index(sec, "### Expected improvements")
		if i < 0 {
			t.Errorf("%s: no expected improvements", f.Path)
			continue
		}
		exp := sec[i:]
		if j := strings.Index(exp[3:], "###"); j >= 0 {
			exp = exp[:j+3]
		}
		for _, a := range f.Applied {
			if strings.Contains(strings.ToLower(exp), strings.ToLower(a.Message)) {
				t.Errorf("%s: expected improvements repeat the fix %q:\n%s", f.Path, a.Message, exp)
			}
		}
		if n := strings.Count(exp, "not measured"); n != 1 {
			t.Errorf("%s: the estimate's basis is said %d times, want once:\n%s", f.Path, n, exp)
		}
	}
}

// TestLocalReportCommands: a CLI report speaks of no branch, and its
// commands work from the folder the CLI ran in (here the repository root).
func TestLocalReportCommands(t *testing.T) {
	in, _ := monorepo(t)
	in.Local, in.Root, in.OutDir = true, "examples/monorepo", "/tmp/dockopt-out"
	report, err := templates.Report(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"this branch", "base branch", "pull request"} {
		if strings.Contains(report, s) {
			t.Errorf("a local report speaks of %q", s)
		}
	}
	if !strings.Contains(report, "cp -r /tmp/dockopt-out/. examples/monorepo/ && rm -f examples/monorepo/REPORT.md") {
		t.Errorf("the copy step must land the files in the analyzed folder:\n%s", report)
	}
	builds := regexp.MustCompile("docker build -t \\S+ -f (\\S+) (\\S+)`").FindAllStringSubmatch(report, -1)
	if len(builds) == 0 {
		t.Fatal("no build commands")
	}
	for _, b := range builds {
		// The tests run in templates/: the repository root is "..".
		if st, err := os.Stat("../" + b[1]); err != nil || st.IsDir() {
			t.Errorf("-f %s is no file from the repository root", b[1])
		}
		if st, err := os.Stat("../" + b[2]); err != nil || !st.IsDir() {
			t.Errorf("context %s is no folder from the repository root", b[2])
		}
	}

	// Nothing written: the report says how to get the files, not which branch has them.
	in.OutDir = ""
	report, err = templates.Report(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(report, "branch") || !strings.Contains(report, "dockopt analyze --out /tmp/dockopt-out examples/monorepo") {
		t.Errorf("a run that wrote nothing should say how to write the files:\n%s", report[strings.Index(report, "## Migration"):])
	}
}

// links returns the destinations of the Markdown links in doc.
func links(doc string) []string {
	src := []byte(doc)
	var out []string
	ast.Walk(markdown.Parser().Parse(text.NewReader(src)), func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			out = append(out, string(l.Destination))
		}
		return ast.WalkContinue, nil
	})
	return out
}

// TestTruncatedBodyLinksTheReportOnTheBranch: GitHub resolves no relative
// link in a PR description.
func TestTruncatedBodyLinksTheReportOnTheBranch(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := 0; i < 200; i++ {
		fsys["svc"+strconv.Itoa(1000+i)+"/Dockerfile"] = &fstest.MapFile{Data: []byte(
			"FROM python:3.12\nRUN apt-get update && apt-get install -y gcc curl\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD python /app/main.py\n")}
		fsys["svc"+strconv.Itoa(1000+i)+"/requirements.txt"] = &fstest.MapFile{Data: []byte("flask==3.0.0\n")}
	}
	in := input(t, "big", fsys)
	const url = "https://github.com/acme/shop/blob/dockopt/main/.dockopt/REPORT.md"
	in.ReportURL = url
	body, truncated, err := templates.PullRequestBody(in, ".dockopt/REPORT.md")
	if err != nil {
		t.Fatal(err)
	}
	if !truncated || !strings.Contains(body, "[`.dockopt/REPORT.md`]("+url+")") {
		t.Errorf("a truncated body must link the report by its full URL")
	}
	for _, l := range links(body) {
		if !strings.HasPrefix(l, "https://") {
			t.Errorf("relative link %q in the PR body", l)
		}
	}
}

// TestInlineTextIsEscaped: text from findings renders as itself, so a glob
// like **/__pycache__ is not bold.
func TestInlineTextIsEscaped(t *testing.T) {
	in, _ := monorepo(t)
	check, err := templates.CheckRun(in)
	if err != nil {
		t.Fatal(err)
	}
	var html strings.Builder
	if err := markdown.Convert([]byte(check.Text), &html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "**/__pycache__") || strings.Contains(html.String(), "<strong>/") {
		t.Errorf("the dockerignore-incomplete message should render **/__pycache__ literally:\n%s", html.String())
	}
}

// TestRepeatedFindingsMerge: one line per rule, however often a file
// repeats it, with the first line numbers and a count of the rest.
func TestRepeatedFindingsMerge(t *testing.T) {
	var b strings.Builder
	b.WriteString("FROM debian:12\n")
	for range 50 {
		b.WriteString("RUN cd /tmp && true\n")
	}
	in := input(t, "many", fstest.MapFS{"Dockerfile": {Data: []byte(b.String())}})
	report, err := templates.Report(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(report, "`workdir-not-cd`"); n != 1 {
		t.Errorf("workdir-not-cd listed %d times, want once:\n%s", n, report)
	}
	if !strings.Contains(report, "`workdir-not-cd` 2, 3, 4, 5, 6, 7, 8, 9, … (50 findings) warning") {
		t.Errorf("want the first lines and a count of the rest:\n%s", report)
	}
}
