// Package templates renders what people read: the optimization report
// (REPORT.md), the pull-request body and the check-run output, from
// embedded text/template files and a view model built from the analysis,
// the patch and, when a builder ran, the measured builds.
package templates

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/imagedata"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/patcher/build"
)

// Input is everything a report is made from.
type Input struct {
	// Title names the repository or folder ("acme/shop", "examples/monorepo").
	Title    string
	Analyzer *analyzer.Analyzer
	Result   *analyzer.Result
	Patch    *patcher.Result
	// Builds are measured BuildKit builds, keyed by Dockerfile path.
	Builds map[string]BuildPair
	// Policy is the fix safety applied.
	Policy analyzer.Safety
	// RuleURL links a rule ID to its explanation.
	RuleURL func(id string) string
	// Waived are the rule waivers in force (configuration and
	// `/dockopt ignore`), listed so nothing is silently missing.
	Waived []analyzer.IgnoreEntry
	// OptimizedAt returns where the optimized version of a Dockerfile can
	// be found by the reader (an --out folder, a sibling file); nil means
	// in place, on the pull request's branch.
	OptimizedAt func(path string) string
	// OutDir is the folder `--out` wrote the changed files to, mirroring
	// the repository; the optimized images are built from a copy of the
	// repository with those files laid over it, since generated files
	// (.dockerignore, extracted configs) belong in the build contexts.
	OutDir string
	// ImageSize estimates the compressed size of a base image in MB from a
	// dated table, and says where the figure comes from.
	ImageSize func(ref analyzer.ImageRef) (mb float64, basis string, ok bool)
	// Local says the report is read after a CLI run, not on a pull
	// request: there is no "this branch" to speak of.
	Local bool
	// Root is the analyzed folder as the reader names it from where they
	// run commands (the repository root, for the CLI the working folder);
	// "" is that folder itself. Commands in the report are prefixed with it.
	Root string
	// ReportURL is the full report's address on the pull request's branch
	// (https://github.com/OWNER/REPO/blob/BRANCH/.dockopt/REPORT.md): a
	// pull-request description does not resolve relative links.
	ReportURL string
	// Judged, when set, says which findings a change introduced and how
	// the check run's conclusion was reached; the check run's title and
	// summary then lead with it.
	Judged *Judged
}

// Judged is how a check run judged an analysis against the one before.
type Judged struct {
	// Mode is checks.fail_on: new, all or never.
	Mode string
	// Against names the earlier analysis ("the base branch `main`").
	Against string
	// FirstRun: there was no earlier analysis of the branch.
	FirstRun    bool
	PullRequest bool
	Conclusion  string
	// Threshold is the failure threshold's name.
	Threshold     string
	New, Existing Counts
	// ExistingByRule summarizes the existing findings, which get no
	// annotations when only new ones are judged.
	ExistingByRule []RuleCount
	// NotAnnotated counts annotated line ranges beyond the cap.
	NotAnnotated int
	// UnknownBase are files whose earlier version is unknown.
	UnknownBase []string
	// Warnings are configuration problems that did not stop the run.
	Warnings []string
	// NewAt marks, per path, which of its findings (by index) are new.
	NewAt map[string][]bool
}

// Counts are findings by severity.
type Counts struct{ Errors, Warnings, Infos int }

// Total is the number of findings.
func (c Counts) Total() int { return c.Errors + c.Warnings + c.Infos }

// RuleCount is how many findings of one rule there are.
type RuleCount struct {
	Rule     string
	Severity string
	Count    int
	URL      string
}

// BuildPair is the original and optimized build of one Dockerfile.
type BuildPair struct {
	Original, Optimized Build
	// Rejected is the optimized image with every fix, when it did not
	// build, start or become healthy and fixes were dropped for it.
	Rejected *Build
}

// Build is one measured build.
type Build struct {
	OK             bool
	DurationMS     int64
	CompressedSize int64
	Layers         int
	User           string
	Error          string
	// Smoke is what starting the image showed; its Ran is false when
	// the image was not started.
	Smoke build.Smoke
}

// BuildPairOf converts a build report for the templates.
func BuildPairOf(rep patcher.BuildReport) BuildPair {
	p := BuildPair{Original: buildOf(rep.Original), Optimized: buildOf(rep.Optimized)}
	if rep.Rejected != nil {
		r := buildOf(*rep.Rejected)
		p.Rejected = &r
	}
	return p
}

func buildOf(r build.Result) Build {
	return Build{OK: r.OK, DurationMS: r.Duration.Milliseconds(), CompressedSize: r.CompressedSize, Layers: r.Layers, User: r.User, Error: r.Error, Smoke: r.Smoke}
}

// DefaultRuleURL points at the generated rule docs in dockopt's repository.
func DefaultRuleURL(id string) string {
	return "https://github.com/dockopt/dockopt/blob/main/docs/rules/" + id + ".md"
}

