package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dockopt/dockopt/internal/workers"
	"github.com/moby/buildkit/client/llb"
)

// Analyzer runs a rule catalog over Dockerfiles.
type Analyzer struct {
	rules []*Rule
	byID  map[string]*Rule
	alias map[string][]*Rule
}

// New returns an analyzer for the given rules (usually rules.All()).
func New(rules []*Rule) *Analyzer {
	a := &Analyzer{rules: rules, byID: map[string]*Rule{}, alias: map[string][]*Rule{}}
	for _, r := range rules {
		a.byID[r.ID] = r
		for _, e := range r.Equivalents {
			k := strings.ToLower(e)
			a.alias[k] = append(a.alias[k], r)
		}
	}
	return a
}

// Rules returns the catalog in registry order.
func (a *Analyzer) Rules() []*Rule { return a.rules }

// Lookup returns the rules an ID or equivalent names ("DL3008",
// "hadolint:DL3008", "buildkit:JSONArgsRecommended", "apt-pin-versions").
func (a *Analyzer) Lookup(id string) []*Rule {
	if r, ok := a.byID[id]; ok {
		return []*Rule{r}
	}
	k := strings.ToLower(strings.TrimSpace(id))
	if rs, ok := a.alias[k]; ok {
		return rs
	}
	if strings.HasPrefix(k, "dl") || strings.HasPrefix(k, "sc") {
		return a.alias["hadolint:"+k]
	}
	if strings.HasPrefix(k, "ds") || strings.HasPrefix(k, "avd-ds-") {
		return a.alias["trivy:"+strings.TrimPrefix(k, "avd-")]
	}
	for key, rs := range a.alias {
		if _, name, ok := strings.Cut(key, ":"); ok && name == k {
			return rs
		}
	}
	return nil
}

// Result is the analysis of a repository or folder.
type Result struct {
	Files []*FileResult
	// Groups are the findings files generated from one template share,
	// each reported once, at the template (see FindingGroup).
	Groups []*FindingGroup
	// Truncated is set when more Dockerfiles existed than MaxDockerfiles.
	Truncated bool
	// Unread are files other than the analyzed Dockerfiles that were not
	// read: behind a symbolic link that leaves the folder, say.
	Unread []Skipped
	// ConfigWarnings are the configuration's problems that did not stop
	// the analysis.
	ConfigWarnings []string
}

// FileResult is the analysis of one Dockerfile.
type FileResult struct {
	Path      string
	Context   string
	Kind      string
	Ecosystem string
	// Role is what the image is for (application, base, dev, fixture);
	// Facts() says why, and holds the rest of what the model knows.
	Role      Role
	Stages    []StageInfo
	Strengths []Strength
	Findings  []Finding
	// Suppressed counts findings waived by comments or configuration.
	Suppressed int
	// Error is set when the file could not be analyzed; the other files
	// still were.
	Error string
	// RuleErrors are the rules whose check failed on this file; each also
	// has a finding that says so, and the other rules' findings stand.
	RuleErrors []RuleError
	// Limits say what was left out of this file's analysis, and why.
	Limits []string
	// Compose and Service name the compose file and service that build
	// this Dockerfile, if any.
	Compose, Service string
	// Template is set for a template of Dockerfiles (Dockerfile.template,
	// Dockerfile-alpine.tmpl, *.j2): it is analyzed with its placeholders
	// filled in, and never patched or built.
	Template bool
	// Generated is set when a generator writes the file: no fix edits it,
	// and its findings are grouped with those of the other files generated
	// from its template.
	Generated *Generated

	Dockerfile   *Dockerfile
	BuildContext *BuildContext

	facts *fileFacts
	// released is set when the model was released after the analysis
	// (Configured.ReleasingModels).
	released bool
}

// errReleased is the conversion error of a file whose model was released.
var errReleased = errors.New("this analysis released the file's syntax model, so it cannot be converted or patched")

