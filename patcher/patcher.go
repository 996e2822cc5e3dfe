// Package patcher applies the fixes of an analysis to Dockerfiles, to a
// fixed point, and verifies every result before it is proposed.
//
// It is pure: it reads the original bytes and the build contexts and
// returns new contents; writing files is the caller's business.
package patcher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/patcher/rewrite"
)

// DefaultMaxPasses bounds the fixed-point loop. Each pass applies every
// non-overlapping fix; fixes that overlap wait for the next pass, and few
// Dockerfiles need more than three.
const DefaultMaxPasses = 10

// Options are the patching policy.
type Options struct {
	// Apply is the highest fix safety applied: Safe, or Review (both).
	Apply analyzer.Safety
	// Mode is "in-place" (modify the Dockerfile) or "sibling" (create
	// Dockerfile.optimized next to it).
	Mode      string
	MaxPasses int
	// HardenCompose also proposes hardening the compose files that build
	// the patched Dockerfiles.
	HardenCompose bool
	// Skip keeps a rule's fixes out, for build verification that has
	// found the fix that breaks a build.
	Skip map[string]bool
	// Recheck is which rules a candidate's analysis runs again (by
	// default, those that read what the pass changed); ReuseMismatch
	// receives analyzer.RecheckVerify's differences.
	Recheck       analyzer.Recheck
	ReuseMismatch func(analyzer.ReuseMismatch)
}

func (o Options) withDefaults() Options {
	if o.Apply == "" {
		o.Apply = analyzer.Review
	}
	if o.Mode == "" {
		o.Mode = "in-place"
	}
	if o.MaxPasses <= 0 {
		o.MaxPasses = DefaultMaxPasses
	}
	return o
}

// Result is the outcome of patching a repository.
type Result struct {
	Files []*File
	// Changes are the files to write, sorted by path.
	Changes []Change
}

// Change is one file to create or modify, relative to the analyzed root.
type Change struct {
	Path     string
	Action   string // "modify" or "create"
	Content  []byte
	Original []byte
	// For is the Dockerfile this change belongs to; Why says what the file is.
	For string
	Why string
}

// File is the patching outcome for one Dockerfile.
type File struct {
	Path     string
	Original []byte
	Patched  []byte
	Before   *analyzer.FileResult
	After    *analyzer.FileResult
	Applied  []Applied
	Dropped  []Dropped
	// Generated are files created by applied fixes.
	Generated    []analyzer.GeneratedFile
	Verification Verification
	// Rewrite is the structural rewrite the patch started from, if any.
	Rewrite *rewrite.Rewrite
}

// Changed reports whether patching changed anything for this Dockerfile.
func (f *File) Changed() bool {
	return !bytes.Equal(f.Original, f.Patched) || len(f.Generated) > 0
}

// Applied is one fix that made it into the result.
type Applied struct {
	Rule    string
	Message string
	Safety  analyzer.Safety
	// Line is the finding's line in the original file when the fix was
	// applied in the first pass, else in the intermediate file.
	Line  int
	Pass  int
	Title string
}

// Dropped is a fix that was not applied, and why.
type Dropped struct {
	Rule    string
	Message string
	Safety  analyzer.Safety
	Line    int
	Reason  string
}

// Reasons a fix is dropped.
const (
	ReasonPolicy       = "policy: only safe fixes are applied"
	ReasonParse        = "the fixed Dockerfile would not parse"
	ReasonConvert      = "BuildKit could not convert the fixed Dockerfile"
	ReasonNewFindings  = "the fix introduced new findings"
	ReasonStageRef     = "the fix broke a stage reference"
	ReasonConflict     = "it overlapped another fix in every pass"
	ReasonBuildFailure = "the optimized image failed to build with this fix"
	ReasonTooLarge     = "the fixed file would have more instructions than BuildKit is given to convert, so nothing could check that it still builds"
	ReasonNotOffline   = "an ADD source BuildKit expands may name a git repository over SSH, whose host it would connect to while converting, and this system cannot keep the conversion off the network, so nothing could check that the file still builds"
	ReasonUnchecked    = "too many fixes of this file failed verification to check this one"
	ReasonIgnoreFile   = "the build context's .dockerignore has a pattern BuildKit refuses, so no build of this context can run, with or without the fix; fix that file first"
	ReasonTooBig       = "the fixed file would be larger than the 1 MiB dockopt analyzes"
	ReasonFileExists   = "it writes a new file where the repository already has one, which dockopt does not replace"
	// reasonCanceled never reaches a result: patching stops with ctx's error.
	reasonCanceled = "canceled"
	// Reasons from starting the built images (VerifyBuilds).
	ReasonStartFailure   = "the optimized image did not start with this fix"
	ReasonUnhealthy      = "the optimized image did not become healthy with this fix"
	ReasonStartUnchecked = "the optimized image could not be started to check this fix"
)

// Verification records the static checks of the patched Dockerfile.
type Verification struct {
	Parsed        bool
	Converted     bool
	NoNewFindings bool
	Fewer         bool
	Idempotent    bool
	StageRefs     bool
	Error         string
	// NewSuggestions are info-level rules the patched file triggers and
	// the original did not.
	NewSuggestions []string
}

// OK reports whether every check passed.
func (v Verification) OK() bool {
	return v.Parsed && v.Converted && v.NoNewFindings && v.Idempotent && v.StageRefs && v.Error == ""
}

