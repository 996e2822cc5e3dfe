package templates_test

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/internal/testfiles"
	"github.com/dockopt/dockopt/templates"
)

// hostileNames are folder names a repository may choose that Markdown,
// HTML, a shell or a bidi-aware display would read as more than a name.
var hostileNames = []string{
	"we|ird [x](https:__evil.example)",
	"a`b <details open>",
	"x\u202eelif",
	"$(id)",
	"it's www.evil.example",
}

var unescapedPipe = regexp.MustCompile(`(^|[^\\])\|`)

// TestHostileNamesStayNames renders the report, the pull-request body and
// the check run of a repository whose folder names are Markdown, HTML,
// shell and a right-to-left override, and checks that each stays a name:
// no link, no HTML, no table cell of its own, no command substitution in
// the steps people copy, no bidi control.
func TestHostileNamesStayNames(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, name := range hostileNames {
		fsys[name+"/Dockerfile"] = &fstest.MapFile{Data: []byte("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nUSER root\nCMD npm start\n")}
	}
	in := input(t, "acme/weird", fsys)
	in.OptimizedAt = func(p string) string { return p + ".optimized" }
	report, err := templates.Report(in)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := templates.PullRequestBody(in, "REPORT.md")
	if err != nil {
		t.Fatal(err)
	}
	check, err := templates.CheckRun(in)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"report": report, "pull-request body": body, "check run": check.Summary + "\n" + check.Text}
	for what, out := range outputs {
		for _, name := range hostileNames {
			if strings.Contains(out, name) && strings.ContainsRune(name, '\u202e') {
				t.Errorf("%s shows the right-to-left override of %q as it is", what, name)
			}
		}
		// A <summary> line is HTML, where Markdown is not read: its name
		// must only be escaped as HTML.
		var markdown []string
		for _, line := range strings.Split(out, "\n") {
			if name, ok := strings.CutPrefix(line, "<summary><b>"); ok {
				name, _, _ = strings.Cut(name, "</b>")
				if strings.ContainsAny(name, "<>") {
					t.Errorf("%s: a summary holds HTML: %s", what, line)
				}
				continue
			}
			markdown = append(markdown, line)
		}
		plain := testfiles.OutsideCode(strings.Join(markdown, "\n"))
		for _, bad := range []string{"[x](https:__evil.example)", "<details open>", "www.evil.example"} {
			if strings.Contains(plain, bad) {
				t.Errorf("%s has %q outside code, where Markdown reads it:\n%s", what, bad, out)
			}
		}
		// Every row of a table has as many cells as its header.
		cells := -1
		for _, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "|") {
				cells = -1
				continue
			}
			n := len(unescapedPipe.FindAllString(line, -1))
			if cells < 0 {
				cells = n
			} else if n != cells {
				t.Errorf("%s: a table row has %d cell borders, its header %d:\n%s", what, n, cells, line)
			}
		}
	}
	if !strings.Contains(report, "docker build -t id:before -f '$(id)/Dockerfile' '$(id)'") {
		t.Errorf("the build step of $(id)/Dockerfile is not a quoted command:\n%s", report)
	}
	if !strings.Contains(report, `-f $'x\u202eelif/Dockerfile'`) {
		t.Errorf("the build step of the right-to-left folder does not escape it:\n%s", report)
	}
	if strings.Contains(report, "it's www") && !strings.Contains(report, `'it'\''s www.evil.example/Dockerfile'`) {
		t.Errorf("the build step of a folder with a quote is not quoted:\n%s", report)
	}
}

// TestUnknownBaseStaysAName checks the check run's list of files whose
// earlier version is unknown: their names come from the pull request's
// diff, which the repository chooses like its folder names.
func TestUnknownBaseStaysAName(t *testing.T) {
	fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte("FROM node:20\nCMD npm start\n")}}
	in := input(t, "acme/weird", fsys)
	name := "a` <details open> `b/Dockerfile"
	in.Judged = &templates.Judged{Mode: "new", PullRequest: true, Conclusion: "success", Threshold: "warning",
		Against: "the base branch `main`", UnknownBase: []string{name}}
	check, err := templates.CheckRun(in)
	if err != nil {
		t.Fatal(err)
	}
	out := check.Summary + "\n" + check.Text
	if !strings.Contains(out, "could not be rebuilt") {
		t.Fatalf("the check run does not list the file:\n%s", out)
	}
	if strings.Contains(testfiles.OutsideCode(out), "<details open>") {
		t.Errorf("the check run has a file name's <details open> outside code, where Markdown reads it:\n%s", out)
	}
}

// TestCheckRunLimitsAndWarningsStayText checks the check run's limits
// and configuration warnings, which quote what the repository wrote (a
// configuration key, a build context's folder) and which the report
// escapes.
func TestCheckRunLimitsAndWarningsStayText(t *testing.T) {
	fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte("FROM node:20\nCMD npm start\n")}}
	in := input(t, "acme/weird", fsys)
	warning := `.hadolint.yaml:1: unknown key "<details open>" ignored, as hadolint ignores it`
	in.Result.ConfigWarnings = []string{warning}
	in.Judged = &templates.Judged{Mode: "new", PullRequest: true, Conclusion: "success", Threshold: "warning",
		Against: "the base branch `main`", Warnings: []string{warning}}
	check, err := templates.CheckRun(in)
	if err != nil {
		t.Fatal(err)
	}
	out := check.Summary + "\n" + check.Text
	if !strings.Contains(out, "unknown key") {
		t.Fatalf("the check run does not show the warning:\n%s", out)
	}
	if strings.Contains(testfiles.OutsideCode(out), "<details open>") {
		t.Errorf("the check run has a configuration key's <details open> outside code, where Markdown reads it:\n%s", out)
	}
}