// releaseModel drops what only the rules, the trust facts, BuildKit's
// conversion and the patcher read: the shell syntax of each RUN,
// BuildKit's parse tree and typed instructions, and the facts. What the
// result reports stays: the source, the stages, each instruction's
// keyword, flags, arguments and lines, the findings.
func (fr *FileResult) releaseModel() {
	fr.released, fr.facts = true, nil
	d := fr.Dockerfile
	if d == nil {
		return
	}
	d.AST = nil
	for _, in := range d.Instructions {
		for ; in != nil; in = in.Trigger {
			in.Node, in.Command, in.Parsed, in.Script = nil, nil, nil, nil
		}
	}
}

// ConvertError is BuildKit's offline conversion result for the file,
// computed during analysis when a rule needed it, else now with ctx.
func (fr *FileResult) ConvertError(ctx context.Context) error {
	facts, err := fr.convertible()
	if err != nil {
		return err
	}
	return facts.convert(ctx, fr.Dockerfile)
}

// ConvertLLB is ConvertError with the build graph serialized too, as a
// build submits it (see the package function ConvertLLB). It reuses the
// conversion ConvertError made, and the one BuildKit's checks made in the
// analysis of a patch candidate (AnalyzeCandidate).
func (fr *FileResult) ConvertLLB(ctx context.Context) error {
	facts, err := fr.convertible()
	if err != nil {
		return err
	}
	return facts.serialized(ctx, fr.Dockerfile)
}

// convertible is the cache a conversion of the file fills, or why the file
// cannot be converted: it did not parse, or its model was released.
func (fr *FileResult) convertible() (*fileFacts, error) {
	if fr.Dockerfile == nil {
		return nil, errors.New(fr.Error)
	}
	if fr.released {
		return nil, errReleased
	}
	if fr.facts == nil {
		fr.facts = &fileFacts{}
	}
	return fr.facts, nil
}

// StageInfo summarises a stage for output.
type StageInfo struct {
	Name string `json:"name,omitempty"`
	Base string `json:"base"`
	Line int    `json:"line"`
	Role string `json:"role,omitempty"`
}

// Configured is an analyzer with one configuration's rule settings
// resolved, for analyzing many files, or many versions of one, under it.
type Configured struct {
	a        *Analyzer
	cfg      *Config
	settings map[string]RuleSetting
	release  bool
	each     func(i int, fr *FileResult) error
	recheck  Recheck
	mismatch func(ReuseMismatch)
}

// ReleasingModels returns c for a caller that reads only what an analysis
// reports (findings, strengths, stages, kind and role), not the model: each
// file's syntax model and trust facts are let go as soon as its rules have
// run, so a folder's analysis holds its findings, not every file's syntax
// trees (a third less peak memory over the benchmark corpus). Such results
// cannot be patched: their Facts are nil, and ConvertError says why.
func (c *Configured) ReleasingModels() *Configured {
	cp := *c
	cp.release = true
	return &cp
}

// Each returns c for a caller that takes each file's result as soon as it
// is analyzed: AnalyzeTargets (and Analyze) call each with the file's index
// and result in the worker that analyzed it, concurrently for different
// files, before its model is released (ReleasingModels). A patcher can so
// patch a file while others are still being analyzed, and let its models
// go when it is done, rather than hold every file's until the analysis of
// the last one. An error from each is ctx's, and ends the analysis with it.
// The result's Groups are computed after every file has been through each.
func (c *Configured) Each(each func(i int, fr *FileResult) error) *Configured {
	cp := *c
	cp.each = each
	return &cp
}

// ReleaseModel lets go of what only the rules, BuildKit's conversion and
// the patcher read, as ReleasingModels does, for a caller done with them.
func (fr *FileResult) ReleaseModel() { fr.releaseModel() }

