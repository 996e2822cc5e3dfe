// Package review turns findings into one pull-request review: comments
// on the lines a pull request changes, each with a ```suggestion block that
// GitHub applies with one click. It is pure: the worker gives it the
// analysis, the pull request's diff and dockopt's earlier comments, and
// publishes the plan it returns.
//
// A suggestion replaces exactly the commented lines with the block's
// content, so each comment covers every line its fix edits, and the block
// holds those lines with the fix applied. Findings whose fix reaches lines
// outside the diff are left to the check run's annotations: GitHub refuses
// review comments there.
package review

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/templates"
)

// MaxComments is the most comments one review carries; the rest are
// summarised in its body. A review with more is hard to read, and each
// comment counts against GitHub's content-creation limits.
const MaxComments = 30

// maxBody is GitHub's limit on a review or comment body (platform-facts
// 3.5), less room for the marker.
const maxBody = 65536 - 200

// FileDiff says which lines of a file's new version a pull request's diff
// shows: Commentable lines (added or context) may carry review comments,
// Added lines are the ones the pull request wrote.
type FileDiff struct {
	Commentable map[int]bool
	Added       map[int]bool
}

// Diff is a pull request's diff by file path.
type Diff map[string]FileDiff

var hunkHeader = regexp.MustCompile(`^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@`)

// ParsePatch reads the "patch" of one file from pulls/list-files (unified
// diff hunks without the git header) into the RIGHT-side lines it shows.
func ParsePatch(patch string) FileDiff {
	d := FileDiff{Commentable: map[int]bool{}, Added: map[int]bool{}}
	right := 0
	for _, line := range strings.Split(patch, "\n") {
		if m := hunkHeader.FindStringSubmatch(line); m != nil {
			right, _ = strconv.Atoi(m[1])
			continue
		}
		if right == 0 {
			continue
		}
		switch {
		case strings.HasPrefix(line, "+"):
			d.Commentable[right], d.Added[right] = true, true
			right++
		case strings.HasPrefix(line, "-"), strings.HasPrefix(line, "\\"):
		default:
			d.Commentable[right] = true
			right++
		}
	}
	return d
}

// Comment is one review comment dockopt wants on a pull request.
type Comment struct {
	Path string
	// StartLine is the first line of a multi-line comment, 0 for one line.
	StartLine, Line int
	Rules           []string
	Severity        analyzer.Severity
	Message         string
	// Suggestion is the replacement of the commented lines.
	Suggestion  string
	Fingerprint string
	Body        string
}

// First is the comment's first line.
func (c Comment) First() int {
	if c.StartLine > 0 {
		return c.StartLine
	}
	return c.Line
}

// candidate is a finding with a fix that can become a suggestion.
type candidate struct {
	path     string
	df       *analyzer.Dockerfile
	findings []analyzer.Finding
	edits    []analyzer.TextEdit
	first    int // 1-based line range the edits touch
	last     int
}

// Build returns every comment dockopt would make on a pull request with
// diff, in path and line order, and how many findings stay annotations
// only because no suggestion for them can sit on the diff.
func Build(res *analyzer.Result, diff Diff, policy analyzer.Safety) (comments []Comment, elsewhere int) {
	for _, fr := range res.Files {
		if fr.Dockerfile == nil {
			continue
		}
		df := fr.Dockerfile
		var cands []candidate
		for _, f := range fr.Findings {
			if f.Fix == nil || len(f.Fix.Edits) == 0 || !policy.Allows(f.Fix.Safety) {
				elsewhere++
				continue
			}
			edits := f.Fix.Edits
			if _, err := analyzer.ApplyEdits(df.Source, edits); err != nil {
				elsewhere++
				continue
			}
			first, last := editLines(df, edits)
			cands = append(cands, candidate{path: fr.Path, df: df, findings: []analyzer.Finding{f}, edits: edits, first: first, last: last})
		}
		merged, dropped := mergeOverlaps(cands)
		elsewhere += dropped
		fd, inDiff := diff[fr.Path]
		for _, c := range merged {
			if !inDiff || !onDiff(fd, c.first, c.last) {
				elsewhere += len(c.findings)
				continue
			}
			comments = append(comments, c.comment())
		}
	}
	sort.SliceStable(comments, func(i, j int) bool {
		if comments[i].Path != comments[j].Path {
			return comments[i].Path < comments[j].Path
		}
		return comments[i].First() < comments[j].First()
	})
	return comments, elsewhere
}

// onDiff: every line is commentable and the pull request wrote at least
// one of them, so dockopt does not review code the pull request only
// shows as context.
func onDiff(fd FileDiff, first, last int) bool {
	added := false
	for l := first; l <= last; l++ {
		if !fd.Commentable[l] {
			return false
		}
		added = added || fd.Added[l]
	}
	return added
}