// Patch applies the fixes of res to every analyzed Dockerfile. ctx is
// checked between files and passes and handed to the analyses and BuildKit;
// when it is canceled the error is ctx's and there is no result.
func Patch(ctx context.Context, a *analyzer.Analyzer, fsys fs.FS, res *analyzer.Result, cfg *analyzer.Config, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	run := configure(a, cfg, opts)
	patched := make([]*File, len(res.Files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, fr := range res.Files {
		if fr.Error != "" || fr.Dockerfile == nil || !Editable(fr) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			patched[i], _ = patchFile(ctx, run, fr, opts)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return assemble(fsys, patched, opts), nil
}

// assemble gathers the patched files, in order, and the files to write.
func assemble(fsys fs.FS, patched []*File, opts Options) *Result {
	out := &Result{}
	for _, f := range patched {
		if f != nil {
			out.Files = append(out.Files, f)
		}
	}
	out.Changes = changes(fsys, out.Files, opts)
	if opts.HardenCompose && opts.Apply.Allows(analyzer.Review) {
		out.Changes = append(out.Changes, hardenCompose(fsys, out.Files)...)
		sort.Slice(out.Changes, func(i, j int) bool { return out.Changes[i].Path < out.Changes[j].Path })
	}
	return out
}

// Stream is Patch for files handed over one at a time, as an analysis
// finishes each (analyzer.Configured.Each): the same result, without the
// analysis of every file held until the first is patched.
type Stream struct {
	run  *analyzer.Configured
	opts Options
	mu   sync.Mutex
	// patched is indexed as the analysis's files.
	patched []*File
}

// NewStream returns a Stream patching under cfg with opts.
func NewStream(a *analyzer.Analyzer, cfg *analyzer.Config, opts Options) *Stream {
	return &Stream{run: configure(a, cfg, opts), opts: opts.withDefaults()}
}

// Add patches the analysis's file i, as Patch would; files Patch leaves
// out (unparsed, not Editable) are left out. It is safe to call for
// different files at once. The error is ctx's, when it is canceled.
func (s *Stream) Add(ctx context.Context, i int, fr *analyzer.FileResult) (*File, error) {
	if fr.Error != "" || fr.Dockerfile == nil || !Editable(fr) {
		return nil, ctx.Err()
	}
	f, err := patchFile(ctx, s.run, fr, s.opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.patched) {
		s.patched = append(s.patched, make([]*File, i+1-len(s.patched))...)
	}
	s.patched[i] = f
	return f, nil
}

// Result is what Patch returns for the files added, in their order.
func (s *Stream) Result(fsys fs.FS) *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return assemble(fsys, s.patched, s.opts)
}

// NoteRewrites adds to each finding of an original that offers no fix,
// and says why, what the file's proposed rewrite does instead
// (rewrite.Rewrite.Does), so that the output does not say "no fix" of the
// change it proposes. It runs once the patch is final, builds included: a
// rewrite the build dropped is no longer the file's.
func (r *Result) NoteRewrites() {
	if r == nil {
		return
	}
	for _, f := range r.Files {
		if f != nil {
			f.NoteRewrite()
		}
	}
}

// NoteRewrite is NoteRewrites for one file, for a caller that lets go of
// the file's rewrite (pipeline's streamed run) before the patch is whole.
func (f *File) NoteRewrite() {
	if f.Rewrite == nil || f.Before == nil || len(f.Rewrite.Does) == 0 {
		return
	}
	for i := range f.Before.Findings {
		fd := &f.Before.Findings[i]
		does, ok := f.Rewrite.Does[fd.Rule]
		if !ok || fd.Fix != nil {
			continue
		}
		note := "; instead, the rewrite of this file (rewrite:" + f.Rewrite.Kind + ") " + does
		if !strings.HasSuffix(fd.Message, note) {
			fd.Message += note
		}
	}
}

// Editable reports whether dockopt may change a file at all. A template's
// placeholders make any edit unverifiable, and a generated file is
// rewritten by its generator, so neither is patched, rewritten or built;
// the analyzer already keeps their findings' fixes out, and this keeps out
// what does not come from a finding (a structural rewrite).
func Editable(fr *analyzer.FileResult) bool {
	return !fr.Template && fr.Generated == nil
}

// PatchFile patches one analyzed Dockerfile to a fixed point; a file that
// is not Editable comes back unchanged. The error is ctx's, when it is
// canceled.
func PatchFile(ctx context.Context, a *analyzer.Analyzer, before *analyzer.FileResult, cfg *analyzer.Config, opts Options) (*File, error) {
	return patchFile(ctx, configure(a, cfg, opts), before, opts.withDefaults())
}

// configure resolves the configuration the patcher re-analyzes with. The
// analysis being patched used the same configuration, and
// analyzer.Analyze refuses one with keys that name no rule, so the keys
// that resolve are all there is to apply.
func configure(a *analyzer.Analyzer, cfg *analyzer.Config, opts Options) *analyzer.Configured {
	run, _ := a.Configure(cfg)
	return run.Rechecking(opts.Recheck, opts.ReuseMismatch)
}

func patchFile(ctx context.Context, run *analyzer.Configured, before *analyzer.FileResult, opts Options) (*File, error) {
	if !Editable(before) {
		return &File{Path: before.Path, Original: before.Dockerfile.Source, Patched: before.Dockerfile.Source, Before: before, After: before,
			Verification: Verification{Parsed: true, Converted: true, NoNewFindings: true, Idempotent: true, StageRefs: true}}, nil
	}
	defer analyzer.Track(ctx, before.Path, "patching")()
	f, err := fixedPoint(ctx, run, before, opts)
	if ctx.Err() != nil {
		// What was found after the cancel is no verdict on a fix.
		return nil, ctx.Err()
	}
	return f, err
}

func fixedPoint(ctx context.Context, run *analyzer.Configured, before *analyzer.FileResult, opts Options) (*File, error) {
	p := &filePatcher{ctx: ctx, run: run, opts: opts, bc: before.BuildContext, path: before.Path, before: before,
		blocked: map[string]Dropped{}, retry: map[string]int{}, originalRules: ruleCounts(before.Findings)}
	f := &File{Path: before.Path, Original: before.Dockerfile.Source, Before: before}
	p.originalForeignRefs = foreignCopyRefs(before.Dockerfile)
	src := f.Original
	current := before
	if reason := unprovable(ctx, before); reason != "" {
		// Nothing could prove a fix keeps this file buildable.
		allowed, dropped := p.candidates(current)
		f.Dropped = dropped
		for _, c := range allowed {
			f.Dropped = append(f.Dropped, Dropped{Rule: c.Rule, Message: c.Fix.Message, Safety: c.Fix.Safety, Line: c.Line, Reason: reason})
		}
		sortDropped(f.Dropped)
		f.Patched, f.After = src, current
		f.Verification = p.verify(f, true)
		return f, nil
	}
	p.held = heldInstructions(before)
	switch rw, withheld := rewrite.Plan(before); {
	case rw != nil && len(p.held) > 0:
		f.Dropped = append(f.Dropped, Dropped{Rule: "rewrite:" + rw.Kind, Message: rw.Title, Safety: analyzer.Review, Line: 1,
			Reason: "withheld (" + string(analyzer.PreconditionCannotRun) + "): " + p.held[0].reason})
	case rw != nil:
		if next, res := p.rewrite(f, rw); res != nil {
			src, current = next, res
		}
	case withheld != nil:
		// The findings the rewrite would have resolved stay, each with
		// its own fix or reason.
		f.Dropped = append(f.Dropped, Dropped{Rule: "rewrite:" + withheld.Kind, Message: withheld.Title, Safety: analyzer.Review, Line: 1,
			Reason: "withheld (" + string(withheld.Precondition) + "): " + withheld.Reason})
	}
	idempotent := false
	for pass := 1; pass <= opts.MaxPasses; pass++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.pass = pass
		candidates, dropped := p.candidates(current)
		if pass == 1 {
			f.Dropped = append(f.Dropped, dropped...)
		}
		if len(candidates) == 0 {
			idempotent = true
			break
		}
		next, nextRes, applied := p.applyPass(src, current, candidates)
		if len(applied) == 0 {
			if len(p.withoutSuperseded(candidates)) < len(candidates) {
				// The fixes that superseded others were all blocked:
				// the next pass proposes the ones they held back.
				continue
			}
			idempotent = true
			break
		}
		for _, c := range applied {
			f.Applied = append(f.Applied, Applied{Rule: c.Rule, Message: c.Fix.Message, Safety: c.Fix.Safety, Line: c.Line, Pass: pass,
				Title: ruleTitle(p.run.Analyzer(), c.Rule)})
			f.Generated = mergeGenerated(f.Generated, c.Fix.Files)
		}
		p.bc = before.BuildContext.WithGenerated(f.Generated, p.path)
		p.shiftHeld(applied)
		src, current = next, nextRes
		p.changedIn = pass
	}
	for _, d := range p.blocked {
		f.Dropped = append(f.Dropped, d)
	}
	sortDropped(f.Dropped)
	f.Patched = src
	f.After = current
	f.Verification = p.verify(f, idempotent)
	if !f.Verification.OK() && f.Changed() {
		withdraw(f)
	}
	return f, nil
}

// withdraw takes back every fix of a file whose patched version failed
// verification: it stays as it was, and each fix is listed as dropped with
// the reason. Which fix is to blame is not known (a pass that never
// reaches a fixed point involves several), and no fix is better than one
// that cannot be shown to be right.
func withdraw(f *File) {
	reason := "the optimized file failed verification (" + f.Verification.Error + "), so none of its fixes is proposed"
	seen := map[Dropped]bool{}
	for _, a := range f.Applied {
		d := Dropped{Rule: a.Rule, Message: a.Message, Safety: a.Safety, Line: a.Line, Reason: reason}
		if !seen[d] {
			seen[d] = true
			f.Dropped = append(f.Dropped, d)
		}
	}
	sortDropped(f.Dropped)
	f.Applied, f.Generated, f.Rewrite = nil, nil, nil
	f.Patched, f.After = f.Original, f.Before
}

func sortDropped(ds []Dropped) {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Line != ds[j].Line {
			return ds[i].Line < ds[j].Line
		}
		return ds[i].Rule < ds[j].Rule
	})
}