// ReleaseAllButFindings lets go of the model as ReleaseModel does, and of
// what only a report's templates read besides: the instructions and stages
// a released model keeps, the build context, and each fix's edits and
// files (its message and safety stay). What is left is what the JSON
// output writes of the file (path, kind, role, stages, strengths, findings,
// limits) and its source; it is for a caller that renders no report and
// is done patching the file. Over the benchmark corpus that held a third
// of what a JSON run keeps until it writes. The instructions of a template
// or generated file stay: the finding groups are placed by them.
func (fr *FileResult) ReleaseAllButFindings() {
	fr.releaseModel()
	fr.BuildContext = nil
	for i := range fr.Findings {
		if fx := fr.Findings[i].Fix; fx != nil && (fx.Edits != nil || fx.Files != nil) {
			fr.Findings[i].Fix = &Fix{Message: fx.Message, Safety: fx.Safety}
		}
	}
	if d := fr.Dockerfile; d != nil && !fr.Template && fr.Generated == nil {
		fr.Dockerfile = &Dockerfile{Path: d.Path, Source: d.Source, Escape: d.Escape, Directives: d.Directives, Template: d.Template}
	}
}

// Configure resolves the configuration's rule keys (IDs or equivalents)
// once. A key that names no rule is an error; the Configured returned with
// it applies the keys that do resolve.
func (a *Analyzer) Configure(cfg *Config) (*Configured, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	settings, err := cfg.ResolveRules(a)
	return &Configured{a: a, cfg: cfg, settings: settings}, err
}

// Analyzer returns the analyzer and its catalog.
func (c *Configured) Analyzer() *Analyzer { return c.a }

// Analyze discovers and analyzes every Dockerfile under root in fsys.
// When ctx is canceled it returns ctx's error, never a partial result.
func (a *Analyzer) Analyze(ctx context.Context, fsys fs.FS, root string, cfg *Config) (*Result, error) {
	c, err := a.Configure(cfg)
	if err != nil {
		return nil, err
	}
	return c.Analyze(ctx, fsys, root)
}

// Analyze discovers and analyzes every Dockerfile under root in fsys.
// When ctx is canceled it returns ctx's error, never a partial result.
func (c *Configured) Analyze(ctx context.Context, fsys fs.FS, root string) (*Result, error) {
	rec := recording(fsys)
	targets, err := Discover(ctx, rec, root, c.cfg)
	if err != nil {
		return nil, err
	}
	res, err := c.AnalyzeTargets(ctx, rec, targets)
	if err != nil {
		return nil, err
	}
	res.Truncated = len(targets) >= MaxDockerfiles
	return res, nil
}

// AnalyzeTargets analyzes the given Dockerfiles under cfg.
func (a *Analyzer) AnalyzeTargets(ctx context.Context, fsys fs.FS, targets []Target, cfg *Config) (*Result, error) {
	c, err := a.Configure(cfg)
	if err != nil {
		return nil, err
	}
	return c.AnalyzeTargets(ctx, fsys, targets)
}

// analyzeWorkers is how many files AnalyzeTargets analyzes at once.
const analyzeWorkers = 4