// view is what the templates see.
type view struct {
	Judged      *Judged
	Waived      []analyzer.IgnoreEntry
	Suppressed  int
	Title       string
	Files       []fileView
	Clean       []fileView
	Broken      []fileView
	Principles  []principle
	Changes     []changeView
	Migration   []migrationStep
	Totals      totals
	Policy      string
	DroppedAny  bool
	ReportPath  string
	ReportURL   string
	Truncated   bool
	OmittedFile int
	// Local: a CLI run, not a pull request; Built: a BuildKit build ran.
	Local, Built bool
	// AllChecked: every proposed Dockerfile parses, converts to a
	// BuildKit graph and is a fixed point.
	AllChecked bool
	// RulesURL is where every rule is explained.
	RulesURL string
	// Unread and Limits are what the analysis did not cover.
	Unread []analyzer.Skipped
	Limits []analyzer.Limit
}

// totals are the figures the CLI summary, the report and the PR body
// share (see Summary).
type totals struct {
	Dockerfiles, Findings, Errors, Warnings, Infos, Applied, Dropped, Changed int
	// Resolved are findings of the original files that the proposed files
	// no longer have; Left are the findings of the proposed files, New
	// those of them the changes introduced.
	Resolved, Left, New int
}

type fileView struct {
	Index     int
	Path      string
	Anchor    string
	Kind      string
	KindTitle string
	Error     string
	// Strengths are what the file does well, briefly.
	Strengths []string
	// Issues are the findings merged per rule, in groups by what they
	// cost; Each lists them one by one (the check run's text).
	Issues    []issueGroup
	Each      []issueView
	Applied   []appliedView
	Dropped   []droppedView
	Remaining []issueView
	Expect    []expectation
	// Basis says once what the expected improvements rest on.
	Basis    string
	Verified string
	Build    *BuildPair
	Proof    []string
	Findings int
	// Shared counts findings listed once under SharedWith, because one
	// template generates both files.
	Shared     int
	SharedWith string
	// Resolved, Left and New: see totals.
	Resolved, Left, New int
	Context             string
	Dockerfile          string
	Changed             bool
	// HasDetails: the applied changes have rationale or details to show.
	HasDetails bool
	RulesURL   string
}

// issueGroup is findings of one category, one line per rule and message.
type issueGroup struct {
	Category string
	Items    []issueView
}

type issueView struct {
	New   bool
	Rule  string
	URL   string
	Title string
	Line  int
	Lines string
	Count int
	// NewCount is how many of Count the changes introduced.
	NewCount int
	Severity string
	Message  string
	Fixable  bool
}

type appliedView struct {
	Details []string
	N       int
	// Count is how many times the fix was applied in the file.
	Count   int
	Rule    string
	URL     string
	Title   string
	Message string
	Why     string
	Safety  string
	Auto    bool
}

// droppedView is fixes of one rule and message not applied for one
// reason, merged like findings.
type droppedView struct {
	Rule, Message, Reason, Lines string
	Count                        int
}

func mergeDropped(ds []patcher.Dropped) []droppedView {
	var out []droppedView
	var lines [][]int
	at := map[[3]string]int{}
	for _, d := range ds {
		key := [3]string{d.Rule, d.Message, d.Reason}
		if i, ok := at[key]; ok {
			out[i].Count++
			if l := lines[i]; len(l) <= maxListedLines && l[len(l)-1] != d.Line {
				lines[i] = append(l, d.Line)
			}
			continue
		}
		at[key] = len(out)
		out = append(out, droppedView{Rule: d.Rule, Message: d.Message, Reason: d.Reason, Count: 1})
		lines = append(lines, []int{d.Line})
	}
	for i := range out {
		out[i].Lines = lineList(lines[i], out[i].Count)
	}
	return out
}

type expectation struct {
	Dimension string
	Text      string
}

type principle struct {
	Name string
	// Items are Markdown: a rule ID in code, or escaped text.
	Items []string
}

// changeView is the files changed the same way for the same reason, so
// that each reason is said once.
type changeView struct {
	Paths  []string
	Action string
	Why    string
}

func groupChanges(cs []patcher.Change) []changeView {
	var out []changeView
	at := map[[2]string]int{}
	for _, c := range cs {
		key := [2]string{c.Action, c.Why}
		if i, ok := at[key]; ok {
			out[i].Paths = append(out[i].Paths, c.Path)
			continue
		}
		at[key] = len(out)
		out = append(out, changeView{Paths: []string{c.Path}, Action: c.Action, Why: c.Why})
	}
	return out
}

type migrationStep struct {
	Phase string
	Steps []string
}

var kindTitles = map[string]string{
	analyzer.KindStaticSite:    "Static site",
	analyzer.KindNodeService:   "Node.js service",
	analyzer.KindPythonService: "Python service",
	analyzer.KindGoService:     "Go service",
	analyzer.KindJavaService:   "Java service",
	analyzer.KindRubyService:   "Ruby service",
	analyzer.KindPHPService:    "PHP service",
	analyzer.KindRustService:   "Rust service",
	analyzer.KindDotnetService: ".NET service",
	analyzer.KindWindows:       "Windows image",
	analyzer.KindGeneric:       "Image",
}

// categoryDimension maps a rule category to the improvement it buys.
var categoryDimension = map[analyzer.Category]string{
	analyzer.CategorySize:            "Image size",
	analyzer.CategoryBuildCache:      "Build time",
	analyzer.CategorySecurity:        "Security",
	analyzer.CategoryReliability:     "Reliability",
	analyzer.CategoryMaintainability: "Maintainability",
}