type filePatcher struct {
	// ctx is the caller's, for the analyses and conversions of one file.
	ctx  context.Context
	run  *analyzer.Configured
	opts Options
	bc   *analyzer.BuildContext
	path string
	// blocked holds, by fixKey, the fixes that failed verification.
	blocked map[string]Dropped
	// pass is the pass being made; changedIn the last pass that changed
	// the file; retry holds, by fixKey, the pass in which a fix was
	// blocked for the findings it brought, which depend on the rest of
	// the file: once the file has changed since, the fix is tried again.
	pass, changedIn int
	retry           map[string]int
	originalRules   map[string]int
	// before is the original's analysis; whether it converts is asked
	// of it only when that decides something (originalConverts).
	before              *analyzer.FileResult
	originalForeignRefs map[string]bool
	// splitTries and splitBytes count the tries spent finding failing
	// fixes, and the bytes they analyzed.
	splitTries, splitBytes int
	// held are the instructions no fix may edit, in the file being patched.
	held []held
	// refused holds, by candidate, why check refused it. The same
	// candidate comes back: halving a batch whose first half passes tries
	// the second with it, which is the batch that failed, and a fix
	// retried in the next pass may make the file the batch that blocked it
	// made. Its analysis and check would refuse it again for the same
	// reason (one in forty of a corpus's candidates).
	refused map[refusedKey]string
}

