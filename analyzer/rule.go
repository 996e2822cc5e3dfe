package analyzer

import (
	"fmt"
	"iter"
	"regexp"
	"strings"
)

// Rule is one check of the catalog, declared as a value in its own file in
// analyzer/rules, in the spirit of golang.org/x/tools/go/analysis.Analyzer.
type Rule struct {
	// ID is kebab-case and never changes once released.
	ID       string
	Category Category
	Severity Severity
	// Title is one line, sentence case, no final period.
	Title string
	// Rationale is a paragraph: why it matters in production.
	Rationale string
	// Bad and Good are short Dockerfile examples for the docs.
	Bad, Good string
	// Equivalents are the IDs of the same check in other tools
	// ("hadolint:DL3015", "buildkit:JSONArgsRecommended", "trivy:DS029").
	// They are accepted wherever a rule ID is.
	Equivalents []string
	// Fix is the safety of the fixes this rule proposes, "" when it only
	// reports.
	Fix Safety
	// POSIXOnly rules assume a Linux image with a POSIX shell; the engine
	// drops their findings in Windows stages.
	POSIXOnly bool
	// Supersedes are rules whose fix this rule's fix makes unneeded on the
	// same instruction (a cache mount instead of deleting the cache):
	// when both are proposed in one pass, the patcher applies this one and
	// lets the other rule look again at the result.
	Supersedes []string
	// Reads, when set, are the instructions (keywords in upper case) that
	// are all Check reads, besides those every rule may read: FROM, ARG,
	// SHELL, ONBUILD and the parser directives. Such a rule reads no facts,
	// build context, waivers, comments between instructions or BuildKit
	// checks, and its findings and edits lie in the instructions it reads.
	// The analysis of a patch candidate then takes its findings over from
	// the version the candidate was patched from when no instruction it
	// reads changed (see Recheck). nil means the rule may read anything,
	// and is run on every candidate.
	Reads []string
	// PerInstruction, with Reads, says more: what the rule reports about
	// one instruction of those kinds depends on that instruction alone
	// (and its stage's FROM, ARG and SHELL), and it walks them with
	// Pass.Each. A candidate's analysis then checks again only the
	// instructions a pass changed, and keeps the findings on the others.
	PerInstruction bool
	// Check inspects one Dockerfile and reports through the pass.
	Check func(*Pass)
}

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate reports what is missing from a rule's declaration.
func (r *Rule) Validate() error {
	var problems []string
	if !ruleIDPattern.MatchString(r.ID) {
		problems = append(problems, "ID is not kebab-case")
	}
	valid := false
	for _, c := range Categories {
		valid = valid || c == r.Category
	}
	if !valid {
		problems = append(problems, fmt.Sprintf("unknown category %q", r.Category))
	}
	if r.Severity < SeverityError || r.Severity > SeverityInfo {
		problems = append(problems, "severity must be error, warning or info")
	}
	if r.Title == "" || strings.HasSuffix(r.Title, ".") || strings.Contains(r.Title, "\n") {
		problems = append(problems, "title must be one line without a final period")
	}
	if len(r.Rationale) < 40 {
		problems = append(problems, "rationale is missing or too short")
	}
	if r.Check == nil {
		problems = append(problems, "no check")
	}
	if r.Fix != "" && r.Fix != Safe && r.Fix != Review {
		problems = append(problems, "fix safety must be safe or review")
	}
	for _, e := range r.Equivalents {
		if tool, id, ok := strings.Cut(e, ":"); !ok || tool == "" || id == "" {
			problems = append(problems, fmt.Sprintf("equivalent %q is not tool:ID", e))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("rule %s: %s", r.ID, strings.Join(problems, "; "))
	}
	return nil
}

// Pass is what a rule's Check receives for one Dockerfile.
type Pass struct {
	Rule    *Rule
	File    *Dockerfile
	Context *BuildContext
	Config  *Config
	facts   *fileFacts
	out     []Finding
	// only, when set, are the instructions Each yields: the ones a
	// PerInstruction rule checks again in a patch candidate.
	only map[*Instruction]bool
	// waived answers WaivedAt.
	waived func(ruleID string, f Finding) bool
}

// Each yields the file's instructions of a kind, ONBUILD triggers
// included, as Dockerfile.Each does. A PerInstruction rule walks them with
// it: in a patch candidate it yields only those a pass changed.
func (p *Pass) Each(keyword string) iter.Seq[*Instruction] {
	if p.only == nil {
		return p.File.Each(keyword)
	}
	return func(yield func(*Instruction) bool) {
		for in := range p.File.Each(keyword) {
			if p.only[in] && !yield(in) {
				return
			}
		}
	}
}

// WaivedAt reports whether a finding of another rule on in would be
// waived, by the configuration or by a waiver comment: a fix that does two
// rules' work at once (one generated file for both) leaves out the part
// of a rule the person does not want.
func (p *Pass) WaivedAt(ruleID string, in *Instruction) bool {
	if p.waived == nil {
		return false
	}
	stage := -1
	if in.Stage != nil {
		stage = in.Stage.Index
	}
	return p.waived(ruleID, Finding{Rule: ruleID, Line: in.StartLine, EndLine: in.EndLine, Stage: stage})
}

// Report records a finding spanning an instruction.
func (p *Pass) Report(in *Instruction, message string, fix *Fix) {
	stage := -1
	if in.Stage != nil {
		stage = in.Stage.Index
	}
	p.ReportLines(in.StartLine, in.EndLine, stage, message, fix)
}

// Reportf is Report with a formatted message and no fix.
func (p *Pass) Reportf(in *Instruction, format string, args ...any) {
	p.Report(in, fmt.Sprintf(format, args...), nil)
}

// ReportLines records a finding on a line range; stage is the stage index
// or -1 for the whole file.
func (p *Pass) ReportLines(startLine, endLine, stage int, message string, fix *Fix) {
	if endLine < startLine {
		endLine = startLine
	}
	if fix != nil && fix.Safety == "" {
		fix.Safety = p.Rule.Fix
	}
	p.out = append(p.out, Finding{
		Rule:        p.Rule.ID,
		Category:    p.Rule.Category,
		Severity:    p.Rule.Severity,
		Path:        p.File.Path,
		Line:        startLine,
		EndLine:     endLine,
		Message:     message,
		Equivalents: p.Rule.Equivalents,
		Fix:         fix,
		Stage:       stage,
	})
}

// ReportWithheld records a finding whose fix is not offered because the
// precondition does not hold; message must say why, in words a maintainer
// can check ("no fix: the entrypoint switches to postgres with gosu").
func (p *Pass) ReportWithheld(in *Instruction, message string, why Precondition) {
	p.Report(in, message, nil)
	p.out[len(p.out)-1].Withheld = why
}

// ReportCannotRun records a finding that in cannot run as written (it
// calls a tool the image does not have): the engine withholds every other
// rule's fix that would edit in, since the line is to be rewritten or its
// base changed first, and each such finding says so. fix, when not nil,
// is this rule's own way out, and stays.
func (p *Pass) ReportCannotRun(in *Instruction, message string, fix *Fix) {
	p.Report(in, message, fix)
	p.out[len(p.out)-1].cannotRun = true
}

// ReportAdvisory records a finding at info at most and without a fix: the
// advice does not apply to this image as it stands (a base image, a dev
// environment, a generated file), which message explains.
func (p *Pass) ReportAdvisory(in *Instruction, message string, why Precondition) {
	p.ReportWithheld(in, message, why)
	p.out[len(p.out)-1].advisory = true
}

// ReportNote records a finding at info at most and without a fix: the
// rule's problem is there in a weaker form (a failure the script falls
// back from instead of failing the build), which message explains.
func (p *Pass) ReportNote(in *Instruction, message string) {
	p.Report(in, message, nil)
	p.out[len(p.out)-1].advisory = true
}

// RuntimeChangeAllowed reports whether a runtime change (USER,
// HEALTHCHECK, an init or ENTRYPOINT, SHELL) may be proposed in stage s;
// see Facts.RuntimeChangeAllowed.
func (p *Pass) RuntimeChangeAllowed(s *Stage) (ok bool, why string) {
	return p.Facts().RuntimeChangeAllowed(s)
}

// BuildKit returns BuildKit's own lint warnings for the file, computed
// once per file and shared by every rule that mirrors a BuildKit check.
func (p *Pass) BuildKit() []BuildKitWarning {
	return p.facts.buildkit(p.facts.ctx, p.File)
}