var principleNames = map[analyzer.Category]string{
	analyzer.CategoryBuildCache:      "Layer caching",
	analyzer.CategorySecurity:        "Security hardening",
	analyzer.CategorySize:            "Image size reduction",
	analyzer.CategoryReliability:     "Production reliability",
	analyzer.CategoryMaintainability: "Maintainability",
}

// RulesURL is where dockopt's rules are explained, one page each.
const RulesURL = "https://github.com/dockopt/dockopt/tree/main/docs/rules"

// Figures are the numbers every output states the same way: the CLI's
// summary line, the report's overview and the pull-request body.
type Figures struct {
	Dockerfiles, Findings int
	// Resolved are findings of the original files the proposed files no
	// longer have; Left are the proposed files' findings, New those of
	// them the changes introduced. Changed counts the files changed.
	Resolved, Left, New, Changed int
}

// Summary returns the figures of an analysis and its patch.
func Summary(in Input) Figures {
	if in.Patch == nil {
		// Without a patch the figures are counts (`dockopt analyze` with
		// text output asks for them after every run): the whole view,
		// with rule titles, groups and strengths, is not needed.
		return countFindings(in.Result)
	}
	t := buildView(in).Totals
	return Figures{Dockerfiles: t.Dockerfiles, Findings: t.Findings, Resolved: t.Resolved, Left: t.Left, New: t.New, Changed: t.Changed}
}

// countFindings is Summary's figures of an analysis with no patch, as
// buildView counts them: every file is a Dockerfile; the findings of the
// files that parsed count, but a finding that files generated from one
// template share counts once; all are left.
func countFindings(res *analyzer.Result) Figures {
	var f Figures
	if res == nil {
		return f
	}
	for _, fr := range res.Files {
		f.Dockerfiles++
		if fr.Error != "" {
			continue
		}
		for _, fd := range fr.Findings {
			if !fd.Repeats() {
				f.Findings++
			}
		}
	}
	f.Left = f.Findings
	return f
}

// resolution compares the findings of a file before and after its patch
// rule by rule: as many findings of a rule as disappeared are resolved,
// as many as appeared are new. Line numbers move, so they are not
// compared.
func resolution(before []analyzer.Finding, after []analyzer.Finding) (resolved, left, added int, newRules map[string]int) {
	b, a := map[string]int{}, map[string]int{}
	for _, f := range before {
		b[f.Rule]++
	}
	for _, f := range after {
		a[f.Rule]++
	}
	newRules = map[string]int{}
	for r, n := range b {
		resolved += max(0, n-a[r])
	}
	for r, n := range a {
		if d := n - b[r]; d > 0 {
			added += d
			newRules[r] = d
		}
	}
	return resolved, len(after), added, newRules
}