// held is an instruction the original's findings say cannot run as
// written, at its offsets in the file being patched. The analysis withholds
// the fixes that edit it; a later pass, after the fix of the line's base
// (FROM mysql:8.0-debian), would propose them again, which would edit a
// line the report says is left alone, and which is only right if the
// reviewer takes that fix.
type held struct {
	start, end int
	reason     string
}

func heldInstructions(fr *analyzer.FileResult) []held {
	var out []held
	for _, u := range fr.Unrunnable() {
		out = append(out, held{start: u.Instruction.Start, end: u.Instruction.End,
			reason: fmt.Sprintf("line %d cannot run as written in the original (%s), so it is left as it is until that is fixed", u.Instruction.StartLine, u.Rule)})
	}
	return out
}

// shiftHeld moves the held instructions past the applied fixes' edits. An
// instruction a fix changed (the rule that says it cannot run may fix it)
// is held no more.
func (p *filePatcher) shiftHeld(applied []analyzer.Finding) {
	var kept []held
	for _, h := range p.held {
		if moved, ok := h.shift(applied); ok {
			kept = append(kept, moved)
		}
	}
	p.held = kept
}

// shift returns h after the fixes' edits, false when one changes it.
func (h held) shift(applied []analyzer.Finding) (held, bool) {
	delta := 0
	for _, c := range applied {
		for _, e := range c.Fix.Edits {
			switch {
			case e.Start < h.end && e.End > h.start:
				return h, false
			case e.End <= h.start:
				delta += len(e.New) - (e.End - e.Start)
			}
		}
	}
	h.start, h.end = h.start+delta, h.end+delta
	return h, true
}

// holds returns why a fix may not be applied in the current file: it edits
// an instruction that is held, or is about one and is not the way out of
// it. "" when it may.
func (p *filePatcher) holds(d *analyzer.Dockerfile, f analyzer.Finding) string {
	if f.CannotRun() {
		return ""
	}
	for _, h := range p.held {
		for _, e := range f.Fix.Edits {
			if e.Start < h.end && e.End > h.start {
				return h.reason
			}
		}
		if d == nil {
			continue
		}
		for _, in := range d.Instructions {
			if in.Start == h.start && in.StartLine <= f.Line && f.Line <= in.EndLine {
				return h.reason
			}
		}
	}
	return ""
}

// originalConverts reports whether BuildKit converts the original file. It
// is asked only when a candidate does not convert, or grows past the
// instructions BuildKit is given: whether the original converts decides
// then whether that is a regression. A candidate that converts needs no
// answer, so the original is not converted for it (its conversion was
// one of the three a patched file cost; the file's analysis has it
// already when BuildKit's checks ran).
func (p *filePatcher) originalConverts() bool {
	return p.before.ConvertError(p.ctx) == nil
}

// unprovable returns why BuildKit cannot convert the file, or build its
// context at all (an ignore file it refuses), so that nothing could check
// a fix of it, or "" when it can. It converts the original only when the
// cheap test says it may be refused.
func unprovable(ctx context.Context, before *analyzer.FileResult) string {
	switch d := before.Dockerfile; {
	case before.BuildContext != nil && before.BuildContext.DockerIgnore.CompileError() != nil:
		return ReasonIgnoreFile
	case tooManyInstructions(d) && errors.Is(before.ConvertError(ctx), analyzer.ErrTooManyInstructions):
		return ReasonTooLarge
	case analyzer.MayScanGitHost(d) && errors.Is(before.ConvertError(ctx), analyzer.ErrGitHostScan):
		return ReasonNotOffline
	}
	return ""
}

// tooManyInstructions reports whether d has more instructions than
// BuildKit is given to convert, as its conversion counts them.
func tooManyInstructions(d *analyzer.Dockerfile) bool {
	return d.AST != nil && len(d.AST.Children) > analyzer.MaxConvertInstructions
}

