package templates

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"strings"
	"sync"
	"text/template"
	"unicode/utf8"

	"github.com/dockopt/dockopt/analyzer"
)

//go:embed *.tmpl
var files embed.FS

// tmpl parses the templates on first use, not in init: `dockopt analyze`
// with text, JSON or SARIF output renders none of them.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"plural": plural,
		"md":     escapeInline,
		"code":   codePath,
		"cell":   cellPath,
		"htmlname": func(name string) string {
			return html.EscapeString(analyzer.PrintableName(name))
		},
		"sub": func(a, b int) int { return a - b },
	}).ParseFS(files, "*.tmpl"))
})

// markdownSpecial are the characters that can start emphasis, code, a
// link, HTML, a table cell or strikethrough in GitHub-flavoured Markdown.
var markdownSpecial = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`)

// escapeInline makes plain text (a finding's message, a file name in a
// sentence) render as itself: "**/__pycache__" is a glob, not bold text.
func escapeInline(s string) string { return escapeReferences(markdownSpecial.Replace(s)) }

// escapeReferences escapes each & that could start an HTML character
// reference ("&#x202E;", "&rlm;", "&lt;"): Markdown decodes one outside
// code, so a name or line a message quotes could otherwise hold a bidi
// control, shown as it is, that PrintableName and escapeControl would
// have escaped. A & followed by anything else ("&&") is left alone.
func escapeReferences(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '&' && i+1 < len(s) {
			if n := s[i+1]; n == '#' || n >= 'a' && n <= 'z' || n >= 'A' && n <= 'Z' {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// EscapeMarkdown is escapeInline for the App's own Markdown (review
// comments), which quotes the same findings.
func EscapeMarkdown(s string) string { return escapeInline(s) }

// codePath shows a path the repository chose as code: a backtick in it
// cannot end the span early and let the rest of the name be read as
// Markdown or HTML (a folder named "<details open>" folded the rest of a
// report away; one named "[x](https://…)" made a link of a heading), and
// a bidi control shows as its escape (analyzer.PrintableName).
func codePath(name string) string { return CodeSpan(analyzer.PrintableName(name)) }

// cellPath is codePath in a table cell, where a "|" ends the cell even
// inside code unless it is escaped.
func cellPath(name string) string { return strings.ReplaceAll(codePath(name), "|", `\|`) }

// GitHub's limits (platform-facts 3.1 and 3.5).
const (
	// MaxPRBody is the longest pull-request body GitHub accepts.
	MaxPRBody = 65536
	// MaxCheckOutput is the longest check-run summary or text.
	MaxCheckOutput = 65535
)

func execute(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := tmpl().ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("rendering %s: %w", name, err)
	}
	return tidy(b.String()), nil
}

// tidy collapses the blank lines template actions leave behind.
func tidy(s string) string {
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return strings.TrimSpace(s) + "\n"
}

// Report renders the full report (REPORT.md).
func Report(in Input) (string, error) {
	return execute("report", buildView(in))
}

// PullRequestBody renders the pull-request body within GitHub's limit. It
// keeps whole sections: when the per-file details do not all fit, the
// last ones are replaced by a pointer to the full report at reportPath,
// and truncated says the caller must commit that report.
func PullRequestBody(in Input, reportPath string) (body string, truncated bool, err error) {
	v := buildView(in)
	v.ReportPath = reportPath
	head, err := execute("pr_summary", v)
	if err != nil {
		return "", false, err
	}
	foot, err := execute("pr_footer", v)
	if err != nil {
		return "", false, err
	}
	var sections []string
	for _, f := range v.Files {
		s, err := execute("pr_file", f)
		if err != nil {
			return "", false, err
		}
		sections = append(sections, s)
	}
	var tail []string
	if v.Principles != nil || v.Changes != nil {
		rest := v
		rest.Files, rest.Broken = nil, nil
		s, err := execute("pr_rest", rest)
		if err != nil {
			return "", false, err
		}
		tail = append(tail, s)
	}
	// A pull-request description resolves no relative link: the report is
	// linked by its full address on the branch, or only named.
	report := "`" + reportPath + "`"
	if in.ReportURL != "" {
		report = "[" + report + "](" + in.ReportURL + ")"
	}
	pointer := func(omitted int) string {
		return fmt.Sprintf("*%d more Dockerfile section%s did not fit in this description; the full report is %s on this pull request's branch.*\n",
			omitted, plural(omitted), report)
	}
	budget := MaxPRBody - utf8.RuneCountInString(head) - utf8.RuneCountInString(foot) - 400
	var b strings.Builder
	b.WriteString(head)
	used := 0
	for i, s := range sections {
		n := utf8.RuneCountInString(s) + 2
		if used+n > budget {
			b.WriteString("\n" + pointer(len(sections)-i))
			truncated = true
			tail = nil
			break
		}
		b.WriteString("\n" + s)
		used += n
	}
	for _, t := range tail {
		if used+utf8.RuneCountInString(t) > budget {
			b.WriteString("\n*The principles, migration steps and file list are in the full report, " + report + ".*\n")
			truncated = true
			break
		}
		b.WriteString("\n" + t)
	}
	b.WriteString("\n" + foot)
	return tidy(b.String()), truncated, nil
}

// CheckOutput is the output of a check run.
type CheckOutput struct {
	Title   string
	Summary string
	Text    string
}

// CheckRun renders the check-run output; summary and text each stay within
// GitHub's limit, cut at a line boundary with a note when they must be.
func CheckRun(in Input) (CheckOutput, error) {
	v := buildView(in)
	out := CheckOutput{}
	j := v.Judged
	switch {
	case v.Totals.Findings == 0 && len(v.Broken) == 0:
		out.Title = "No problems found"
	case j != nil && j.Mode == "new" && j.New.Total() > 0:
		out.Title = fmt.Sprintf("%d new finding%s, %d existing", j.New.Total(), plural(j.New.Total()), j.Existing.Total())
	case j != nil && j.Mode == "new":
		out.Title = fmt.Sprintf("No new findings; %d existing in %d Dockerfile%s", j.Existing.Total(), v.Totals.Dockerfiles, plural(v.Totals.Dockerfiles))
	default:
		out.Title = fmt.Sprintf("%d finding%s in %d Dockerfile%s", v.Totals.Findings, plural(v.Totals.Findings), v.Totals.Dockerfiles, plural(v.Totals.Dockerfiles))
		if len(v.Broken) > 0 {
			out.Title += fmt.Sprintf(", %d not analyzable", len(v.Broken))
		}
	}
	var err error
	if out.Summary, err = execute("check_summary", v); err != nil {
		return out, err
	}
	if out.Text, err = execute("check_text", v); err != nil {
		return out, err
	}
	out.Summary = truncateLines(out.Summary, MaxCheckOutput)
	out.Text = truncateLines(out.Text, MaxCheckOutput)
	return out, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// truncateLines cuts s at a line boundary so that it fits limit runes with
// a closing note.
func truncateLines(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	const note = "\n\n*Truncated to fit GitHub's limit; see the annotations and the full report.*\n"
	budget := limit - utf8.RuneCountInString(note)
	var b strings.Builder
	n := 0
	for _, line := range strings.SplitAfter(s, "\n") {
		l := utf8.RuneCountInString(line)
		if n+l > budget {
			break
		}
		b.WriteString(line)
		n += l
	}
	return b.String() + note
}