func buildView(in Input) view {
	if in.RuleURL == nil {
		in.RuleURL = DefaultRuleURL
	}
	if in.ImageSize == nil {
		in.ImageSize = imagedata.CompressedSizeMB
	}
	v := view{Title: in.Title, Policy: string(in.Policy), Waived: in.Waived, Unread: printableUnread(in.Result.Unread), Limits: in.Result.Limits(), Judged: in.Judged,
		Local: in.Local, ReportURL: in.ReportURL, RulesURL: RulesURL, Built: len(in.Builds) > 0}
	if j := v.Judged; j != nil {
		cp := *j
		cp.ExistingByRule = append([]RuleCount(nil), j.ExistingByRule...)
		for i := range cp.ExistingByRule {
			cp.ExistingByRule[i].URL = ruleURL(in, cp.ExistingByRule[i].Rule)
		}
		v.Judged = &cp
	}
	for _, f := range in.Result.Files {
		v.Suppressed += f.Suppressed
	}
	patched := map[string]*patcher.File{}
	if in.Patch != nil {
		for _, f := range in.Patch.Files {
			patched[f.Path] = f
		}
	}
	// principles: per category, each kind of fix once with the paths of
	// the files it was applied to (numbered once the files are).
	v.AllChecked = allChecked(in.Patch)
	principles := map[analyzer.Category][]string{}
	appliedIn := map[string][]string{}
	addPrinciple := func(c analyzer.Category, label, path string) {
		if _, ok := appliedIn[label]; !ok {
			principles[c] = append(principles[c], label)
		}
		if ps := appliedIn[label]; len(ps) == 0 || ps[len(ps)-1] != path {
			appliedIn[label] = append(ps, path)
		}
	}
	n := 0
	for _, fr := range in.Result.Files {
		v.Totals.Dockerfiles++
		fv := fileView{Path: fr.Path, Kind: fr.Kind, KindTitle: kindTitles[fr.Kind], Error: fr.Error, Strengths: briefStrengths(fr.Strengths),
			Context: fr.Context, Dockerfile: fr.Path, RulesURL: RulesURL}
		if fv.KindTitle == "" {
			fv.KindTitle = "Dockerfile"
		}
		if fr.Error != "" {
			v.Broken = append(v.Broken, fv)
			continue
		}
		var isNew []bool
		if in.Judged != nil {
			isNew = in.Judged.NewAt[fr.Path]
		}
		var listed []analyzer.Finding
		var issues []issueView
		for i, f := range fr.Findings {
			// Findings that files generated from one template share are
			// listed once, under the file that leads the group; the lead
			// is new when any file's copy is (see verdict.Judge).
			if f.Repeats() {
				fv.Shared++
				fv.SharedWith = f.Group.Files[0].Path
				continue
			}
			listed = append(listed, f)
			msg := f.Message
			if f.Group != nil {
				msg += " (" + f.Group.Note() + ")"
			}
			issues = append(issues, issueView{Rule: f.Rule, URL: in.RuleURL(f.Rule), Title: ruleTitle(in, f.Rule, msg), Line: f.Line, Severity: f.Severity.String(), Message: msg, Fixable: f.Fix != nil,
				New: i < len(isNew) && isNew[i]})
			v.Totals.Findings++
			switch f.Severity {
			case analyzer.SeverityError:
				v.Totals.Errors++
			case analyzer.SeverityWarning:
				v.Totals.Warnings++
			default:
				v.Totals.Infos++
			}
		}
		fv.Issues = groupIssues(in, issues)
		fv.Each = issues
		fv.Findings = len(listed)
		fv.Left = len(listed)
		if pf := patched[fr.Path]; pf != nil {
			fv.Changed = pf.Changed()
			for _, a := range pf.Applied {
				rule := lookup(in.Analyzer, a.Rule)
				av := appliedView{Rule: a.Rule, URL: in.RuleURL(a.Rule), Title: a.Title, Message: capitalize(a.Message),
					Safety: string(a.Safety), Auto: a.Safety == analyzer.Safe}
				if strings.HasPrefix(a.Rule, "rewrite:") && pf.Rewrite != nil {
					av.Details = pf.Rewrite.Explanation
					av.URL = ""
					label := capitalize(a.Message)
					if pf.After != nil && pf.After.Dockerfile != nil && len(pf.After.Dockerfile.Stages) > 1 {
						// The steps are listed under the file; here the principle.
						label = "Multi-stage rewrite"
					}
					addPrinciple(analyzer.CategorySize, escapeInline(label), fr.Path)
				}
				if rule != nil {
					av.Why = firstSentence(rule.Rationale)
					// The fix is described under its file; its rule names it here.
					addPrinciple(rule.Category, "`"+a.Rule+"`", fr.Path)
				}
				if len(av.Details) > 0 {
					fv.HasDetails = true
				}
				// One line per rule and message: a file can repeat one fix
				// on thousands of lines.
				if k := len(fv.Applied); k > 0 && fv.Applied[k-1].Rule == av.Rule && fv.Applied[k-1].Message == av.Message && len(av.Details) == 0 {
					fv.Applied[k-1].Count++
					continue
				}
				av.N = len(fv.Applied) + 1
				av.Count = 1
				fv.Applied = append(fv.Applied, av)
			}
			fv.Dropped = mergeDropped(pf.Dropped)
			v.Totals.Applied += len(pf.Applied)
			v.Totals.Dropped += len(pf.Dropped)
			if pf.After != nil && fv.Changed {
				var newRules map[string]int
				fv.Resolved, fv.Left, fv.New, newRules = resolution(listed, pf.After.Findings)
				for _, f := range pf.After.Findings {
					fv.Remaining = append(fv.Remaining, issueView{Rule: f.Rule, URL: in.RuleURL(f.Rule), Title: ruleTitle(in, f.Rule, f.Message), Line: f.Line, Severity: f.Severity.String(), Message: f.Message,
						New: newRules[f.Rule] > 0})
				}
				fv.Remaining = mergeIssues(fv.Remaining)
				beforeRules := map[string]int{}
				for _, f := range listed {
					beforeRules[f.Rule]++
				}
				for i := range fv.Remaining {
					if n := newRules[fv.Remaining[i].Rule]; n > 0 {
						fv.Remaining[i].NewCount = min(n, fv.Remaining[i].Count)
					}
				}
				_, built := in.Builds[fr.Path]
				fv.Verified = verificationText(pf.Verification, built, v.AllChecked, fv.New, newRules, beforeRules)
				fv.Expect, fv.Basis = expectations(in, fr, pf, listed)
			}
		}
		v.Totals.Resolved += fv.Resolved
		v.Totals.Left += fv.Left
		v.Totals.New += fv.New
		if b, ok := in.Builds[fr.Path]; ok {
			bb := b
			fv.Build = &bb
			fv.Proof = proof(b, fv.Changed)
		}
		if len(fr.Findings) == 0 && !fv.Changed {
			v.Clean = append(v.Clean, fv)
			continue
		}
		n++
		fv.Index = n
		fv.Anchor = anchor(fmt.Sprintf("%d %s %s", n, fv.KindTitle, analyzer.PrintableName(fv.Path)))
		if fv.Changed {
			v.Totals.Changed++
		}
		if len(fv.Dropped) > 0 {
			v.DroppedAny = true
		}
		v.Files = append(v.Files, fv)
	}
	index := map[string]int{}
	for _, f := range v.Files {
		index[f.Path] = f.Index
	}
	for _, c := range analyzer.Categories {
		labels := principles[c]
		if len(labels) == 0 {
			continue
		}
		sort.Strings(labels)
		p := principle{Name: principleNames[c]}
		for _, l := range labels {
			var at []string
			for _, path := range appliedIn[l] {
				if i := index[path]; i > 0 {
					at = append(at, strconv.Itoa(i))
				}
			}
			if len(at) > 0 {
				l += " (" + strings.Join(at, ", ") + ")"
			}
			p.Items = append(p.Items, l)
		}
		v.Principles = append(v.Principles, p)
	}
	if in.Patch != nil {
		v.Changes = groupChanges(in.Patch.Changes)
	}
	v.Migration = migration(in, v)
	return v
}