// candidates returns the fixes the policy allows, safest and most severe
// first, and the ones it keeps out.
func (p *filePatcher) candidates(fr *analyzer.FileResult) (ok []analyzer.Finding, dropped []Dropped) {
	for _, f := range fr.Findings {
		if f.Fix == nil || (len(f.Fix.Edits) == 0 && len(f.Fix.Files) == 0) {
			continue
		}
		if p.opts.Skip[f.Rule] {
			continue
		}
		if !p.opts.Apply.Allows(f.Fix.Safety) {
			dropped = append(dropped, Dropped{Rule: f.Rule, Message: f.Fix.Message, Safety: f.Fix.Safety, Line: f.Line, Reason: ReasonPolicy})
			continue
		}
		if why := p.holds(fr.Dockerfile, f); why != "" {
			p.block(f, why)
			continue
		}
		if key := fixKey(f); p.isBlocked(key) {
			if at, ok := p.retry[key]; !ok || p.changedIn < at {
				continue
			}
			// Another fix applied in or after the pass that blocked this
			// one may have removed what its new finding was about (the
			// apt lists an earlier RUN left, now removed there): without
			// another try, a second run of dockopt would apply it.
			delete(p.blocked, key)
			delete(p.retry, key)
		}
		ok = append(ok, f)
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if ok[i].Fix.Safety != ok[j].Fix.Safety {
			return ok[i].Fix.Safety == analyzer.Safe
		}
		if ok[i].Severity != ok[j].Severity {
			return ok[i].Severity < ok[j].Severity
		}
		return ok[i].Line < ok[j].Line
	})
	return ok, dropped
}

// maxSplitTries and maxSplitBytes bound the re-analyses a file's patching
// spends finding the fixes that fail verification: at most 24, and at most
// 4 MiB of Dockerfile analyzed in all. Each is an analysis of the whole
// file, so trying every fix alone made a file of N failing fixes cost N
// analyses, each as long as the file.
const (
	maxSplitTries = 24
	maxSplitBytes = 4 << 20
)

// applyPass applies as many non-overlapping candidates as verify together.
// When the batch fails verification, it is halved: a half that verifies
// together with the fixes kept so far is kept, a half that does not is
// halved again, and a single fix that does not is blocked for good with
// the reason. A few failing fixes among N cost a few times log N tries.
func (p *filePatcher) applyPass(src []byte, current *analyzer.FileResult, candidates []analyzer.Finding) ([]byte, *analyzer.FileResult, []analyzer.Finding) {
	batch := p.fitSize(src, analyzer.NonOverlapping(p.withoutSuperseded(candidates)))
	if !fitsConvertLimit(src, batch) && p.originalConverts() {
		batch = p.fitConvertLimit(src, batch)
	}
	if len(batch) == 0 {
		return src, nil, nil
	}
	next, res, reason := p.try(src, current, batch)
	if reason == "" {
		return next, res, batch
	}
	var good []analyzer.Finding
	var goodNext []byte
	var goodRes *analyzer.FileResult
	var split func(group []analyzer.Finding, reason string)
	split = func(group []analyzer.Finding, reason string) {
		if len(group) == 1 {
			p.block(group[0], reason)
			return
		}
		mid := len(group) / 2
		for _, half := range [][]analyzer.Finding{group[:mid], group[mid:]} {
			if p.ctx.Err() != nil {
				return
			}
			if p.splitTries >= maxSplitTries || p.splitBytes+len(src) > maxSplitBytes {
				for _, c := range half {
					p.block(c, ReasonUnchecked)
				}
				continue
			}
			p.splitTries++
			p.splitBytes += len(src)
			with := append(slices.Clip(good), half...)
			if next, res, reason := p.try(src, current, with); reason == "" {
				good, goodNext, goodRes = with, next, res
			} else {
				split(half, reason)
			}
		}
	}
	split(batch, reason)
	if len(good) == 0 {
		return src, nil, nil
	}
	// The fixes were tried in candidate order, so good keeps it.
	return goodNext, goodRes, good
}

// withoutSuperseded leaves out, for this pass, a fix whose instruction
// also has a fix from a rule that supersedes it: apk add --no-cache next to
// a cache mount for apk would make the mount useless. The left-out rule
// looks again at the next pass's result, where the mount answers it; if
// the superseding fix is blocked, it is proposed then.
func (p *filePatcher) withoutSuperseded(candidates []analyzer.Finding) []analyzer.Finding {
	type onLine struct {
		rule string
		line int
	}
	superseded := map[onLine]bool{}
	for _, c := range candidates {
		for _, r := range p.run.Analyzer().Lookup(c.Rule) {
			for _, id := range r.Supersedes {
				superseded[onLine{id, c.Line}] = true
			}
		}
	}
	if len(superseded) == 0 {
		return candidates
	}
	return slices.DeleteFunc(slices.Clone(candidates), func(c analyzer.Finding) bool {
		return superseded[onLine{c.Rule, c.Line}]
	})
}

// fitSize keeps the fixes, in order, that leave the file within the size
// dockopt analyzes, and blocks the others: how much a fix adds is known
// from its edits, so this needs no analysis (halving the batch to find
// them re-analyzed a 1 MiB file again and again).
func (p *filePatcher) fitSize(src []byte, batch []analyzer.Finding) []analyzer.Finding {
	size := len(src)
	var out []analyzer.Finding
	for _, f := range batch {
		grow := 0
		for _, e := range f.Fix.Edits {
			grow += len(e.New) - (e.End - e.Start)
		}
		if size+grow > analyzer.MaxDockerfileSize {
			p.block(f, ReasonTooBig)
			continue
		}
		size += grow
		out = append(out, f)
	}
	return out
}