// AnalyzeTargets analyzes the given Dockerfiles, in parallel, keeping
// order. ctx is checked between files and between rules; when it is
// canceled the error is ctx's and there is no result.
func (c *Configured) AnalyzeTargets(ctx context.Context, fsys fs.FS, targets []Target) (*Result, error) {
	rec := recording(fsys)
	fsys = rec
	contexts := &contextCache{fsys: fsys, m: map[string]*contextEntry{}, repo: newRepoEvidence(), ignores: newIgnoreCache()}
	res := &Result{Files: make([]*FileResult, len(targets))}
	analyze := func(i int, t Target) {
		defer Track(ctx, t.Path, "analyzing")()
		src, kept := rec.takeDockerfile(t.Path)
		if !kept {
			var err error
			if src, err = readBounded(fsys, t.Path, MaxDockerfileSize); err != nil {
				res.Files[i] = &FileResult{Path: t.Path, Context: t.Context, Error: readError(err)}
				return
			}
		}
		bc := contexts.get(t.Context).forDockerfile(t.Path)
		fr, err := c.AnalyzeSource(ctx, t.Path, src, bc)
		if err != nil {
			return // canceled; the result is thrown away below
		}
		fr.Context = t.Context
		fr.Compose, fr.Service = t.Compose, t.Service
		if c.each != nil && c.each(i, fr) != nil {
			return // canceled; the result is thrown away below
		}
		if c.release {
			fr.releaseModel()
		}
		res.Files[i] = fr
	}
	workers.Each(ctx, len(targets), analyzeWorkers, func(_, i int) { analyze(i, targets[i]) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Groups = groupFindings(fsys, res.Files)
	res.Unread = rec.unread()
	res.ConfigWarnings = c.cfg.Warnings
	return res, nil
}

// contextCache loads each build context once for all the Dockerfiles
// that share it. Different contexts load at once: a lock held over the
// whole load made the workers wait on each other's walks.
type contextCache struct {
	mu      sync.Mutex
	fsys    fs.FS
	m       map[string]*contextEntry
	repo    *repoEvidence
	ignores *ignoreCache
}

type contextEntry struct {
	once sync.Once
	bc   *BuildContext
}

func (c *contextCache) get(dir string) *BuildContext {
	c.mu.Lock()
	e := c.m[dir]
	if e == nil {
		e = &contextEntry{}
		c.m[dir] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		e.bc = LoadContext(c.fsys, dir)
		e.bc.repo, e.bc.ignores = c.repo, c.ignores
	})
	return e.bc
}

// forDockerfile returns the context as one Dockerfile sees it: with its
// own ignore file if it has one.
func (c *BuildContext) forDockerfile(dockerfilePath string) *BuildContext {
	cp := *c
	cp.DockerIgnore, cp.UnreadDockerIgnore = nil, ""
	cp.loadDockerIgnore(dockerfilePath)
	return &cp
}

// ContextFor returns the build context facts for a Dockerfile in fsys.
func ContextFor(fsys fs.FS, dockerfilePath, contextDir string) *BuildContext {
	return LoadContext(fsys, contextDir).forDockerfile(dockerfilePath)
}

// AnalyzeSource analyzes one Dockerfile's bytes under cfg; a configuration
// that does not resolve is the file's error. The error is ctx's, when it
// is canceled.
func (a *Analyzer) AnalyzeSource(ctx context.Context, path string, src []byte, bc *BuildContext, cfg *Config) (*FileResult, error) {
	c, err := a.Configure(cfg)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return &FileResult{Path: path, BuildContext: bc, Error: "configuration: " + err.Error()}, nil
	}
	return c.AnalyzeSource(ctx, path, src, bc)
}

// AnalyzeSource analyzes one Dockerfile's bytes. A panic in a rule is that
// rule's finding and leaves the other rules' findings alone; a panic
// elsewhere (BuildKit, the model) becomes this file's error. Neither takes
// other files down. ctx is checked between rules and handed to BuildKit;
// when it is canceled the error is ctx's and there is no result.
func (c *Configured) AnalyzeSource(ctx context.Context, path string, src []byte, bc *BuildContext) (*FileResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fr := c.analyzeSource(ctx, path, src, bc, nil, false)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fr, nil
}

// AnalyzeCandidate is AnalyzeSource for a patched version the patcher may
// propose: its conversion, for BuildKit's checks or ConvertError, keeps the
// build graph, so that verifying the version (FileResult.ConvertLLB)
// serializes it without converting again, and a version the patcher moves
// past is never serialized. prev, when not nil, is the analysis of the
// version src was patched from, under the same configuration and build
// context files: the findings of rules that read nothing the patch changed
// are taken over from it (Rule.Reads).
func (c *Configured) AnalyzeCandidate(ctx context.Context, path string, src []byte, bc *BuildContext, prev *FileResult) (*FileResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fr := c.analyzeSource(ctx, path, src, bc, prev, true)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fr, nil
}