// ruleTitle is a rule's title, or the message for what is not a rule.
func ruleTitle(in Input, id, msg string) string {
	if r := lookup(in.Analyzer, id); r != nil && r.Title != "" {
		return r.Title
	}
	return msg
}

// groupIssues merges findings of one rule and message into one line that
// names every line they are on, and groups the lines by category in the
// order of the categories, most serious first within each.
func groupIssues(in Input, issues []issueView) []issueGroup {
	merged := mergeIssues(issues)
	byCat := map[string][]issueView{}
	var order []string
	for _, is := range merged {
		cat := "Other"
		if r := lookup(in.Analyzer, is.Rule); r != nil {
			cat = categoryDimension[r.Category]
		}
		if _, ok := byCat[cat]; !ok {
			order = append(order, cat)
		}
		byCat[cat] = append(byCat[cat], is)
	}
	rank := map[string]int{}
	for i, d := range dimensions {
		rank[d] = i + 1
	}
	sort.SliceStable(order, func(i, j int) bool {
		ri, rj := rank[order[i]], rank[order[j]]
		if ri == 0 {
			ri = len(dimensions) + 1
		}
		if rj == 0 {
			rj = len(dimensions) + 1
		}
		return ri < rj
	})
	sevRank := map[string]int{"error": 0, "warning": 1, "info": 2}
	var out []issueGroup
	for _, c := range order {
		items := byCat[c]
		sort.SliceStable(items, func(i, j int) bool { return sevRank[items[i].Severity] < sevRank[items[j].Severity] })
		out = append(out, issueGroup{Category: c, Items: items})
	}
	return out
}

// mergeIssues joins findings of the same rule (and, for what has no
// title, the same message) into one line listing their lines, the first
// few of them when there are many: a hostile file can repeat one
// finding on every one of its lines.
func mergeIssues(issues []issueView) []issueView {
	var out []issueView
	var lines [][]int
	at := map[string]int{}
	for _, is := range issues {
		key := is.Rule + "\x00" + is.Title
		if is.Title == "" {
			key = is.Rule + "\x00" + is.Message
		}
		if i, ok := at[key]; ok {
			o := &out[i]
			o.Count++
			if l := lines[i]; len(l) <= maxListedLines && l[len(l)-1] != is.Line {
				lines[i] = append(l, is.Line)
			}
			o.New = o.New || is.New
			o.Fixable = o.Fixable || is.Fixable
			if o.Message != is.Message {
				o.Message = ""
			}
			continue
		}
		is.Count = 1
		at[key] = len(out)
		out = append(out, is)
		lines = append(lines, []int{is.Line})
	}
	for i := range out {
		out[i].Lines = lineList(lines[i], out[i].Count)
	}
	return out
}

// maxListedLines is how many line numbers one merged finding lists.
const maxListedLines = 8

// lineList names the distinct lines of count findings (lines holds up to
// maxListedLines+1 of them, in order), with the total when not every
// finding is on a listed line of its own.
func lineList(lines []int, count int) string {
	var b strings.Builder
	for i, l := range lines {
		if i == maxListedLines {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(l))
	}
	if count > min(len(lines), maxListedLines) {
		fmt.Fprintf(&b, " (%d findings)", count)
	}
	return b.String()
}

// ruleURL links a rule, or nothing for what is not one ("not analyzable").
func ruleURL(in Input, id string) string {
	if in.Analyzer != nil && len(in.Analyzer.Lookup(id)) == 0 {
		return ""
	}
	return in.RuleURL(id)
}