// maxLimitParses bounds the parses fitConvertLimit spends.
const maxLimitParses = 64

// fitConvertLimit keeps the fixes that leave the file within the
// instructions BuildKit is given to convert, when the original was: a fix
// that adds instructions to a file at the limit would make every try of
// the batch fail, and halving with whole analyses to find it is costly.
// Whether a set of fixes fits needs only a parse, so the halving here is
// cheap; the fixes that do not fit are blocked with the reason.
func (p *filePatcher) fitConvertLimit(src []byte, batch []analyzer.Finding) []analyzer.Finding {
	parses := 0
	fits := func(fixes []analyzer.Finding) bool {
		parses++
		return fitsConvertLimit(src, fixes)
	}
	if len(batch) == 0 || fits(batch) {
		return batch
	}
	var keep []analyzer.Finding
	var split func(group []analyzer.Finding)
	split = func(group []analyzer.Finding) {
		if len(group) == 1 {
			p.block(group[0], ReasonTooLarge)
			return
		}
		mid := len(group) / 2
		for _, half := range [][]analyzer.Finding{group[:mid], group[mid:]} {
			if parses >= maxLimitParses {
				for _, c := range half {
					p.block(c, ReasonUnchecked)
				}
				continue
			}
			if with := append(slices.Clip(keep), half...); fits(with) {
				keep = with
			} else {
				split(half)
			}
		}
	}
	split(batch)
	return keep
}

// fitsConvertLimit reports whether src with fixes applied stays within
// the instructions BuildKit is given to convert (or the fixes do not
// apply, which try reports).
func fitsConvertLimit(src []byte, fixes []analyzer.Finding) bool {
	if len(fixes) == 0 {
		return true
	}
	next, _, err := analyzer.ApplyFixes(src, fixes)
	return err != nil || analyzer.CheckConvertLimit(next) == nil
}

func (p *filePatcher) isBlocked(key string) bool {
	_, blocked := p.blocked[key]
	return blocked
}

func (p *filePatcher) block(f analyzer.Finding, reason string) {
	key := fixKey(f)
	p.blocked[key] = Dropped{Rule: f.Rule, Message: f.Fix.Message, Safety: f.Fix.Safety, Line: f.Line, Reason: reason}
	if strings.HasPrefix(reason, ReasonNewFindings) {
		if _, tried := p.retry[key]; !tried {
			p.retry[key] = p.pass
		}
	}
}

// try applies fixes to src, whose analysis is current, and checks the
// result; it returns the reason the result is refused, or "".
func (p *filePatcher) try(src []byte, current *analyzer.FileResult, fixes []analyzer.Finding) ([]byte, *analyzer.FileResult, string) {
	next, generated, err := analyzer.ApplyFixes(src, fixes)
	if err != nil {
		return nil, nil, ReasonConflict
	}
	if p.writesExistingFile(generated) {
		// The COPY the fix adds would bring the repository's file, not
		// the one the fix wrote (rules check, and this catches a rule
		// that did not).
		return nil, nil, ReasonFileExists
	}
	if analyzer.CheckConvertLimit(next) != nil && p.originalConverts() {
		// Refused before the whole file is analyzed: it would be anyway.
		return nil, nil, ReasonTooLarge
	}
	key := refusedKey{bc: p.bc, sum: candidateSum(next, generated)}
	if reason, ok := p.refused[key]; ok {
		return nil, nil, reason
	}
	res, err := p.run.AnalyzeCandidate(p.ctx, p.path, next, key.bc.WithGenerated(generated, p.path), current)
	if err != nil {
		return nil, nil, reasonCanceled
	}
	if reason := p.check(res); reason != "" {
		if p.refused == nil {
			p.refused = map[refusedKey]string{}
		}
		p.refused[key] = reason
		return nil, nil, reason
	}
	return next, res, ""
}

// refusedKey names a candidate by what its analysis and check read: its
// bytes and generated files (candidateSum), and the build context they
// were added to.
type refusedKey struct {
	bc  *analyzer.BuildContext
	sum [sha256.Size]byte
}