// mergeOverlaps joins fixes whose line ranges overlap into one comment:
// GitHub applies at most one suggestion per line in a batch. A fix whose
// edits collide with another's (the same bytes, or the same insertion
// point) is dropped to the annotations.
func mergeOverlaps(cands []candidate) (out []candidate, dropped int) {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].first < cands[j].first })
	for _, c := range cands {
		if n := len(out); n > 0 && c.first <= out[n-1].last {
			prev := &out[n-1]
			edits := slices.Concat(prev.edits, c.edits)
			// Two insertions at one offset overlap too (analyzer.Overlaps):
			// ApplyEdits would put them in either order, and appending
			// `&& rm …` and a package word at the end of one install made
			// `rm -rf /var/lib/apt/lists/* tini`.
			if analyzer.Overlaps(prev.edits, c.edits) {
				dropped += len(c.findings)
				continue
			}
			if _, err := analyzer.ApplyEdits(prev.df.Source, edits); err != nil {
				dropped += len(c.findings)
				continue
			}
			prev.edits = edits
			prev.findings = append(prev.findings, c.findings...)
			prev.first, prev.last = editLines(prev.df, edits)
			continue
		}
		out = append(out, c)
	}
	return out, dropped
}

// editLines is the range of lines the edits change: the line of each
// edit's first byte through the line of its last removed byte (or of its
// insertion point).
func editLines(df *analyzer.Dockerfile, edits []analyzer.TextEdit) (first, last int) {
	lastByte := max(len(df.Source)-1, 0)
	start := edits[0].Start
	for _, e := range edits {
		start = min(start, e.Start)
	}
	first = df.Line(min(start, lastByte))
	for _, e := range edits {
		end := e.Start
		if e.End > e.Start {
			end = e.End - 1
		}
		last = max(last, df.Line(min(end, lastByte)))
	}
	return first, last
}

func (c candidate) comment() Comment {
	// Lines first..last, with the last line's newline.
	src := c.df.Source
	from, to := c.df.Offset(c.first), c.df.Offset(c.last+1)
	original := src[from:to]
	// The edits were checked when the candidate was made. An edit may
	// reach past the region only by removing its final newline; editLines
	// put every removed byte's line inside. Past the region the fixed file
	// is the original, shifted by what the edits added.
	fixed, _ := analyzer.ApplyEdits(src, c.edits)
	end := to
	for _, e := range c.edits {
		end = max(end, e.End)
	}
	suggestion := string(fixed[from : end+len(fixed)-len(src)])
	if strings.HasSuffix(string(original), "\n") {
		suggestion = strings.TrimSuffix(suggestion, "\n")
	}
	suggestion = strings.ReplaceAll(suggestion, "\r\n", "\n")

	var rules []string
	worst := analyzer.SeverityInfo
	for _, f := range c.findings {
		rules = append(rules, f.Rule)
		worst = min(worst, f.Severity)
	}
	cm := Comment{Path: c.path, Line: c.last, Rules: rules, Severity: worst, Suggestion: suggestion,
		Fingerprint: Fingerprint(rules, c.path, string(original))}
	if c.first < c.last {
		cm.StartLine = c.first
	}
	cm.Message = c.findings[0].Message
	cm.Body = c.body(cm)
	return cm
}

// Fingerprint identifies a comment by what it is about rather than where
// it sits: its rules, file and the text of the commented lines. A push
// that moves the lines, or changes nothing, yields the same fingerprint.
func Fingerprint(rules []string, path, lines string) string {
	sorted := append([]string(nil), rules...)
	sort.Strings(sorted)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", strings.Join(sorted, ","), path)
	h.Write([]byte(strings.ReplaceAll(lines, "\r\n", "\n")))
	return hex.EncodeToString(h.Sum(nil))[:20]
}

var fingerprintMarker = regexp.MustCompile(`<!-- dockopt:fp=([0-9a-f]{20}) -->`)

