// Package verdict judges an analysis against the one before it: which
// findings a change introduced and which were already there, what the
// check run concludes under the repository's checks.fail_on, and which
// findings become annotations within GitHub's limits. It is pure: the
// worker gives it the two analyses (or the stored fingerprints of the
// earlier one) and publishes what it returns.
//
// A finding is matched across the two analyses by a fingerprint that
// survives moved lines: its rule, its file, the text of the instruction
// it is on with whitespace and line continuations normalized, and its
// position among the findings with that same rule, file and text. An
// edit above a finding, or a blank line, leaves it "existing"; an edit of
// the instruction itself makes it new.
//
// A finding that files generated from one template share (an
// analyzer.FindingGroup) is judged in every file, so that a new variant
// can fail the check, but counted, listed and annotated once, at the
// template: new when any file's copy of it is.
package verdict

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/templates"
)

// MaxAnnotations caps the annotations of one check run: two of GitHub's
// 50-annotation requests. The findings beyond it are counted in the
// summary and listed in the check run's text.
const MaxAnnotations = 100

// Baseline is the earlier analysis a result is judged against.
type Baseline struct {
	// Fingerprints of the earlier analysis; nil with Known false when
	// there is none (a branch dockopt analyzes for the first time).
	Fingerprints []string
	Known        bool
	// Against names the earlier analysis for people: "the base branch
	// `main`", "`main` at 1a2b3c4d5e6f".
	Against string
	// Unknown are files whose earlier version could not be rebuilt: their
	// findings count as existing, and the summary says so.
	Unknown []string
}

// Item is one judged finding, or a file that could not be analyzed
// (Finding.Rule is then empty and Error says why). A finding generated
// files share is one item, its group's lead, new when any file's copy is.
type Item struct {
	Finding analyzer.Finding
	Error   string
	// Template is set when the file that could not be analyzed is a
	// template of Dockerfiles.
	Template bool
	// Index is the finding's position in its file's Findings, -1 for a
	// file error.
	Index int
	New   bool
}

func (it Item) severity() analyzer.Severity {
	if it.Error != "" {
		return analyzer.SeverityError
	}
	return it.Finding.Severity
}

// level is how serious the item's annotation is, which orders them: a
// template need not read as a Dockerfile, so one that does not is a notice.
func (it Item) level() analyzer.Severity {
	if it.Error != "" && it.Template {
		return analyzer.SeverityInfo
	}
	return it.severity()
}

// Judgement is the verdict on one analysis.
type Judgement struct {
	// Mode is the checks.fail_on that judged it.
	Mode       string
	Threshold  analyzer.Severity
	Conclusion string
	// Items are every finding (a shared one once) and broken file, new
	// ones first, then by the level of their annotation and the path and
	// line they are shown at.
	Items    []Item
	Baseline Baseline
	// Kind says what was judged: a pull request or a push.
	Kind Kind
}

// Kind is what a judgement is about.
type Kind int

const (
	Push Kind = iota
	PullRequest
)

// Fingerprints returns the fingerprint of every finding and broken file of
// res, in no particular order. rename maps a path to the one its findings
// are recorded under (the head's name of a file a pull request renamed).
func Fingerprints(res *analyzer.Result, rename map[string]string) []string {
	var out []string
	for _, fr := range res.Files {
		out = append(out, fileFingerprints(fr, rename)...)
	}
	return out
}

// fileFingerprints is parallel to fr.Findings; a broken file has one.
func fileFingerprints(fr *analyzer.FileResult, rename map[string]string) []string {
	renamed := func(p string) string {
		if to, ok := rename[p]; ok {
			return to
		}
		return p
	}
	if fr.Error != "" {
		return []string{hash("!unanalyzable", renamed(fr.Path), "", 0)}
	}
	seen := map[string]int{}
	out := make([]string, len(fr.Findings))
	for i, f := range fr.Findings {
		text := ""
		if f.Path == fr.Path {
			text = instructionText(fr.Dockerfile, f.Line)
		}
		key := f.Rule + "\x00" + f.Path + "\x00" + text
		out[i] = hash(f.Rule, renamed(f.Path), text, seen[key])
		seen[key]++
	}
	return out
}