func (c *Configured) analyzeSource(ctx context.Context, path string, src []byte, bc *BuildContext, prev *FileResult, serialize bool) (fr *FileResult) {
	a, cfg, settings := c.a, c.cfg, c.settings
	fr = &FileResult{Path: path, BuildContext: bc}
	if bc != nil {
		fr.Context = bc.Dir
	}
	defer func() {
		if r := recover(); r != nil {
			fr.Findings = nil
			fr.Error = fmt.Sprintf("internal error while analyzing (please report): %v\n%s", r, firstLines(string(debug.Stack()), 14))
		}
	}()
	var tmpl filledTemplate
	if fr.Template = isTemplate(path, src, bc); fr.Template {
		tmpl = fillTemplate(src)
		src = tmpl.src
	}
	d, err := Parse(path, src)
	if err != nil && !fr.Template && hasTemplateStatements(src) {
		// A line that begins with a template block ({{ def dnf: … -}}),
		// in a file that does not read as a Dockerfile: a template.
		fr.Template, tmpl = true, fillTemplate(src)
		src = tmpl.src
		d, err = Parse(path, src)
	}
	if err != nil {
		fr.Error = strings.TrimPrefix(err.Error(), ErrInput.Error()+": ")
		if fr.Template {
			fr.Error = "this template does not read as a Dockerfile even with its placeholders filled in: " + fr.Error
		}
		return fr
	}
	if bc == nil {
		bc = EmptyContext()
		fr.BuildContext = bc
	}
	d.Template = fr.Template
	fr.Dockerfile = d
	for _, s := range d.Stages {
		fr.Stages = append(fr.Stages, StageInfo{Name: s.Name, Base: s.Base.Raw, Line: s.From.StartLine})
	}
	if n := len(d.Instructions); n > MaxConvertInstructions {
		fr.Limits = append(fr.Limits, fmt.Sprintf("BuildKit's own checks were not run and no fix is proposed: the file has %d instructions, more than the %d dockopt gives BuildKit to convert", n, MaxConvertInstructions))
	}
	if bc.Truncated {
		fr.Limits = append(fr.Limits, fmt.Sprintf("the build context %s has more than %d files and was listed only that far: findings and fixes that need every file of it (a .dockerignore, a rewrite, what a COPY pattern matches) are left out or withheld", bc.Dir, MaxContextFiles))
	}
	fr.Kind, fr.Ecosystem = DetectKind(d, bc)
	facts := &fileFacts{ctx: ctx, serialize: serialize}
	fr.facts = facts
	model := facts.model(d, bc)
	fr.Role = model.Role().Role
	for i, s := range d.Stages {
		fr.Stages[i].Role = string(model.StageRole(s).Role)
	}
	sup := collectSuppressions(d, cfg, a)
	waived := func(id string, f Finding) bool { return c.Waived(id, path) || sup.wouldWaive(f) }
	// One Pass serves every rule in turn (a hundred allocations a file
	// fewer); its findings are copied out before the next rule runs, and
	// no rule keeps its Pass past Check.
	p := &Pass{File: d, Context: bc, Config: cfg, facts: facts, waived: waived}
	var base *reuseBase
	if serialize && c.recheck != RecheckAll {
		base = newReuseBase(prev, d)
	}
	keep := c.keepsRuleOutputs(serialize)
	for _, r := range a.rules {
		if ctx.Err() != nil {
			return fr // thrown away by AnalyzeSource
		}
		sev := r.Severity
		if s, ok := settings[r.ID]; ok && s.Severity != nil {
			sev = *s.Severity
		}
		if sev == SeverityOff {
			continue
		}
		p.Rule, p.out = r, p.out[:0]
		checked := true
		if reused, ok := base.reused(r); ok {
			if c.recheck == RecheckVerify {
				c.verifyReuse(p, reused)
			}
			p.out = append(p.out[:0], reused...)
		} else if plan, ok := base.local(r); ok {
			p.only = plan.recheck
			failure := runCheck(p)
			p.only = nil
			if failure != nil {
				// What a whole run reports before it fails is not known
				// from a part: run it whole.
				p.out = p.out[:0]
				if failure = runCheck(p); failure != nil {
					fr.RuleErrors = append(fr.RuleErrors, *failure)
				}
				checked = failure == nil
			} else {
				p.out = plan.merge(p.out)
				if c.recheck == RecheckVerify {
					c.verifyReuse(p, slices.Clone(p.out))
				}
			}
		} else if failure := runCheck(p); failure != nil {
			fr.RuleErrors = append(fr.RuleErrors, *failure)
			checked = false
		}
		if checked && keep && r.Reads != nil {
			facts.keepRuleOutput(r, p.out)
		}
		for _, f := range p.out {
			f.Severity = sev
			if f.advisory && sev < SeverityInfo {
				f.Severity = SeverityInfo
			}
			if r.POSIXOnly && inWindows(d, f) {
				continue
			}
			if waivedByConfig(cfg, settings[r.ID], r, path) || sup.waives(f) {
				fr.Suppressed++
				continue
			}
			fr.Findings = append(fr.Findings, f)
		}
	}
	if u := a.byID["unused-suppression"]; u != nil {
		if s, ok := settings[u.ID]; !ok || s.Severity == nil || *s.Severity != SeverityOff {
			fr.Findings = append(fr.Findings, sup.unused(u, d)...)
		}
	}
	fr.printable()
	fr.withholdEdits(model)
	fr.Strengths = DetectStrengths(d, bc)
	for i := range fr.Strengths {
		fr.Strengths[i].Message = escapeControl(fr.Strengths[i].Message)
	}
	if fr.Template {
		fr.Findings = slices.DeleteFunc(fr.Findings, tmpl.touches)
		fr.Strengths = slices.DeleteFunc(fr.Strengths, func(s Strength) bool { return tmpl.quotes(s.Message) })
	}
	SortFindings(fr.Findings)
	return fr
}