func lookup(a *analyzer.Analyzer, id string) *analyzer.Rule {
	if a == nil {
		return nil
	}
	if rs := a.Lookup(id); len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// allChecked reports whether every changed Dockerfile passed every static
// check, so that the report can say it once.
func allChecked(p *patcher.Result) bool {
	if p == nil {
		return false
	}
	n := 0
	for _, f := range p.Files {
		if !f.Changed() || f.After == nil {
			continue
		}
		n++
		if v := f.Verification; v.Error != "" || !v.Parsed || !v.Converted || !v.Idempotent {
			return false
		}
	}
	return n > 0
}

// verificationText says what was checked of the optimized file and what
// the re-analysis found, each claim only when it holds. It describes a
// static check; builds are reported apart (proof) when they ran.
//
// When every proposed file passed every check, the overview says so once
// (allChecked) and each file says only what differs: builds and new findings.
func verificationText(v patcher.Verification, built, allChecked bool, added int, newRules, before map[string]int) string {
	if v.Error != "" {
		return "incomplete: " + v.Error
	}
	var checked []string
	if v.Parsed {
		checked = append(checked, "parses")
	}
	if v.Converted {
		checked = append(checked, "converts to a BuildKit graph")
	}
	if v.Idempotent {
		checked = append(checked, "is a fixed point")
	}
	s := "static, no image built: it " + joinAnd(checked)
	if built {
		s = "static, besides the builds below: it " + joinAnd(checked)
	}
	if allChecked {
		s = "static, no image built"
		if built {
			s = "static, besides the builds below"
		}
	}
	if added == 0 {
		return s + "; re-analysis finds nothing the original did not have"
	}
	var what []string
	for _, r := range slices.Sorted(maps.Keys(newRules)) {
		switch n := newRules[r]; {
		case before[r] == 0:
			what = append(what, "`"+r+"`")
		case n == 1:
			what = append(what, "one more `"+r+"`")
		default:
			what = append(what, fmt.Sprintf("%d more `%s`", n, r))
		}
	}
	return s + fmt.Sprintf("; re-analysis finds %d new finding%s (%s)", added, plural(added), strings.Join(what, ", "))
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// proof describes each build of a Dockerfile as a line a reader can check:
// "builds ✓, starts ✓, healthy ✓", naming only what was run, with the
// reason for every ✗.
func proof(b BuildPair, changed bool) []string {
	lines := []string{"original: " + outcome(b.Original)}
	if o := b.Original.Smoke; b.Original.OK && o.Ran && !o.Started {
		if o.ExitCode == 0 {
			lines[0] += "; it ends by itself (a command rather than a service?), so starting proves nothing here and no fix is blamed for it"
		} else {
			lines[0] += "; it does not start without what it needs at run time (a database, a network, arguments?), so starting proves nothing here and no fix is blamed for it"
		}
	}
	if b.Rejected != nil {
		lines = append(lines, "with every fix: "+outcome(*b.Rejected)+"; the fixes under \"Not applied\" were dropped for it")
	}
	if !changed {
		return append(lines, "no change is proposed for this file")
	}
	return append(lines, "as proposed: "+outcome(b.Optimized))
}

func outcome(b Build) string {
	if !b.OK {
		return "builds ✗" + because(b.Error)
	}
	s := b.Smoke
	switch {
	case s.Skipped != "":
		return "builds ✓, start not checked (" + s.Skipped + ")"
	case !s.Ran:
		return "builds ✓"
	case !s.Started:
		return "builds ✓, starts ✗ (" + s.Reason + ")" + because(s.Output)
	case !s.Healthcheck:
		return "builds ✓, starts ✓, no health check"
	case s.HealthSkipped != "":
		return "builds ✓, starts ✓, health not checked (" + s.HealthSkipped + ")"
	case !s.Healthy:
		return "builds ✓, starts ✓, healthy ✗ (" + s.Reason + ")"
	}
	return "builds ✓, starts ✓, healthy ✓"
}

// because quotes the last line of a failure's output.
func because(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return ""
	}
	return ": " + CodeSpan(last)
}

// CodeSpan quotes s as Markdown code, with a backtick run longer than any
// in s so that output cannot end the span early.
func CodeSpan(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// strengthGain says briefly what gaining a strength means, for the
// expected improvements ("%s" is the strength's detail, the user).
var strengthGain = map[string]string{
	"multi-stage": "a multi-stage build", "slim-base": "a slim final base image", "apt-lists-cleaned": "apt lists removed in the layer that fetches them",
	"copy-chown": "ownership set by COPY --chown, not a chown layer", "cache-mounts": "BuildKit cache mounts for package downloads",
	"dockerignore": "a .dockerignore", "healthcheck": "a HEALTHCHECK", "exec-form-cmd": "an exec-form CMD that receives signals",
	"init-process": "an init that forwards signals and reaps zombies", "workdir": "an absolute WORKDIR", "pinned-base": "a pinned base image",
}

// briefStrengths names strengths the way the seed report does ("multi-stage
// build, non-root user"), keeping the detail a label cannot guess.
func briefStrengths(ss []analyzer.Strength) []string {
	var out []string
	for _, s := range ss {
		switch g := strengthGain[s.ID]; {
		case s.ID == "non-root-user":
			out = append(out, s.Message)
		case s.ID == "slim-base":
			out = append(out, s.Message)
		case g != "":
			out = append(out, strings.TrimPrefix(strings.TrimPrefix(g, "a "), "an "))
		default:
			out = append(out, s.Message)
		}
	}
	return out
}

// strengthDimension says which improvement a newly gained strength is.
var strengthDimension = map[string]string{
	"multi-stage": "Image size", "slim-base": "Image size", "apt-lists-cleaned": "Image size", "copy-chown": "Image size",
	"cache-mounts": "Build time", "dockerignore": "Build time",
	"non-root-user": "Security", "pinned-base": "Security",
	"healthcheck": "Reliability", "exec-form-cmd": "Reliability", "init-process": "Reliability",
	"workdir": "Maintainability",
}

var dimensions = []string{"Image size", "Build time", "Security", "Reliability", "Maintainability"}

// expectations says what the changes buy, per dimension: measured by a
// build when one ran, else estimated from facts about the optimized file
// (strengths it gained, findings it resolved, base-image sizes from a
// dated table). basis says once what the figures rest on.
func expectations(in Input, fr *analyzer.FileResult, pf *patcher.File, before []analyzer.Finding) (out []expectation, basis string) {
	b, measured := in.Builds[fr.Path]
	measured = measured && b.Original.OK && b.Optimized.OK
	items := map[string][]string{}
	var resolved []string
	if measured {
		items["Image size"] = append(items["Image size"], fmt.Sprintf("%s → %s compressed (%s), %d → %d layers, measured",
			mb(b.Original.CompressedSize), mb(b.Optimized.CompressedSize), delta(b.Original.CompressedSize, b.Optimized.CompressedSize), b.Original.Layers, b.Optimized.Layers))
		items["Build time"] = append(items["Build time"], fmt.Sprintf("%.1f s → %.1f s on a cold cache, measured", float64(b.Original.DurationMS)/1000, float64(b.Optimized.DurationMS)/1000))
		if b.Original.User != b.Optimized.User {
			items["Security"] = append(items["Security"], fmt.Sprintf("the built image runs as %s instead of %s", userName(b.Optimized.User), userName(b.Original.User)))
		}
	} else if est := baseImageEstimate(in, fr, pf); est != "" {
		items["Image size"] = append(items["Image size"], est)
	}
	if pf.After != nil && pf.After.Dockerfile != nil {
		had := map[string]bool{}
		for _, s := range fr.Strengths {
			had[s.ID] = true
		}
		for _, s := range analyzer.DetectStrengths(pf.After.Dockerfile, fr.BuildContext) {
			if d := strengthDimension[s.ID]; d != "" && !had[s.ID] {
				if s.ID == "non-root-user" && measured && b.Original.User != b.Optimized.User {
					continue
				}
				// Other gained strengths are the applied steps again;
				// the change of user is an outcome a reviewer looks for.
				if s.ID == "non-root-user" {
					items[d] = appendUnique(items[d], "now "+s.Message+" instead of root")
				}
			}
		}
		// Findings resolved, by the dimension they cost.
		resolvedBy := map[string]int{}
		after := map[string]int{}
		for _, f := range pf.After.Findings {
			after[f.Rule]++
		}
		for _, f := range before {
			if after[f.Rule] > 0 {
				after[f.Rule]--
				continue
			}
			if r := lookup(in.Analyzer, f.Rule); r != nil {
				resolvedBy[categoryDimension[r.Category]]++
			}
		}
		for _, d := range dimensions {
			if n := resolvedBy[d]; n > 0 {
				resolved = append(resolved, fmt.Sprintf("%d %s", n, strings.ToLower(d)))
			}
		}
	}
	for _, d := range dimensions {
		if len(items[d]) > 0 {
			out = append(out, expectation{d, capitalize(strings.Join(items[d], "; "))})
		}
	}
	if len(resolved) > 0 {
		// Counts by dimension on one line: the steps say what each is.
		out = append(out, expectation{"Findings resolved", strings.Join(resolved, ", ")})
	}
	switch {
	case len(out) == 0:
	case measured:
		basis = "Size and build time were measured by building both versions with BuildKit; the rest follows from the changes."
	default:
		basis = "Estimated, not measured (`--buildkit` builds both and measures)."
	}
	return out, basis
}

func baseImageEstimate(in Input, fr *analyzer.FileResult, pf *patcher.File) string {
	if in.ImageSize == nil || pf.After == nil || pf.After.Dockerfile == nil || fr.Dockerfile == nil {
		return ""
	}
	before := fr.Dockerfile.FinalStage().Root().Base
	after := pf.After.Dockerfile.FinalStage().Root().Base
	if before.Raw == after.Raw {
		return ""
	}
	b, _, ok1 := in.ImageSize(before)
	a, _, ok2 := in.ImageSize(after)
	if !ok1 || !ok2 {
		return fmt.Sprintf("final base image %s → %s (sizes not in dockopt's table)", before.Raw, after.Raw)
	}
	return fmt.Sprintf("final base %s (about %.0f MB compressed) → %s (about %.0f MB; dockopt's size table, %s)", before.Raw, b, after.Raw, a, imagedata.AsOf())
}

func migration(in Input, v view) []migrationStep {
	var changed []fileView
	for _, f := range v.Files {
		if f.Changed {
			changed = append(changed, f)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	root := strings.TrimSuffix(in.Root, "/")
	at := func(p string) string {
		if root == "" || root == "." {
			return shellWord(p)
		}
		return shellWord(path.Join(root, p))
	}
	if in.Local && in.OutDir == "" && in.OptimizedAt == nil {
		dir := root
		if dir == "" {
			dir = "."
		}
		return []migrationStep{{"1. Write the optimized files", []string{fmt.Sprintf(
			"%s writes them under `/tmp/dockopt-out` (this run wrote none), with a report whose steps build and compare both versions", CodeSpan("dockopt analyze --out /tmp/dockopt-out "+shellWord(dir)))}}}
	}
	var build, names []string
	switch {
	case in.OutDir != "":
		dest := root
		if dest == "" {
			dest = "."
		}
		build = append(build, fmt.Sprintf("run each command below, lay the optimized files over a copy of the repository with %s, and run each again with `:after`",
			CodeSpan(fmt.Sprintf("git switch -c dockopt-trial && cp -r %s %s && rm -f %s", shellWord(in.OutDir+"/."), shellWord(dest+"/"), at("REPORT.md")))))
	case in.OptimizedAt == nil:
		build = append(build, "each command on the base branch, then again with `:after` on the pull request's branch:")
	}
	for _, f := range changed {
		name := imageName(f.Path)
		names = append(names, name)
		ctx := f.Context
		if ctx == "" {
			ctx = path.Dir(f.Path)
		}
		df, cx := at(f.Path), at(ctx)
		before := CodeSpan(fmt.Sprintf("docker build -t %s:before -f %s %s", name, df, cx))
		if in.OptimizedAt != nil && in.OutDir == "" {
			before += " and " + CodeSpan(fmt.Sprintf("docker build -t %s:after -f %s %s", name, at(in.OptimizedAt(f.Path)), cx))
		}
		build = append(build, before)
	}
	return []migrationStep{
		{"1. Build both versions", build},
		{"2. Compare", []string{"`docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E ':(before|after)'` for sizes, `docker history IMAGE` for layers; after touching one source file, only layers after the dependency install should rebuild"}},
		{"3. Run", []string{fmt.Sprintf("for each of %s: `docker run --rm -d --name NAME-after NAME:after`, then `docker logs NAME-after` and, with a health check, `docker inspect --format '{{.State.Health.Status}}' NAME-after`", codeList(names))}},
		{"4. Roll out", rollout(in)},
	}
}

func codeList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = CodeSpan(s)
	}
	return joinAnd(q)
}

// imageName names the image the steps build from the Dockerfile at p: its
// folder, and the name's variant when it is not plain "Dockerfile". The
// repository chooses those names, so only what an image name may hold
// (lowercase letters and digits, one ".", "_" or "-" between them) is
// kept, and the rest becomes "-": a folder named "$(curl …|sh)" is not a
// command for the person who copies the step.
func imageName(p string) string {
	dir := path.Dir(p)
	if dir == "." {
		dir = "app"
	}
	name := strings.ReplaceAll(dir, "/", "-")
	if base := path.Base(p); base != "Dockerfile" {
		name += "-" + strings.TrimPrefix(strings.TrimSuffix(base, ".Dockerfile"), "Dockerfile.")
	}
	var b strings.Builder
	separator := byte(0)
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if separator != 0 && b.Len() > 0 {
				b.WriteByte(separator)
			}
			separator = 0
			b.WriteRune(r)
		case r == '.', r == '_', r == '-':
			if separator == 0 {
				separator = byte(r)
			}
		default:
			separator = '-'
		}
	}
	if b.Len() == 0 {
		return "app"
	}
	// Cut to 128, the name must still end in a letter or digit.
	return strings.TrimRight(b.String()[:min(b.Len(), 128)], "._-")
}