func hash(rule, path, text string, n int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", rule, path, text, n)
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// instructionText is the normalized text of the instruction on a line, or
// of the line itself when no instruction covers it (a comment, a file's
// first line for a file-wide finding).
func instructionText(df *analyzer.Dockerfile, line int) string {
	if df == nil || line < 1 {
		return ""
	}
	for in := range df.Each("") {
		if in.StartLine <= line && line <= in.EndLine && in.End <= len(df.Source) && in.Start <= in.End {
			return normalize(in.Text(df.Source), df.Escape)
		}
	}
	if line > df.LineCount() {
		return ""
	}
	return normalize(string(df.Source[df.Offset(line):df.LineEnd(line)]), df.Escape)
}

// normalize joins continued lines and collapses runs of white space, so
// that re-indenting or re-wrapping an instruction keeps its findings.
func normalize(s string, escape rune) string {
	if escape == 0 {
		escape = '\\'
	}
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		t := strings.TrimRight(l, " \t")
		if i < len(lines)-1 {
			t = strings.TrimSuffix(t, string(escape))
		}
		b.WriteString(t)
		b.WriteByte(' ')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Judge compares res with its baseline under a repository's policy.
func Judge(res *analyzer.Result, base Baseline, kind Kind, cfg *analyzer.Config) Judgement {
	j := Judgement{Mode: cfg.FailOn(), Threshold: cfg.Threshold(), Baseline: base, Kind: kind}
	old := map[string]int{}
	for _, fp := range base.Fingerprints {
		old[fp]++
	}
	unknown := map[string]bool{}
	for _, p := range base.Unknown {
		unknown[p] = true
	}
	for _, fr := range res.Files {
		fps := fileFingerprints(fr, nil)
		if fr.Error != "" {
			j.Items = append(j.Items, Item{Finding: analyzer.Finding{Path: fr.Path, Line: 1, EndLine: 1}, Error: fr.Error, Template: fr.Template, Index: -1,
				New: base.Known && !unknown[fr.Path] && old[fps[0]] == 0})
			continue
		}
		for i, f := range fr.Findings {
			isNew := base.Known && !unknown[f.Path] && old[fps[i]] == 0
			if !isNew && old[fps[i]] > 0 {
				old[fps[i]]--
			}
			j.Items = append(j.Items, Item{Finding: f, Index: i, New: isNew})
		}
	}
	// Every file's copy of a shared finding is judged; it is then shown once.
	j.Conclusion = j.conclude()
	j.Items = foldShared(j.Items)
	slices.SortStableFunc(j.Items, func(a, b Item) int {
		if a.New != b.New {
			if a.New {
				return -1
			}
			return 1
		}
		pa, la := a.place()
		pb, lb := b.place()
		return cmp.Or(cmp.Compare(a.level(), b.level()), cmp.Compare(pa, pb), cmp.Compare(la, lb))
	})
	return j
}

// place is where the item is shown: a shared finding at its group's.
func (it Item) place() (path string, line int) {
	if g := it.Finding.Group; g != nil {
		path, line, _ = g.Where()
		return path, line
	}
	return it.Finding.Path, it.Finding.Line
}

// foldShared folds the copies of each shared finding into its group's lead,
// which is new when any copy is.
func foldShared(items []Item) []Item {
	fresh := map[*analyzer.FindingGroup]bool{}
	for _, it := range items {
		if g := it.Finding.Group; g != nil && it.New {
			fresh[g] = true
		}
	}
	out := items[:0]
	for _, it := range items {
		if it.Finding.Repeats() {
			continue
		}
		if g := it.Finding.Group; g != nil {
			it.New = fresh[g]
		}
		out = append(out, it)
	}
	return out
}

// judged reports whether an item counts toward the conclusion.
func (j Judgement) judged(it Item) bool {
	switch j.Mode {
	case analyzer.FailOnNever:
		return false
	case analyzer.FailOnAll:
		return true
	}
	return it.New
}

func (j Judgement) fails(it Item) bool {
	if it.Error != "" {
		return true
	}
	return j.Threshold != analyzer.SeverityOff && it.Finding.Severity <= j.Threshold
}

func (j Judgement) conclude() string {
	if len(j.Items) == 0 {
		return "success"
	}
	for _, it := range j.Items {
		if j.judged(it) && j.fails(it) {
			return "failure"
		}
	}
	return "neutral"
}

// Count is how many new and existing items there are.
func (j Judgement) Count() (fresh, existing int) {
	for _, it := range j.Items {
		if it.New {
			fresh++
		} else {
			existing++
		}
	}
	return fresh, existing
}

// annotated are the items that get annotations: the new ones when the
// change is judged on what it adds, every one otherwise.
func (j Judgement) annotated() []Item {
	var out []Item
	for _, it := range j.Items {
		if it.New || j.Mode != analyzer.FailOnNew {
			out = append(out, it)
		}
	}
	return out
}

// Annotations are the check run's annotations: one per line range that
// carries annotated findings, new ones first, then most serious first, at
// most MaxAnnotations. A finding generated files share is annotated once,
// at its template's line when that is known, saying which files hold it.
// left counts the line ranges beyond the cap.
func (j Judgement) Annotations() (out []*github.CheckRunAnnotation, left int) {
	type span struct {
		path       string
		start, end int
	}
	groups := map[span][]Item{}
	var order []span
	for _, it := range j.annotated() {
		it.Finding, _ = it.Finding.Once()
		s := span{it.Finding.Path, max(it.Finding.Line, 1), max(it.Finding.EndLine, it.Finding.Line, 1)}
		if _, ok := groups[s]; !ok {
			order = append(order, s)
		}
		groups[s] = append(groups[s], it)
	}
	for i, s := range order {
		if i == MaxAnnotations {
			return out, len(order) - i
		}
		items := groups[s]
		out = append(out, annotation(s.path, s.start, s.end, items))
	}
	return out, 0
}

func annotation(path string, start, end int, items []Item) *github.CheckRunAnnotation {
	worst := analyzer.SeverityInfo
	var rules, lines []string
	for _, it := range items {
		worst = min(worst, it.level())
		if it.Error != "" {
			rules = append(rules, "not analyzable")
			lines = append(lines, it.Error)
			continue
		}
		rules = append(rules, it.Finding.Rule)
		msg := it.Finding.Message
		if it.Finding.Fix != nil {
			msg += fmt.Sprintf(" (dockopt has a %s fix)", it.Finding.Fix.Safety)
		}
		if len(items) > 1 {
			msg = it.Finding.Rule + ": " + msg
		}
		lines = append(lines, msg)
	}
	level := "notice"
	switch worst {
	case analyzer.SeverityError:
		level = "failure"
	case analyzer.SeverityWarning:
		level = "warning"
	}
	return &github.CheckRunAnnotation{
		Path: github.String(path), StartLine: github.Int(start), EndLine: github.Int(end),
		AnnotationLevel: github.String(level), Title: github.String(clip(strings.Join(rules, ", "), 255)),
		Message: github.String(clip(strings.Join(lines, "\n"), 64000)),
	}
}

// Summary is what the check run's title and summary say about the
// judgement; warnings are configuration problems that did not stop the
// run. notAnnotated is Annotations' left.
func (j Judgement) Summary(warnings []string, notAnnotated int) *templates.Judged {
	out := &templates.Judged{Mode: j.Mode, Against: j.Baseline.Against, NotAnnotated: notAnnotated, Warnings: warnings,
		UnknownBase: j.Baseline.Unknown, Conclusion: j.Conclusion, PullRequest: j.Kind == PullRequest, FirstRun: !j.Baseline.Known,
		Threshold: j.Threshold.String(), NewAt: map[string][]bool{}}
	type tally struct {
		worst analyzer.Severity
		n     int
	}
	byRule := map[string]*tally{}
	for _, it := range j.Items {
		c := &out.Existing
		if it.New {
			c = &out.New
			if it.Index >= 0 {
				marks := out.NewAt[it.Finding.Path]
				for len(marks) <= it.Index {
					marks = append(marks, false)
				}
				marks[it.Index] = true
				out.NewAt[it.Finding.Path] = marks
			}
		}
		switch it.severity() {
		case analyzer.SeverityError:
			c.Errors++
		case analyzer.SeverityWarning:
			c.Warnings++
		default:
			c.Infos++
		}
		if it.New || j.Mode != analyzer.FailOnNew {
			continue
		}
		rule := it.Finding.Rule
		if it.Error != "" {
			rule = "not analyzable"
		}
		t := byRule[rule]
		if t == nil {
			t = &tally{worst: analyzer.SeverityInfo}
			byRule[rule] = t
		}
		t.n++
		t.worst = min(t.worst, it.severity())
	}
	for _, rule := range slices.SortedFunc(maps.Keys(byRule), func(a, b string) int {
		return cmp.Or(cmp.Compare(byRule[a].worst, byRule[b].worst), cmp.Compare(byRule[b].n, byRule[a].n), cmp.Compare(a, b))
	}) {
		out.ExistingByRule = append(out.ExistingByRule, templates.RuleCount{Rule: rule, Severity: byRule[rule].worst.String(), Count: byRule[rule].n})
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