// printable escapes the control characters of every finding's message and
// fix message, whichever rule wrote it, so that each output shows a
// finding on one line (see escapeControl).
func (fr *FileResult) printable() {
	for i := range fr.Findings {
		fd := &fr.Findings[i]
		fd.Message = escapeControl(fd.Message)
		if fd.Fix != nil {
			if m := escapeControl(fd.Fix.Message); m != fd.Fix.Message {
				// A rule may share one Fix between findings; this one's
				// copy changes.
				fix := *fd.Fix
				fix.Message = m
				fd.Fix = &fix
			}
		}
	}
}

// withholdEdits keeps every fix out of a file that no edit may touch, in
// one place rather than in each rule: a template, whose placeholders make
// an edit unverifiable, and a generated file, whose next generation would
// undo the edit (and whose maintainers reject such hunks on sight). The
// findings keep their severity; their message says where the change
// belongs.
func (fr *FileResult) withholdEdits(f *Facts) {
	var why Precondition
	var reason string
	if fr.Template {
		why, reason = PreconditionTemplate, "no fix: this is a template whose placeholders a generator fills in, so no edit of it can be verified; make the change by hand"
	} else if g := f.Generated(); g.Generated {
		fr.Generated = &g
		why = PreconditionGenerated
		switch {
		case g.Template != "":
			reason = "no fix: this file is generated from " + g.Template + "; make the change there"
		case g.Generator != "":
			reason = "no fix: this file is generated by " + g.Generator + "; make the change in what it generates from"
		default:
			reason = "no fix: this file is generated (" + g.Why + "); make the change where it is generated from"
		}
	}
	// The generator's name comes from the file's own comment.
	reason = escapeControl(reason)
	unrunnable := fr.Unrunnable()
	for i := range fr.Findings {
		fd := &fr.Findings[i]
		fd.base = fd.Message
		if fd.Fix == nil {
			continue
		}
		if why != "" {
			fd.Fix, fd.Withheld = nil, why
			fd.Message += "; " + reason
			continue
		}
		if u, ok := touchesUnrunnable(*fd, unrunnable); ok {
			fd.Fix, fd.Withheld = nil, PreconditionCannotRun
			fd.Message += "; " + u.Reason()
		}
	}
}

// Unrunnable is an instruction a finding says cannot run as written.
type Unrunnable struct {
	Instruction *Instruction
	// Rule is the rule that says so.
	Rule string
}

// Reason says why no other fix edits the instruction.
func (u Unrunnable) Reason() string {
	return fmt.Sprintf("no fix: line %d cannot run as written (%s), so nothing in it is changed until that is fixed",
		u.Instruction.StartLine, u.Rule)
}

