// Package templates renders what people read: the optimization report
// (REPORT.md), the pull-request body and the check-run output, from
// embedded text/template files and a view model built from the analysis,
// the patch and, when a builder ran, the measured builds.
package templates

import (
	"fmt"
	"path"
	"regexp"
	"sort"
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
	Truncated   bool
	OmittedFile int
	// Unread and Limits are what the analysis did not cover.
	Unread []analyzer.Skipped
	Limits []analyzer.Limit
}

type totals struct {
	Dockerfiles, Findings, Errors, Warnings, Infos, Applied, Dropped, Changed int
}

type fileView struct {
	Index     int
	Path      string
	Anchor    string
	Kind      string
	KindTitle string
	Error     string
	Strengths []analyzer.Strength
	Issues    []issueView
	Applied   []appliedView
	Dropped   []patcher.Dropped
	Remaining []issueView
	Expect    []expectation
	Verified  string
	Build     *BuildPair
	Proof     []string
	Findings  int
	// Shared counts findings listed once under SharedWith, because one
	// template generates both files.
	Shared     int
	SharedWith string
	Fixed      int
	Context    string
	Dockerfile string
	Changed    bool
}

type issueView struct {
	New      bool
	Rule     string
	URL      string
	Line     int
	Severity string
	Message  string
	Fixable  bool
}

type appliedView struct {
	Details []string
	N       int
	Rule    string
	URL     string
	Title   string
	Message string
	Why     string
	Safety  string
	Auto    bool
}

type expectation struct {
	Dimension string
	Text      string
}

type principle struct {
	Name  string
	Items []string
}

