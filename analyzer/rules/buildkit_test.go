package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/ruletest"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// buildkitCheck returns the BuildKit check a rule mirrors.
func buildkitCheck(r *analyzer.Rule) string {
	for _, e := range r.Equivalents {
		if name, ok := strings.CutPrefix(e, "buildkit:"); ok {
			return name
		}
	}
	return ""
}

// buildkitRules are the rules that mirror a check of `docker build
// --check`, held here to BuildKit's own verdict.
func buildkitRules() []*analyzer.Rule {
	var out []*analyzer.Rule
	for _, r := range All() {
		if buildkitCheck(r) != "" {
			out = append(out, r)
		}
	}
	return out
}

// agreement says how a natively implemented rule relates to BuildKit's own
// warnings on the same input. Rules absent from the table report exactly
// BuildKit's warnings by construction.
type agreement int

const (
	// exact: the same instructions, no more, no less.
	exact agreement = iota
	// fewer: a subset, because dockopt deliberately drops warnings it
	// cannot stand behind (UndefinedVar on an unknown base image, …).
	fewer
	// more: a superset whose extra findings all carry a fix.
	more
	// wider: a superset, because dockopt knows what the offline conversion
	// cannot (the platform of Docker Hub's per-architecture images).
	wider
	// moreKnown: as more, except on instructions that use a variable:
	// offline BuildKit expands one the file never sets to nothing, while
	// the base image may set it, so dockopt may stay silent there.
	moreKnown
)

var nativeAgreement = map[string]agreement{
	"StageNameCasing":                exact,
	"FromAsCasing":                   exact,
	"NoEmptyContinuation":            exact,
	"ConsistentInstructionCasing":    exact,
	"DuplicateStageName":             exact,
	"ReservedStageName":              exact,
	"MaintainerDeprecated":           exact,
	"MultipleInstructionsDisallowed": exact,
	"LegacyKeyValueFormat":           exact,
	"WorkdirRelativePath":            moreKnown,
	"JSONArgsRecommended":            exact,
	"InvalidBaseImagePlatform":       wider,
	"InvalidDefinitionDescription":   fewer,
}

// deliberateDrops are BuildKit warnings a rule leaves out on purpose, each
// for a reason stated in the rule's rationale.
var deliberateDrops = map[string]func(d *analyzer.Dockerfile, line int) bool{
	// The offline conversion targets Linux, where C:\app is relative.
	"WorkdirRelativePath": func(d *analyzer.Dockerfile, line int) bool {
		in := instructionOnLine(d, line)
		return in != nil && in.Stage != nil && in.Stage.Root().Base.IsWindows()
	},
}

// experimentalChecks are off in BuildKit unless the Dockerfile asks for them.
var experimentalChecks = map[string]bool{"InvalidDefinitionDescription": true}

type agreementInput struct {
	name string
	src  []byte
}

func agreementInputs(t *testing.T) []agreementInput {
	var out []agreementInput
	corpus, _ := filepath.Glob(filepath.Join("..", "testdata", "corpus", "*", "Dockerfile"))
	for _, f := range corpus {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, agreementInput{f, src})
	}
	for _, r := range buildkitRules() {
		for _, c := range ruletest.Cases(t, "testdata", r.ID) {
			for _, f := range c.Archive.Files {
				if f.Name == "Dockerfile" || f.Name == "Dockerfile.fixed" {
					out = append(out, agreementInput{c.Path + ":" + f.Name, f.Data})
				}
			}
		}
	}
	return out
}

// findingsOf analyzes src with the whole catalog, inline ignores off, and
// keeps the rule's findings.
func findingsOf(a *analyzer.Analyzer, r *analyzer.Rule, src []byte) ([]analyzer.Finding, *analyzer.Dockerfile, string) {
	return findingsIn(a, r, src, nil)
}

// findingsIn is findingsOf with the build context of a case: the files
// besides the Dockerfile and the expectations (an update script whose
// sed edits a line decides whether the line's fix is offered).
func findingsIn(a *analyzer.Analyzer, r *analyzer.Rule, src []byte, c *ruletest.Case) ([]analyzer.Finding, *analyzer.Dockerfile, string) {
	off := false
	cfg := analyzer.DefaultConfig()
	cfg.InlineIgnores = &off
	fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: src}}
	if c != nil {
		for _, f := range c.Archive.Files {
			switch f.Name {
			case "Dockerfile", "Dockerfile.fixed", "findings":
			default:
				if !strings.Contains(f.Name, " (") {
					fsys[f.Name] = &fstest.MapFile{Data: f.Data}
				}
			}
		}
	}
	fr, err := a.AnalyzeSource(context.Background(), "Dockerfile", src, analyzer.ContextFor(fsys, "Dockerfile", "."), cfg)
	if err != nil {
		return nil, nil, err.Error()
	}
	if fr.Error != "" {
		return nil, nil, fr.Error
	}
	var out []analyzer.Finding
	for _, f := range fr.Findings {
		if f.Rule == r.ID {
			out = append(out, f)
		}
	}
	return out, fr.Dockerfile, ""
}