// shellWord quotes s for a POSIX shell unless it is made only of the
// characters paths usually are: the steps are commands people copy, and a
// name the repository chose may hold "$(…)", a quote or a space. A name
// holding a rune analyzer.ShownEscaped reports (a bidi control) is quoted
// as bash's $'…' with the rune escaped, so the command shows what it runs.
func shellWord(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:@,%", r))
	}) < 0
	switch {
	case plain:
		return s
	case strings.IndexFunc(s, analyzer.ShownEscaped) >= 0:
		var b strings.Builder
		b.WriteString("$'")
		for _, r := range s {
			switch {
			case r == '\'', r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case analyzer.ShownEscaped(r):
				fmt.Fprintf(&b, "\\u%04x", r)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteString("'")
		return b.String()
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func userName(u string) string {
	if u == "" {
		return "root"
	}
	return u
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func delta(before, after int64) string {
	if before == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.0f%%", (float64(after)-float64(before))*100/float64(before))
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var sentenceEnd = regexp.MustCompile(`[a-z0-9)"'][.!?] [A-Z]`)

// firstSentence returns the first sentence of a rationale. A period ends a
// sentence only after a word and before a capital, so "COPY . ." does not.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if loc := sentenceEnd.FindStringIndex(s); loc != nil {
		return s[:loc[0]+2]
	}
	return s
}

// anchor is GitHub's heading anchor for a heading text.
func anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func rollout(in Input) []string {
	adopt := "merge the pull request"
	if in.Local {
		adopt = "commit the optimized files"
	}
	steps := []string{adopt + ", then deploy one service at a time behind its health check, watching error rates and restarts"}
	if in.Patch != nil {
		for _, f := range in.Patch.Files {
			if f.Before == nil || f.After == nil || f.Before.Dockerfile == nil || f.After.Dockerfile == nil {
				continue
			}
			before, after := analyzer.FinalUser(f.Before.Dockerfile), analyzer.FinalUser(f.After.Dockerfile)
			if (before == "" || analyzer.IsRootUser(before)) && after != "" && !analyzer.IsRootUser(after) {
				steps = append(steps, "a non-root image cannot write where root could: check the volumes and paths each application writes to")
				break
			}
		}
	}
	return append(steps, "roll back by reverting the change: nothing outside these files changes")
}

// printableUnread quotes the names of files not read that hold a control
// character (analyzer.PrintableName): a line break in a name would start a
// line of its own in the report.
func printableUnread(unread []analyzer.Skipped) []analyzer.Skipped {
	out := make([]analyzer.Skipped, len(unread))
	for i, s := range unread {
		out[i] = analyzer.Skipped{Path: analyzer.PrintableName(s.Path), Reason: s.Reason}
	}
	return out
}