type changeView struct {
	Path   string
	Action string
	Why    string
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

func buildView(in Input) view {
	if in.RuleURL == nil {
		in.RuleURL = DefaultRuleURL
	}
	if in.ImageSize == nil {
		in.ImageSize = imagedata.CompressedSizeMB
	}
	v := view{Title: in.Title, Policy: string(in.Policy), Waived: in.Waived, Unread: in.Result.Unread, Limits: in.Result.Limits(), Judged: in.Judged}
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
	principles := map[analyzer.Category][]string{}
	seenPrinciple := map[string]bool{}
	n := 0
	for _, fr := range in.Result.Files {
		v.Totals.Dockerfiles++
		fv := fileView{Path: fr.Path, Kind: fr.Kind, KindTitle: kindTitles[fr.Kind], Error: fr.Error, Strengths: fr.Strengths,
			Context: fr.Context, Dockerfile: fr.Path}
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
		for i, f := range fr.Findings {
			// Findings that files generated from one template share are
			// listed once, under the file that leads the group; the lead
			// is new when any file's copy is (see verdict.Judge).
			if f.Repeats() {
				fv.Shared++
				fv.SharedWith = f.Group.Files[0].Path
				continue
			}
			msg := f.Message
			if f.Group != nil {
				msg += " (" + f.Group.Note() + ")"
			}
			fv.Issues = append(fv.Issues, issueView{Rule: f.Rule, URL: in.RuleURL(f.Rule), Line: f.Line, Severity: f.Severity.String(), Message: msg, Fixable: f.Fix != nil,
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
		fv.Findings = len(fv.Issues)
		if pf := patched[fr.Path]; pf != nil {
			fv.Changed = pf.Changed()
			for i, a := range pf.Applied {
				rule := lookup(in.Analyzer, a.Rule)
				av := appliedView{N: i + 1, Rule: a.Rule, URL: in.RuleURL(a.Rule), Title: a.Title, Message: capitalize(a.Message),
					Safety: string(a.Safety), Auto: a.Safety == analyzer.Safe}
				if strings.HasPrefix(a.Rule, "rewrite:") && pf.Rewrite != nil {
					av.Details = pf.Rewrite.Explanation
					av.URL = ""
					key := strings.ToLower(a.Message)
					if !seenPrinciple[key] {
						seenPrinciple[key] = true
						principles[analyzer.CategorySize] = append(principles[analyzer.CategorySize], capitalize(a.Message))
					}
				}
				if rule != nil {
					av.Why = firstSentence(rule.Rationale)
					key := strings.ToLower(a.Message)
					if !seenPrinciple[key] {
						seenPrinciple[key] = true
						principles[rule.Category] = append(principles[rule.Category], capitalize(a.Message))
					}
				}
				fv.Applied = append(fv.Applied, av)
			}
			fv.Dropped = pf.Dropped
			v.Totals.Applied += len(pf.Applied)
			v.Totals.Dropped += len(pf.Dropped)
			if pf.After != nil {
				for _, f := range pf.After.Findings {
					fv.Remaining = append(fv.Remaining, issueView{Rule: f.Rule, URL: in.RuleURL(f.Rule), Line: f.Line, Severity: f.Severity.String(), Message: f.Message})
				}
				fv.Fixed = len(fr.Findings) - len(pf.After.Findings)
			}
			fv.Verified = verificationText(pf.Verification)
			fv.Expect = expectations(in, fr, pf)
		}
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
		fv.Anchor = anchor(fmt.Sprintf("%d %s %s", n, fv.KindTitle, fv.Path))
		if fv.Changed {
			v.Totals.Changed++
		}
		if len(fv.Dropped) > 0 {
			v.DroppedAny = true
		}
		v.Files = append(v.Files, fv)
	}
	for _, c := range analyzer.Categories {
		if items := principles[c]; len(items) > 0 {
			sort.Strings(items)
			v.Principles = append(v.Principles, principle{Name: principleNames[c], Items: items})
		}
	}
	if in.Patch != nil {
		for _, c := range in.Patch.Changes {
			v.Changes = append(v.Changes, changeView{Path: c.Path, Action: c.Action, Why: c.Why})
		}
	}
	v.Migration = migration(in, v)
	return v
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

func verificationText(v patcher.Verification) string {
	if v.OK() {
		return "parses, converts to a BuildKit build graph, introduces no new finding, and is a fixed point (dockopt would change nothing more)"
	}
	return "verification incomplete: " + v.Error
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
	return ": " + codeSpan(last)
}

// codeSpan quotes s as Markdown code, with a backtick run longer than any
// in s so that output cannot end the span early.
func codeSpan(s string) string {
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
// build when one ran, else estimated from what changed (new strengths of
// the optimized file, the fixes applied, base-image sizes from a dated
// table), with the basis stated.
func expectations(in Input, fr *analyzer.FileResult, pf *patcher.File) []expectation {
	var out []expectation
	b, measured := in.Builds[fr.Path]
	measured = measured && b.Original.OK && b.Optimized.OK
	if measured {
		out = append(out, expectation{"Image size", fmt.Sprintf("measured by BuildKit: %s → %s compressed (%s), %d → %d layers",
			mb(b.Original.CompressedSize), mb(b.Optimized.CompressedSize), delta(b.Original.CompressedSize, b.Optimized.CompressedSize), b.Original.Layers, b.Optimized.Layers)})
		out = append(out, expectation{"Build time", fmt.Sprintf("measured by BuildKit on a cold cache: %.1f s → %.1f s", float64(b.Original.DurationMS)/1000, float64(b.Optimized.DurationMS)/1000)})
		if b.Original.User != b.Optimized.User {
			out = append(out, expectation{"Security", fmt.Sprintf("measured: the image runs as %s instead of %s", userName(b.Optimized.User), userName(b.Original.User))})
		}
	}
	items := map[string][]string{}
	if pf.After != nil && pf.After.Dockerfile != nil {
		had := map[string]bool{}
		for _, s := range fr.Strengths {
			had[s.ID] = true
		}
		for _, s := range analyzer.DetectStrengths(pf.After.Dockerfile, fr.BuildContext) {
			if d := strengthDimension[s.ID]; d != "" && !had[s.ID] {
				items[d] = appendUnique(items[d], "now "+s.Message)
			}
		}
	}
	if est := baseImageEstimate(in, fr, pf); est != "" {
		items["Image size"] = append([]string{est}, items["Image size"]...)
	}
	for _, a := range pf.Applied {
		if rule := lookup(in.Analyzer, a.Rule); rule != nil {
			d := categoryDimension[rule.Category]
			items[d] = appendUnique(items[d], strings.ToLower(a.Message[:1])+a.Message[1:])
		}
	}
	for _, d := range dimensions {
		if len(items[d]) == 0 {
			continue
		}
		basis := "estimated from the changes, not measured; `--buildkit` measures it"
		if measured && (d == "Image size" || d == "Build time") {
			basis = "the measurement above is the figure to trust"
		}
		out = append(out, expectation{d, capitalize(strings.Join(items[d], "; ")) + " (" + basis + ")"})
	}
	return out
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
		return fmt.Sprintf("the final base image changes from %s to %s (sizes not in dockopt's table)", before.Raw, after.Raw)
	}
	return fmt.Sprintf("the final base image changes from %s, about %.0f MB compressed, to %s, about %.0f MB (approximate published sizes for linux/amd64 from dockopt's table dated %s)", before.Raw, b, after.Raw, a, imagedata.AsOf())
}

func migration(in Input, v view) []migrationStep {
	var build, run []string
	if in.OutDir != "" {
		build = append(build, fmt.Sprintf("lay the optimized files over a copy of the repository: `git switch -c dockopt-trial && cp -r %s/. . && rm REPORT.md` (the folder mirrors the repository's layout)", in.OutDir))
	}
	for _, f := range v.Files {
		if !f.Changed {
			continue
		}
		name := imageName(f.Path)
		ctx := f.Context
		if ctx == "" {
			ctx = path.Dir(f.Path)
		}
		switch {
		case in.OutDir != "":
			build = append(build, fmt.Sprintf("`docker build -t %s:before -f %s %s` on the original branch, then the same with `-t %s:after` on `dockopt-trial`", name, f.Path, ctx, name))
		case in.OptimizedAt != nil:
			build = append(build, fmt.Sprintf("`docker build -t %s:before -f %s %s` and `docker build -t %s:after -f %s %s`", name, f.Path, ctx, name, in.OptimizedAt(f.Path), ctx))
		default:
			build = append(build, fmt.Sprintf("`docker build -t %s:before -f %s %s` on the base branch, then the same with `-t %s:after` on this branch", name, f.Path, ctx, name))
		}
		run = append(run, fmt.Sprintf("`docker run --rm -d --name %s-after %s:after` and watch `docker inspect --format '{{.State.Health.Status}}' %s-after` (if it has a health check) and its logs", name, name, name))
	}
	if len(build) == 0 {
		return nil
	}
	steps := []migrationStep{
		{"1. Build both versions", build},
		{"2. Compare", []string{"`docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E ':(before|after)'` for sizes; `docker history IMAGE` for layers",
			"rebuild after touching one source file to see the cache at work: only the layers after the dependency install should rebuild"}},
		{"3. Run", run},
		{"4. Roll out", rollout(in)},
	}
	return steps
}

func imageName(p string) string {
	dir := path.Dir(p)
	if dir == "." {
		dir = "app"
	}
	name := strings.ToLower(strings.ReplaceAll(dir, "/", "-"))
	if base := path.Base(p); base != "Dockerfile" {
		name += "-" + strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(base, ".Dockerfile"), "Dockerfile."))
	}
	return name
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
	steps := []string{"adopt the optimized files (merge the pull request, or copy them from where dockopt wrote them) and deploy one service at a time behind its health check, watching error rates and restarts"}
	if in.Patch != nil {
		for _, f := range in.Patch.Files {
			before, after := "", ""
			if f.Before != nil && f.Before.Dockerfile != nil {
				before = analyzer.FinalUser(f.Before.Dockerfile)
			}
			if f.After != nil && f.After.Dockerfile != nil {
				after = analyzer.FinalUser(f.After.Dockerfile)
			}
			if before != after {
				steps = append(steps, "images that now run as a non-root user cannot write where root could: check the volumes and paths each application writes to before rolling out widely")
				break
			}
		}
	}
	return append(steps, "roll back by reverting the change; nothing outside these files changes")
}