// candidateSum is the SHA-256 of a candidate's bytes and generated files,
// each length-prefixed so that no two candidates share an input.
func candidateSum(src []byte, generated []analyzer.GeneratedFile) [sha256.Size]byte {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(string(src))
	for _, g := range generated {
		field(g.Path)
		field(g.Content)
		field(g.Merge)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// writesExistingFile reports whether a generated file that is not merged
// into an existing one names a file the original's context already holds.
func (p *filePatcher) writesExistingFile(generated []analyzer.GeneratedFile) bool {
	bc := p.before.BuildContext
	return bc != nil && slices.ContainsFunc(generated, func(g analyzer.GeneratedFile) bool {
		return g.Merge == "" && bc.HasPath(g.Path)
	})
}

// check decides whether a candidate result may be proposed: it must parse,
// convert where the original converted, bring no new problem and name no
// stage that does not exist. It returns the reason it may not, or "".
func (p *filePatcher) check(res *analyzer.FileResult) string {
	switch {
	case res.Error != "" || res.Dockerfile == nil:
		return ReasonParse
	case errors.Is(res.ConvertError(p.ctx), analyzer.ErrTooManyInstructions) && p.originalConverts():
		return ReasonTooLarge
	case res.ConvertError(p.ctx) != nil && p.originalConverts():
		return ReasonConvert
	case newProblems(res.Findings, p.originalRules) > 0:
		return ReasonNewFindings + " (" + describeNewProblems(res.Findings, p.originalRules) + ")"
	case p.brokenStageRef(res.Dockerfile) != "":
		return ReasonStageRef
	}
	return ""
}

// rewrite applies a structural rewrite as one fix when the policy allows
// review changes, it does nothing a waiver refuses and its result passes
// check and leaves fewer problems; otherwise it records why not.
func (p *filePatcher) rewrite(f *File, rw *rewrite.Rewrite) ([]byte, *analyzer.FileResult) {
	rule := "rewrite:" + rw.Kind
	drop := func(reason string) {
		f.Dropped = append(f.Dropped, Dropped{Rule: rule, Message: rw.Title, Safety: analyzer.Review, Line: 1, Reason: reason})
	}
	if !p.opts.Apply.Allows(analyzer.Review) {
		drop(ReasonPolicy)
		return nil, nil
	}
	if waived := p.waivedResolves(rw); waived != "" {
		drop("it would also do what the waived rule " + waived + " asks")
		return nil, nil
	}
	next, res, reason := p.try(f.Original, f.Before, []analyzer.Finding{{Rule: rule, Line: 1, Fix: rw.Fix(f.Original)}})
	if reason == "" && !fewer(res.Findings, f.Before.Findings) {
		reason = "the rewrite did not leave fewer problems"
	}
	if reason != "" {
		drop(reason)
		return nil, nil
	}
	f.Rewrite = rw
	f.Generated = mergeGenerated(f.Generated, rw.Files)
	p.bc = f.Before.BuildContext.WithGenerated(f.Generated, p.path)
	f.Applied = append(f.Applied, Applied{Rule: rule, Message: rw.Title, Safety: analyzer.Review, Line: 1, Pass: 0, Title: "Structural rewrite"})
	return next, res
}

// waivedResolves names a rule the rewrite resolves that the configuration
// waives: a rewrite is one change, so it cannot leave that part out, and a
// waiver means the person does not want it.
func (p *filePatcher) waivedResolves(rw *rewrite.Rewrite) string {
	for _, id := range rw.Resolves {
		if p.run.Waived(id, p.path) {
			return id
		}
	}
	return ""
}

func (p *filePatcher) verify(f *File, idempotent bool) Verification {
	v := Verification{Idempotent: idempotent, StageRefs: true}
	// f.After is the analysis of f.Patched and passed check when it was
	// made; what is left is the full conversion (with the build graph
	// serialized, as a build submits it) and the comparison with the start.
	d := f.After.Dockerfile
	v.Parsed = d != nil && f.After.Error == ""
	if !v.Parsed {
		v.Error = f.After.Error
		return v
	}
	if len(f.Applied) == 0 {
		// Nothing was changed: the file is the original, which no fix can
		// have made worse, and whose verification the report never shows.
		// Converting it here cost a fifth of the corpus's conversions.
		v.Converted = true
	} else if cerr := f.After.ConvertLLB(p.ctx); cerr == nil {
		v.Converted = true
	} else if !p.originalConverts() {
		// The original did not convert either; the patch is no worse.
		v.Converted = true
	} else {
		v.Error = "BuildKit conversion failed: " + cerr.Error()
	}
	if ref := p.brokenStageRef(d); ref != "" {
		v.StageRefs = false
		v.Error = fmt.Sprintf("COPY --from=%s names no stage", ref)
	}
	v.NoNewFindings = newProblems(f.After.Findings, p.originalRules) == 0
	for _, fd := range f.After.Findings {
		if p.originalRules[fd.Rule] == 0 {
			v.NewSuggestions = append(v.NewSuggestions, fd.Rule)
		}
	}
	v.Fewer = len(f.Applied) == 0 || fewer(f.After.Findings, f.Before.Findings)
	if !idempotent && v.Error == "" {
		v.Error = fmt.Sprintf("no fixed point after %d passes", p.opts.MaxPasses)
	}
	return v
}

// brokenStageRef returns a stage reference of d that names neither a stage
// nor an image and was not in the original, "" when there is none.
func (p *filePatcher) brokenStageRef(d *analyzer.Dockerfile) string {
	refs := foreignCopyRefs(d)
	for _, ref := range slices.Sorted(maps.Keys(refs)) {
		if !p.originalForeignRefs[ref] {
			return ref
		}
	}
	return ""
}

// foreignCopyRefs are COPY --from and RUN --mount from= values that name
// neither a stage nor something that looks like an image reference; a
// fix that adds one has broken a stage reference.
func foreignCopyRefs(d *analyzer.Dockerfile) map[string]bool {
	out := map[string]bool{}
	check := func(ref string) {
		if ref == "" || d.StageByRef(ref) != nil || strings.ContainsAny(ref, ":/.@$") {
			return
		}
		out[ref] = true
	}
	for in := range d.Each("COPY") {
		if v, ok := in.Flag("from"); ok {
			check(v)
		}
	}
	for in := range d.Each("RUN") {
		for _, m := range in.Mounts() {
			check(m.From)
		}
	}
	return out
}

// newProblems counts findings at warning or error of rules the original
// did not trigger. A new info-level suggestion does not block a fix: adding
// `USER app` to a root image is worth more than the hint that follows it
// (use a numeric UID); such suggestions are listed in the verification.
func newProblems(fs []analyzer.Finding, original map[string]int) int {
	n := 0
	for _, f := range fs {
		if isNewProblem(f, original) {
			n++
		}
	}
	return n
}

// isNewProblem reports a finding at warning or error of a rule the
// original did not trigger.
func isNewProblem(f analyzer.Finding, original map[string]int) bool {
	return original[f.Rule] == 0 && f.Severity <= analyzer.SeverityWarning
}

// describeNewProblems names the new problems newProblems counts, rule
// and line, the first three: what a maintainer reads to see why a fix was
// held back.
func describeNewProblems(fs []analyzer.Finding, original map[string]int) string {
	var parts []string
	for _, f := range fs {
		if isNewProblem(f, original) {
			if len(parts) == 3 {
				parts = append(parts, "…")
				break
			}
			parts = append(parts, fmt.Sprintf("%s on line %d", f.Rule, f.Line))
		}
	}
	return strings.Join(parts, ", ")
}

// fewer compares by what matters: fewer errors and warnings, or as many
// and fewer findings in all.
func fewer(after, before []analyzer.Finding) bool {
	serious := func(fs []analyzer.Finding) int {
		n := 0
		for _, f := range fs {
			if f.Severity <= analyzer.SeverityWarning {
				n++
			}
		}
		return n
	}
	a, b := serious(after), serious(before)
	return a < b || (a == b && len(after) < len(before))
}

func ruleCounts(fs []analyzer.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Rule]++
	}
	return m
}