// warningLines returns the start lines of the instructions BuildKit's
// warnings of one check point at.
func warningLines(d *analyzer.Dockerfile, src []byte, check string) ([]int, error) {
	if experimentalChecks[check] {
		if _, ok := d.Directive("check"); ok {
			return nil, fmt.Errorf("has its own check directive")
		}
		src = append([]byte("# check=experimental="+check+"\n"), src...)
	}
	ws, _ := analyzer.BuildKitLint(context.Background(), src)
	var lines []int
	for _, w := range ws {
		if w.Rule != check {
			continue
		}
		line := w.StartLine
		if experimentalChecks[check] {
			line--
		}
		if in := instructionSpanning(d, line); in != nil {
			line = in.StartLine
		}
		if drop := deliberateDrops[check]; drop != nil && drop(d, line) {
			continue
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return lines, nil
}

// TestBuildKitAgreement holds every natively implemented BuildKit rule to
// BuildKit's own verdict on the corpus and on every case of these rules.
func TestBuildKitAgreement(t *testing.T) {
	a := analyzer.New(All())
	inputs := agreementInputs(t)
	for _, r := range buildkitRules() {
		check := buildkitCheck(r)
		mode, native := nativeAgreement[check]
		if !native {
			continue
		}
		t.Run(r.ID, func(t *testing.T) {
			fired := 0
			for _, in := range inputs {
				fs, d, msg := findingsOf(a, r, in.src)
				if msg != "" {
					if !strings.HasPrefix(in.name, "..") {
						t.Errorf("%s: %s", in.name, msg)
					}
					continue
				}
				want, err := warningLines(d, in.src, check)
				if err != nil {
					continue
				}
				var got, fixable []int
				for _, f := range fs {
					got = append(got, f.Line)
					if f.Fix != nil {
						fixable = append(fixable, f.Line)
					}
				}
				slices.Sort(got)
				fired += len(got)
				switch mode {
				case exact:
					if !slices.Equal(got, want) {
						t.Errorf("%s: %s on lines %v, BuildKit's %s on %v", in.name, r.ID, got, check, want)
					}
				case fewer:
					if missing := minus(got, want); len(missing) > 0 {
						t.Errorf("%s: %s on lines %v where BuildKit's %s does not fire (it does on %v)", in.name, r.ID, missing, check, want)
					}
				case more, wider, moreKnown:
					missing := minus(want, got)
					if mode == moreKnown {
						missing = slices.DeleteFunc(missing, func(l int) bool { return usesVariable(d, l) })
					}
					if len(missing) > 0 {
						t.Errorf("%s: BuildKit's %s fires on lines %v that %s misses", in.name, check, missing, r.ID)
					}
					if extra := minus(minus(got, want), fixable); mode != wider && len(extra) > 0 {
						t.Errorf("%s: %s reports lines %v beyond BuildKit without a fix", in.name, r.ID, extra)
					}
				}
			}
			if fired == 0 {
				t.Errorf("%s fired on no input; the agreement test proves nothing", r.ID)
			}
		})
	}
}

// usesVariable reports whether the instruction on a line refers to a
// variable.
func usesVariable(d *analyzer.Dockerfile, line int) bool {
	in := instructionOnLine(d, line)
	return in != nil && strings.Contains(in.Text(d.Source), "$")
}

// minus returns the elements of a not matched one for one in b.
func minus[T comparable](a, b []T) []T {
	rest := slices.Clone(b)
	var out []T
	for _, x := range a {
		if i := slices.Index(rest, x); i >= 0 {
			rest = slices.Delete(rest, i, i+1)
			continue
		}
		out = append(out, x)
	}
	return out
}

// TestBuildKitFixesClearWarnings checks every fixed Dockerfile of these rules
// with BuildKit itself: each warning a fix addresses must be gone, no new
// warning of the check may appear, a convertible file must stay
// convertible, and the rule must have nothing left to fix.
func TestBuildKitFixesClearWarnings(t *testing.T) {
	a := analyzer.New(All())
	for _, r := range buildkitRules() {
		check := buildkitCheck(r)
		for _, c := range ruletest.Cases(t, "testdata", r.ID) {
			before, after := c.File("Dockerfile"), c.File("Dockerfile.fixed")
			if after == nil {
				continue
			}
			_, errBefore := analyzer.BuildKitLint(t.Context(), before)
			if _, err := analyzer.BuildKitLint(t.Context(), after); err != nil && errBefore == nil {
				t.Errorf("%s: the fix makes the Dockerfile fail to convert: %v", c.Path, err)
			}
			found, d, msg := findingsIn(a, r, before, &c)
			if msg != "" {
				t.Fatalf("%s: %s", c.Path, msg)
			}
			warned, err := warningLines(d, before, check)
			if err != nil {
				continue
			}
			// The fixes the harness applied to a finding BuildKit also has.
			addressed := 0
			for _, x := range analyzer.NonOverlapping(found) {
				if i := slices.Index(warned, x.Line); i >= 0 {
					warned = slices.Delete(warned, i, i+1)
					addressed++
				}
			}
			left, d2, msg := findingsIn(a, r, after, &c)
			if msg != "" {
				t.Fatalf("%s (fixed): %s", c.Path, msg)
			}
			for _, x := range left {
				if x.Fix != nil {
					t.Errorf("%s: after the fix, %s still proposes a fix on line %d: %s", c.Path, r.ID, x.Line, x.Message)
				}
			}
			wb, wa := warningMessages(d, before, check), warningMessages(d2, after, check)
			if extra := minus(wa, wb); len(extra) > 0 {
				t.Errorf("%s: the fix brings new BuildKit warnings: %q", c.Path, extra)
			}
			if len(wa) > len(wb)-addressed {
				t.Errorf("%s: BuildKit still warns %s %d times after fixing %d of %d: %q", c.Path, check, len(wa), addressed, len(wb), wa)
			}
		}
	}
}

// warningMessages returns BuildKit's distinct warnings of one check.
func warningMessages(d *analyzer.Dockerfile, src []byte, check string) []string {
	if experimentalChecks[check] {
		if _, ok := d.Directive("check"); ok {
			return nil
		}
		src = append([]byte("# check=experimental="+check+"\n"), src...)
	}
	ws, _ := analyzer.BuildKitLint(context.Background(), src)
	seen := map[analyzer.BuildKitWarning]bool{}
	var out []string
	for _, w := range ws {
		if w.Rule == check && !seen[w] {
			seen[w] = true
			out = append(out, w.Message)
		}
	}
	return out
}

// markedEnv expands every variable to a marker naming it, so that a fix
// which changes what is expanded (or what is quoted) shows.
type markedEnv struct{}

func (markedEnv) Get(k string) (string, bool) { return "«" + k + "»", true }
func (markedEnv) Keys() []string              { return nil }

// configValues lists what ENV, LABEL and MAINTAINER put into the image
// config, with MAINTAINER seen as the authors label it is replaced by.
func configValues(t *testing.T, name string, src []byte) []string {
	d, err := analyzer.Parse("Dockerfile", src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	lex := shell.NewLex(d.Escape)
	var out []string
	for _, in := range d.Instructions {
		var pairs instructions.KeyValuePairs
		switch c := in.Command.(type) {
		case *instructions.EnvCommand:
			pairs = c.Env
		case *instructions.LabelCommand:
			pairs = c.Labels
		case *instructions.MaintainerCommand:
			out = append(out, "LABEL org.opencontainers.image.authors="+c.Maintainer)
			continue
		default:
			continue
		}
		for _, kv := range pairs {
			v, _, err := lex.ProcessWord(kv.Value, markedEnv{})
			if err != nil {
				t.Fatalf("%s: %s %s: %v", name, in.Keyword, kv.Key, err)
			}
			out = append(out, in.Keyword+" "+kv.Key+"="+v)
		}
	}
	return out
}

// TestBuildKitFixesKeepValues proves the ENV/LABEL rewrites safe: the image
// config holds the same keys and values before and after.
func TestBuildKitFixesKeepValues(t *testing.T) {
	for _, id := range []string{LegacyKeyValueFormat.ID, MaintainerDeprecated.ID} {
		for _, c := range ruletest.Cases(t, "testdata", id) {
			before, after := c.File("Dockerfile"), c.File("Dockerfile.fixed")
			if after == nil {
				continue
			}
			b, a := configValues(t, c.Path, before), configValues(t, c.Path+" (fixed)", after)
			if !slices.Equal(b, a) {
				t.Errorf("%s: the fix changes the image config\n--- before\n%s\n--- after\n%s", c.Path, strings.Join(b, "\n"), strings.Join(a, "\n"))
			}
		}
	}
}

// TestExecFormKeepsArguments runs each shell-form command the exec-form fix
// rewrote through a real /bin/sh and checks that the program would get the
// same arguments from the JSON form.
func TestExecFormKeepsArguments(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no /bin/sh here")
	}
	a := analyzer.New(All())
	checked := 0
	for _, c := range ruletest.Cases(t, "testdata", ExecFormCmd.ID) {
		src := c.File("Dockerfile")
		fs, d, msg := findingsOf(a, ExecFormCmd, src)
		if msg != "" {
			t.Fatalf("%s: %s", c.Path, msg)
		}
		for _, f := range fs {
			if f.Fix == nil {
				continue
			}
			in := instructionOnLine(d, f.Line)
			var want []string
			if err := json.Unmarshal([]byte(f.Fix.Edits[0].New), &want); err != nil {
				t.Fatalf("%s:%d: fix is not JSON: %v", c.Path, f.Line, err)
			}
			out, err := exec.Command(sh, "-c", `set -- `+in.Args[0]+`; [ "$1" = exec ] && shift; printf '%s\0' "$@"`).Output()
			if err != nil {
				t.Fatalf("%s:%d: sh: %v", c.Path, f.Line, err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if !slices.Equal(got, want) {
				t.Errorf("%s:%d: sh passes %q, the exec form %q", c.Path, f.Line, got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no exec-form fix was checked")
	}
}