// FingerprintOf returns the fingerprint a comment body carries, or "".
func FingerprintOf(body string) string {
	if m := fingerprintMarker.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// Fence returns a code fence longer than any run of backticks in s, so the
// suggestion cannot close it early.
func Fence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func (c candidate) body(cm Comment) string {
	var b strings.Builder
	review := false
	var created []string
	for _, f := range c.findings {
		// Messages quote what the repository wrote (names, commands):
		// escaped, they read as text, not as links or HTML.
		fmt.Fprintf(&b, "**%s** (%s): %s\n", f.Rule, f.Severity, templates.EscapeMarkdown(f.Message))
		if f.Fix.Message != "" && f.Fix.Message != f.Message {
			fmt.Fprintf(&b, "Fix: %s\n", templates.EscapeMarkdown(f.Fix.Message))
		}
		review = review || f.Fix.Safety == analyzer.Review
		for _, g := range f.Fix.Files {
			created = append(created, templates.CodeSpan(analyzer.PrintableName(g.Path)))
		}
		b.WriteString("\n")
	}
	if review {
		b.WriteString("This fix changes behaviour; check it before you apply it.\n\n")
	}
	fence := Fence(cm.Suggestion)
	b.WriteString(fence + "suggestion\n")
	if cm.Suggestion != "" {
		b.WriteString(cm.Suggestion + "\n")
	}
	b.WriteString(fence + "\n")
	if len(created) > 0 {
		fmt.Fprintf(&b, "\nThe full fix also writes %s, which a suggestion cannot create; `dockopt analyze --fix` does.\n", strings.Join(created, ", "))
	}
	fmt.Fprintf(&b, "\n`/dockopt explain %s` says why; %s waives it here.\n", c.findings[0].Rule,
		templates.CodeSpan("/dockopt ignore "+c.findings[0].Rule+" "+analyzer.PrintableName(c.path)))
	fmt.Fprintf(&b, "<!-- dockopt:fp=%s -->", cm.Fingerprint)
	return b.String()
}

// Existing is a review comment already on the pull request.
type Existing struct {
	ID        int64
	User      string
	Body      string
	InReplyTo int64
}

// Plan is what to publish on one pull request.
type Plan struct {
	// Post are the new comments of the review, at most MaxComments.
	Post []Comment
	// Summarised are new comments beyond the limit, listed in the body.
	Summarised []Comment
	// Delete are dockopt's own comments that no longer apply and that
	// nobody replied to.
	Delete []int64
	// Body is the review's body; "" when there is nothing new to post.
	Body string
}

// NewPlan compares what dockopt wants to say with what it said before: a
// comment whose fingerprint is already there is never repeated, and
// dockopt's comments that no longer apply are removed unless someone
// replied (then the conversation is theirs).
func NewPlan(want []Comment, existing []Existing, bot string, elsewhere int) Plan {
	said := map[string]bool{}
	replied := map[int64]bool{}
	for _, e := range existing {
		if e.InReplyTo != 0 {
			replied[e.InReplyTo] = true
		}
	}
	wanted := map[string]bool{}
	for _, c := range want {
		wanted[c.Fingerprint] = true
	}
	var p Plan
	for _, e := range existing {
		fp := FingerprintOf(e.Body)
		if !strings.EqualFold(e.User, bot) || fp == "" || e.InReplyTo != 0 {
			continue
		}
		said[fp] = true
		if !wanted[fp] && !replied[e.ID] {
			p.Delete = append(p.Delete, e.ID)
		}
	}
	var fresh []Comment
	for _, c := range want {
		if !said[c.Fingerprint] {
			fresh = append(fresh, c)
			said[c.Fingerprint] = true
		}
	}
	if len(fresh) == 0 {
		return p
	}
	if len(fresh) > MaxComments {
		p.Post, p.Summarised = fresh[:MaxComments], fresh[MaxComments:]
	} else {
		p.Post = fresh
	}
	p.Body = p.body(elsewhere)
	return p
}

func (p Plan) body(elsewhere int) string {
	var b strings.Builder
	n := len(p.Post)
	fmt.Fprintf(&b, "dockopt has %d %s for lines this pull request changes. Apply %s from the comments, or add several to a batch and commit them at once.\n",
		n, plural(n, "suggestion", "suggestions"), plural(n, "it", "them"))
	if len(p.Summarised) > 0 {
		fmt.Fprintf(&b, "\n%d more did not fit in one review (dockopt posts at most %d comments at a time; they follow once these are resolved):\n\n", len(p.Summarised), MaxComments)
		for i, c := range p.Summarised {
			line := fmt.Sprintf("- %s line %d: **%s** %s\n", templates.CodeSpan(analyzer.PrintableName(c.Path)), c.First(), strings.Join(c.Rules, ", "), templates.EscapeMarkdown(c.Message))
			if b.Len()+len(line) > maxBody-200 {
				fmt.Fprintf(&b, "- … and %d more; the check run lists them all.\n", len(p.Summarised)-i)
				break
			}
			b.WriteString(line)
		}
	}
	if elsewhere > 0 {
		fmt.Fprintf(&b, "\n%d other %s on lines this pull request does not change, or without a one-click fix, %s in the dockopt check run's annotations.\n",
			elsewhere, plural(elsewhere, "finding", "findings"), plural(elsewhere, "is", "are"))
	}
	b.WriteString("\n<!-- dockopt:review -->")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Apply replaces lines first..last (1-based) of src with a suggestion's
// content, the way GitHub commits an accepted suggestion.
func Apply(src, suggestion string, first, last int) string {
	lines := strings.SplitAfter(src, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	for _, l := range lines[:first-1] {
		b.WriteString(l)
	}
	if suggestion != "" {
		b.WriteString(suggestion)
		if last < len(lines) || strings.HasSuffix(lines[len(lines)-1], "\n") {
			b.WriteString("\n")
		}
	}
	for _, l := range lines[last:] {
		b.WriteString(l)
	}
	return b.String()
}
