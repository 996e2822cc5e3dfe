package patcher_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/*.txtar")

// TestGolden: each testdata/*.txtar holds a build context (files) and,
// after `-- want --` markers, the files patching must produce:
// `want/<path>` for every created or modified file and `want/dropped`
// for the fixes left out with their reasons.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txtar")
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	a := analyzer.New(rules.All())
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{}
			policy := analyzer.Review
			mode := ""
			harden := false
			var kept []txtar.File
			for _, f := range ar.Files {
				switch {
				case strings.HasPrefix(f.Name, "want/"):
					continue
				case f.Name == "policy":
					policy = analyzer.Safety(strings.TrimSpace(string(f.Data)))
				case f.Name == "mode":
					mode = strings.TrimSpace(string(f.Data))
				case f.Name == "harden-compose":
					harden = true
				default:
					fsys[f.Name] = &fstest.MapFile{Data: f.Data}
				}
				kept = append(kept, f)
			}
			cfg, err := analyzer.LoadConfig(fsys)
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.Analyze(t.Context(), fsys, ".", cfg)
			if err != nil {
				t.Fatal(err)
			}
			pr, _ := patcher.Patch(t.Context(), a, fsys, res, cfg, patcher.Options{Apply: policy, Mode: mode, HardenCompose: harden})
			got := map[string]string{}
			for _, c := range pr.Changes {
				got["want/"+c.Path] = string(c.Content)
			}
			var dropped []string
			for _, f := range pr.Files {
				if !f.Verification.OK() {
					t.Errorf("%s: verification failed: %+v", f.Path, f.Verification)
				}
				if f.Changed() && !f.Verification.Fewer {
					t.Errorf("%s: patched file does not have fewer findings", f.Path)
				}
				for _, d := range f.Dropped {
					dropped = append(dropped, f.Path+":"+itoa(d.Line)+" "+d.Rule+": "+d.Reason)
				}
				// Idempotence: patching the output again changes nothing.
				if f.Changed() {
					again, _ := a.AnalyzeSource(t.Context(), f.Path, f.Patched, res.Files[0].BuildContext, cfg)
					for _, fr := range res.Files {
						if fr.Path == f.Path {
							again, _ = a.AnalyzeSource(t.Context(), f.Path, f.Patched, fr.BuildContext.WithGenerated(f.Generated, f.Path), cfg)
						}
					}
					second, _ := patcher.PatchFile(t.Context(), a, again, cfg, patcher.Options{Apply: policy, Mode: mode})
					if !bytes.Equal(second.Patched, f.Patched) {
						t.Errorf("%s: not a fixed point; a second pass changes:\n%s", f.Path, second.Patched)
					}
				}
			}
			sort.Strings(dropped)
			if len(dropped) > 0 {
				got["want/dropped"] = strings.Join(dropped, "\n") + "\n"
			}
			if *update {
				for name, content := range got {
					kept = append(kept, txtar.File{Name: name, Data: []byte(content)})
				}
				sort.SliceStable(kept, func(i, j int) bool {
					wi, wj := strings.HasPrefix(kept[i].Name, "want/"), strings.HasPrefix(kept[j].Name, "want/")
					if wi != wj {
						return !wi
					}
					return wi && kept[i].Name < kept[j].Name
				})
				ar.Files = kept
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := map[string]string{}
			for _, f := range ar.Files {
				if strings.HasPrefix(f.Name, "want/") {
					want[f.Name] = string(f.Data)
				}
			}
			for name, w := range want {
				if got[name] != w {
					t.Errorf("%s differs\n--- got\n%s--- want\n%s", name, got[name], w)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("unexpected output %s:\n%s", name, got[name])
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// analyzeAndPatch analyzes fsys with a and patches the result with the
// default options, failing the test on an error.
func analyzeAndPatch(t *testing.T, a *analyzer.Analyzer, fsys fs.FS) *patcher.Result {
	t.Helper()
	res, err := a.Analyze(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := patcher.Patch(t.Context(), a, fsys, res, nil, patcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// FuzzPatch: for any input the analyzer accepts, the patched output
// parses, converts to LLB when the input did, and is a fixed point.
func FuzzPatch(f *testing.F) {
	seeds, _ := filepath.Glob("../analyzer/testdata/corpus/*/Dockerfile")
	for i, s := range seeds {
		if i%5 == 0 {
			if b, err := os.ReadFile(s); err == nil {
				f.Add(b)
			}
		}
	}
	a := analyzer.New(rules.All())
	f.Fuzz(func(t *testing.T, src []byte) {
		fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", src, nil, nil)
		if fr.Error != "" {
			return
		}
		p, _ := patcher.PatchFile(t.Context(), a, fr, nil, patcher.Options{})
		if _, err := analyzer.Parse("Dockerfile", p.Patched); err != nil {
			t.Fatalf("patched output does not parse: %v\n%s", err, p.Patched)
		}
		if fr.ConvertError(t.Context()) == nil {
			if err := analyzer.ConvertLLB(t.Context(), p.Patched); err != nil {
				t.Fatalf("patched output does not convert: %v\n%s", err, p.Patched)
			}
		}
		if !p.Verification.Idempotent {
			t.Fatalf("no fixed point: %s", p.Verification.Error)
		}
		fr2, _ := a.AnalyzeSource(t.Context(), "Dockerfile", p.Patched, nil, nil)
		again, _ := patcher.PatchFile(t.Context(), a, fr2, nil, patcher.Options{})
		if !bytes.Equal(again.Patched, p.Patched) {
			t.Fatalf("patching twice changes more:\n%s\n---\n%s", p.Patched, again.Patched)
		}
	})
}