func fixKey(f analyzer.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%d\x00", f.Rule, f.Fix.Message, f.Line)
	for _, e := range f.Fix.Edits {
		b.WriteString(e.New)
		b.WriteByte(0)
	}
	return b.String()
}

func ruleTitle(a *analyzer.Analyzer, id string) string {
	if rs := a.Lookup(id); len(rs) > 0 {
		return rs[0].Title
	}
	return id
}

// mergeGenerated adds files, combining ones with the same path.
func mergeGenerated(have []analyzer.GeneratedFile, add []analyzer.GeneratedFile) []analyzer.GeneratedFile {
	for _, g := range add {
		merged := false
		for i := range have {
			if have[i].Path == g.Path {
				have[i].Content = analyzer.AppendMissingLines(have[i].Content, g.Content)
				merged = true
			}
		}
		if !merged {
			have = append(have, g)
		}
	}
	return have
}

// changes turns patched files into the files to write.
func changes(fsys fs.FS, files []*File, opts Options) []Change {
	byPath := map[string]*Change{}
	for _, f := range files {
		if !bytes.Equal(f.Original, f.Patched) {
			c := &Change{Path: f.Path, Action: "modify", Content: f.Patched, Original: f.Original, For: f.Path, Why: "optimized Dockerfile"}
			if opts.Mode == "sibling" {
				c = &Change{Path: f.Path + ".optimized", Action: "create", Content: f.Patched, For: f.Path,
					Why: "optimized version of " + path.Base(f.Path) + ", to compare and adopt"}
			}
			byPath[c.Path] = c
		}
		for _, g := range f.Generated {
			if opts.Mode == "sibling" && isDockerignore(g.Path) {
				g = siblingDockerignore(fsys, f.Path, g)
			}
			if c, ok := byPath[g.Path]; ok {
				c.Content = []byte(analyzer.AppendMissingLines(string(c.Content), g.Content))
				continue
			}
			existing, err := fs.ReadFile(fsys, g.Path)
			switch {
			case err != nil:
				byPath[g.Path] = &Change{Path: g.Path, Action: "create", Content: []byte(g.Content), For: f.Path, Why: describeGenerated(g)}
			case g.Merge == "append-lines":
				merged := analyzer.AppendMissingLines(string(existing), g.Content)
				if merged != string(existing) {
					byPath[g.Path] = &Change{Path: g.Path, Action: "modify", Content: []byte(merged), Original: existing, For: f.Path, Why: describeGenerated(g)}
				}
			}
		}
	}
	out := make([]Change, 0, len(byPath))
	for _, c := range byPath {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func isDockerignore(p string) bool {
	return strings.HasSuffix(path.Base(p), ".dockerignore")
}

// siblingDockerignore moves a .dockerignore change of sibling mode, which
// leaves everything the original build reads untouched, to the ignore file
// BuildKit reads for Dockerfile.optimized alone: <Dockerfile>.optimized
// .dockerignore next to it, which takes the place of the context's
// .dockerignore for that build only. It holds the context's patterns
// (the ones g was computed from) and g's.
func siblingDockerignore(fsys fs.FS, dockerfile string, g analyzer.GeneratedFile) analyzer.GeneratedFile {
	content := g.Content
	if existing, err := fs.ReadFile(fsys, g.Path); err == nil {
		content = analyzer.AppendMissingLines(string(existing), g.Content)
	}
	return analyzer.GeneratedFile{Path: dockerfile + ".optimized.dockerignore", Content: content, Merge: "append-lines"}
}

func describeGenerated(g analyzer.GeneratedFile) string {
	if g.Why != "" {
		return g.Why
	}
	switch base := path.Base(g.Path); {
	case base == ".dockerignore" || strings.HasSuffix(base, ".dockerignore"):
		return "keeps the build context small and secrets out of the image"
	}
	return "file created by a fix"
}