// Unrunnable returns the instructions the file's findings say cannot run
// as written (Pass.ReportCannotRun), in file order. A waived finding is
// not among them: the person who waived it says the line runs.
func (fr *FileResult) Unrunnable() []Unrunnable {
	if fr.Dockerfile == nil {
		return nil
	}
	var out []Unrunnable
	for _, f := range fr.Findings {
		if !f.cannotRun {
			continue
		}
		for _, in := range fr.Dockerfile.Instructions {
			if in.StartLine <= f.Line && f.Line <= in.EndLine && !slices.ContainsFunc(out, func(u Unrunnable) bool { return u.Instruction == in }) {
				out = append(out, Unrunnable{Instruction: in, Rule: f.Rule})
			}
		}
	}
	return out
}

// touchesUnrunnable returns the instruction that cannot run which a
// finding other than such a one is on, or which its fix edits.
func touchesUnrunnable(f Finding, us []Unrunnable) (Unrunnable, bool) {
	if f.cannotRun {
		return Unrunnable{}, false
	}
	for _, u := range us {
		in := u.Instruction
		if in.StartLine <= f.Line && f.Line <= in.EndLine || f.Fix != nil && editsRange(f.Fix.Edits, in.Start, in.End) {
			return u, true
		}
	}
	return Unrunnable{}, false
}

// editsRange reports whether an edit changes bytes of [start, end) or
// inserts inside it; an insertion at either end leaves it as it is.
func editsRange(edits []TextEdit, start, end int) bool {
	return slices.ContainsFunc(edits, func(e TextEdit) bool { return e.Start < end && e.End > start })
}

// RuleError is a rule that failed on a file: its check panicked.
type RuleError struct {
	Rule  string
	Panic string
	// Stack is the start of the goroutine's stack, for a bug report.
	Stack string
}

// runCheck runs one rule's check. A panic is recovered here, so that one
// failing rule does not erase what the others found: the rule's findings
// so far stay, and a finding of the rule says that it failed.
func runCheck(p *Pass) (failure *RuleError) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		failure = &RuleError{Rule: p.Rule.ID, Panic: fmt.Sprint(v), Stack: firstLines(string(debug.Stack()), 14)}
		p.ReportLines(1, 1, -1, fmt.Sprintf("this check failed on this file (internal error, please report it: %v), so what it reports here may be incomplete", v), nil)
	}()
	p.Rule.Check(p)
	return nil
}

// SortFindings orders findings by line, then severity, then rule.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Line != fs[j].Line {
			return fs[i].Line < fs[j].Line
		}
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity < fs[j].Severity
		}
		return fs[i].Rule < fs[j].Rule
	})
}

func inWindows(d *Dockerfile, f Finding) bool {
	if f.Stage >= 0 && f.Stage < len(d.Stages) {
		return d.Stages[f.Stage].Windows
	}
	for _, s := range d.Stages {
		if !s.Windows {
			return false
		}
	}
	return len(d.Stages) > 0
}

func waivedByConfig(cfg *Config, s RuleSetting, r *Rule, p string) bool {
	for _, pat := range s.IgnorePaths {
		if matchPath(pat, p) {
			return true
		}
	}
	for _, e := range cfg.Ignore {
		if e.Rule != r.ID && !hasEquivalent(r, e.Rule) {
			continue
		}
		if e.Path == "" || matchPath(e.Path, p) || e.Path == p {
			return true
		}
	}
	return false
}

func hasEquivalent(r *Rule, id string) bool {
	for _, e := range r.Equivalents {
		if strings.EqualFold(e, id) || strings.EqualFold(e, "hadolint:"+id) {
			return true
		}
	}
	return false
}