// TestUnverifiedPatchIsWithdrawn: a file whose fixes never reach a fixed
// point (found by FuzzPatch) is left as it was, with every fix listed as
// dropped and why, rather than proposed half verified.
func TestUnverifiedPatchIsWithdrawn(t *testing.T) {
	a := analyzer.New(rules.All())
	fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte("ARG REG0000Y\nARG $ARSION 000000\nFROM 000000000000000000000000$A0RSION\nCOPY 000 0000\n")}}
	pr := analyzeAndPatch(t, a, fsys)
	if len(pr.Changes) != 0 {
		t.Errorf("changes proposed for a file that failed verification: %+v", pr.Changes)
	}
	f := pr.Files[0]
	if f.Verification.OK() || f.Changed() || len(f.Applied) != 0 {
		t.Fatalf("verification %+v, changed %v, applied %v", f.Verification, f.Changed(), f.Applied)
	}
	if len(f.Dropped) == 0 || !strings.Contains(f.Dropped[len(f.Dropped)-1].Reason, "failed verification (no fixed point") {
		t.Errorf("dropped = %+v, want the fixes with the verification failure", f.Dropped)
	}
}

// A fix that writes a new file where the repository already has one is
// dropped with the reason: the COPY it adds would bring the repository's
// file, not the one the fix wrote (the patcher keeps existing files).
// Rules check for this themselves; this is the patcher's own guard for
// one that does not.
func TestAFixThatWritesOverAnExistingFileIsDropped(t *testing.T) {
	writesConfig := &analyzer.Rule{
		ID: "test-writes-config", Category: analyzer.CategorySecurity, Severity: analyzer.SeverityWarning, Fix: analyzer.Safe,
		Title: "Test", Rationale: "a rule that writes app.conf without asking whether it exists, for the patcher's guard",
		Check: func(p *analyzer.Pass) {
			for range p.File.Each("COPY") {
				return // fixed
			}
			final := p.File.FinalStage()
			end := final.Instructions[len(final.Instructions)-1].End
			p.Report(final.From, "write app.conf", &analyzer.Fix{Message: "write app.conf and COPY it",
				Edits: []analyzer.TextEdit{{Start: end, End: end, New: "\nCOPY app.conf /etc/app.conf"}},
				Files: []analyzer.GeneratedFile{{Path: "app.conf", Content: "listen 8080\n"}}})
		},
	}
	a := analyzer.New([]*analyzer.Rule{writesConfig})
	for _, tt := range []struct {
		name     string
		existing bool
	}{{"no app.conf yet", false}, {"app.conf already there", true}} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte("FROM alpine:3.22\nRUN true\n")}}
			if tt.existing {
				fsys["app.conf"] = &fstest.MapFile{Data: []byte("proxy_pass http://dev:5173\n")}
			}
			pr := analyzeAndPatch(t, a, fsys)
			f := pr.Files[0]
			if !tt.existing {
				if len(f.Applied) != 1 || len(pr.Changes) != 2 {
					t.Fatalf("applied %+v, changes %d; want the fix and app.conf created", f.Applied, len(pr.Changes))
				}
				return
			}
			if f.Changed() || len(pr.Changes) != 0 {
				t.Errorf("the fix was applied over the existing app.conf: changes %+v", pr.Changes)
			}
			if len(f.Dropped) != 1 || f.Dropped[0].Reason != patcher.ReasonFileExists {
				t.Errorf("dropped %+v, want the fix dropped because app.conf exists", f.Dropped)
			}
		})
	}
}

// A fix that another rule's fix supersedes on the same instruction waits
// for it; when the superseding fix is blocked, the held-back fix is
// applied in the next pass rather than lost.
func TestASupersededFixIsAppliedWhenTheOtherIsBlocked(t *testing.T) {
	clean := &analyzer.Rule{
		ID: "test-clean", Category: analyzer.CategorySize, Severity: analyzer.SeverityInfo, Fix: analyzer.Safe,
		Title: "Test", Rationale: "a rule whose fix deletes a cache, superseded by the test's cache mount",
		Check: func(p *analyzer.Pass) {
			for in := range p.File.Each("RUN") {
				if !strings.Contains(in.Text(p.File.Source), "--no-cache") {
					at := in.End
					p.Report(in, "clean", &analyzer.Fix{Message: "add --no-cache", Edits: []analyzer.TextEdit{{Start: at, End: at, New: " --no-cache"}}})
				}
			}
		},
	}
	mount := &analyzer.Rule{
		ID: "test-mount", Category: analyzer.CategoryBuildCache, Severity: analyzer.SeverityInfo, Fix: analyzer.Review,
		Title: "Test", Rationale: "a rule whose fix always breaks the file, so verification blocks it",
		Supersedes: []string{"test-clean"},
		Check: func(p *analyzer.Pass) {
			for in := range p.File.Each("RUN") {
				p.Report(in, "mount", &analyzer.Fix{Message: "break the file", Edits: []analyzer.TextEdit{{Start: in.Start, End: in.Start, New: "FROM\n"}}})
			}
		},
	}
	a := analyzer.New([]*analyzer.Rule{clean, mount})
	fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte("FROM alpine:3.22\nRUN apk add git\n")}}
	pr := analyzeAndPatch(t, a, fsys)
	f := pr.Files[0]
	if got := string(f.Patched); got != "FROM alpine:3.22\nRUN apk add git --no-cache\n" {
		t.Errorf("patched:\n%s\nwant the held-back fix applied", got)
	}
	if len(f.Dropped) != 1 || f.Dropped[0].Rule != "test-mount" {
		t.Errorf("dropped %+v, want the blocked mount only", f.Dropped)
	}
}