// fileFacts caches work several rules share, computed at most once per file.
type fileFacts struct {
	// ctx is the analysis's, for the conversion rules ask for.
	ctx context.Context
	// serialize is set for the analysis of a patch candidate: its
	// conversion keeps the build graph (graph) for verification.
	serialize bool
	bkOnce    sync.Once
	bk        []BuildKitWarning
	bkRan     bool
	cvOnce    sync.Once
	conv      conversion
	// graph is the candidate's build graph, taken out of conv when the
	// conversion is made, so that serialized, which drops it, writes
	// nothing conversion reads.
	graph   *llb.State
	llbOnce sync.Once
	llbErr  error
	// modelOnce guards the trust facts (facts.go), built on first use.
	modelOnce  sync.Once
	modelFacts *Facts
	// ruleOut holds what each rule that declares Reads reported, for the
	// analysis of a candidate patched from this version (reuse.go).
	ruleOut map[*Rule][]Finding
}

// buildkit returns BuildKit's lint warnings. The offline conversion is
// half the cost of analyzing a file, and the checks that need it (the rest
// are native) can only fire on files with variables, --platform, EXPOSE
// with a protocol or mapping, or a relative WORKDIR; other files skip it.
func (f *fileFacts) buildkit(ctx context.Context, d *Dockerfile) []BuildKitWarning {
	f.bkOnce.Do(func() {
		if !needsBuildKitLint(d) {
			return
		}
		f.conv = convertDockerfile(ctx, d, f.serialize)
		f.graph, f.conv.graph = f.conv.graph, nil
		f.bk, f.bkRan = f.conv.warnings, true
	})
	return f.bk
}

// conversion returns the file's one conversion: the lint run's, or else
// one made now. A candidate's keeps its graph for serialized; any other's
// is serialized at once, as a later ConvertLLB would ask, and its graph
// let go (an original's facts live as long as its result).
func (f *fileFacts) conversion(ctx context.Context, d *Dockerfile) conversion {
	f.buildkit(ctx, d)
	if f.bkRan {
		return f.conv
	}
	f.cvOnce.Do(func() {
		f.conv = convertDockerfile(ctx, d, true)
		if f.serialize {
			f.graph, f.conv.graph = f.conv.graph, nil
		} else {
			f.conv.serialize(ctx)
		}
	})
	return f.conv
}

// convert returns the offline conversion error, reusing the lint run.
func (f *fileFacts) convert(ctx context.Context, d *Dockerfile) error {
	return f.conversion(ctx, d).convertErr
}

// serialized returns the error of the conversion with the build graph
// serialized, reusing the file's conversion when it serialized or kept
// its graph to serialize.
func (f *fileFacts) serialized(ctx context.Context, d *Dockerfile) error {
	conv := f.conversion(ctx, d)
	f.llbOnce.Do(func() {
		switch {
		case conv.serialized:
			f.llbErr = conv.serializeErr
		case f.graph != nil:
			kept := conversion{graph: f.graph}
			f.graph = nil
			kept.serialize(ctx)
			f.llbErr = kept.serializeErr
		default:
			// The lint run of a file that is not a candidate kept no graph.
			c := convertDockerfile(ctx, d, true)
			c.serialize(ctx)
			f.llbErr = c.serializeErr
		}
	})
	return f.llbErr
}

func needsBuildKitLint(d *Dockerfile) bool {
	for _, in := range d.Instructions {
		for _, fl := range in.Flags {
			if strings.Contains(fl, "$") || (in.Keyword == "FROM" && strings.HasPrefix(fl, "--platform")) {
				return true
			}
		}
		switch in.Keyword {
		case "RUN":
			continue
		case "EXPOSE":
			if strings.ContainsAny(strings.Join(in.Args, " "), "/:") {
				return true
			}
		case "WORKDIR":
			if len(in.Args) > 0 && !strings.HasPrefix(in.Args[0], "/") {
				return true
			}
		case "ONBUILD":
			return true
		}
		if strings.Contains(string(d.Source[in.Start:in.End]), "$") {
			return true
		}
	}
	return false
}

// Waived reports whether the configuration turns a rule off or waives it
// for a path (by ID or equivalent), as the engine applies it to findings.
func (c *Configured) Waived(ruleID, path string) bool {
	r := c.a.byID[ruleID]
	if r == nil {
		return false
	}
	s := c.settings[ruleID]
	if s.Severity != nil && *s.Severity == SeverityOff {
		return true
	}
	return waivedByConfig(c.cfg, s, r, path)
}
