package pipeline_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/pipeline"
)

// TestScopedRecheckChangesNothing patches every Dockerfile of the
// repository (the benchmark corpus: the real-shaped trees and every rule
// and patcher case) twice: once re-running every rule on every candidate,
// once taking over the findings of the rules a pass did not touch
// (Rule.Reads), checking each taken-over finding against a run of its rule.
// What a user sees of the patch (the files, the fixes applied and dropped
// with their reasons, the findings left) must be the same.
func TestScopedRecheckChangesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("patches the whole corpus")
	}
	if raceDetector {
		// BuildKit's conversion resolves a file's base images on several
		// goroutines and writes a stage's flag one of them reads
		// (dockerfile2llb resolveReachableStages and resolveBaseImage), a
		// race of its own that the whole corpus reaches. This test checks
		// output; it runs without -race in the main test stage.
		t.Skip("BuildKit's conversion has a data race of its own that the whole corpus reaches")
	}
	dir := recheckCorpus(t)
	fsys := os.DirFS(dir)
	cfg, err := analyzer.LoadConfig(fsys)
	if err != nil {
		t.Fatal(err)
	}
	a := analyzer.New(rules.All())
	run := func(mode analyzer.Recheck, mismatch func(analyzer.ReuseMismatch)) []byte {
		opts := pipeline.FixOptions(cfg)
		opts.Recheck, opts.ReuseMismatch = mode, mismatch
		out, err := pipeline.Run(t.Context(), pipeline.Request{Analyzer: a, FS: fsys, Config: cfg, Fix: &opts, StreamFixes: true})
		if err != nil {
			t.Fatal(err)
		}
		return userVisiblePatch(t, out)
	}

	var mu sync.Mutex
	mismatches := map[string]int{}
	all := run(analyzer.RecheckAll, nil)
	verified := run(analyzer.RecheckVerify, func(m analyzer.ReuseMismatch) {
		mu.Lock()
		defer mu.Unlock()
		if mismatches[m.Rule]++; mismatches[m.Rule] <= 2 {
			t.Errorf("rule %s reads more than its Reads (%s):\nreused:    %s\nrechecked: %s\nsource:\n%s",
				m.Rule, m.Path, describe(m.Reused), describe(m.Rechecked), m.Source)
		}
	})
	if len(mismatches) > 0 {
		t.Errorf("mismatches by rule: %v", mismatches)
	}
	if string(all) != string(verified) {
		t.Errorf("the patch differs when findings are reused:\n%s", firstDifference(all, verified))
	}
	if changed := run(analyzer.RecheckChanged, nil); string(changed) != string(verified) {
		t.Errorf("RecheckChanged differs from RecheckVerify:\n%s", firstDifference(verified, changed))
	}
}

// recheckCorpus is $DOCKOPT_CORPUS, else the benchmark corpus assembled
// from this checkout by scripts/corpus.
func recheckCorpus(t *testing.T) string {
	if d := os.Getenv("DOCKOPT_CORPUS"); d != "" {
		return d
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to assemble the corpus with")
	}
	dir := filepath.Join(t.TempDir(), "corpus")
	cmd := exec.Command(gobin, "run", "./scripts/corpus", dir)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("assembling the corpus: %v\n%s", err, out)
	}
	return dir
}

func userVisiblePatch(t *testing.T, out *pipeline.Output) []byte {
	t.Helper()
	type file struct {
		Path, Patched         string
		Applied, Dropped      any
		Remaining             []analyzer.Finding
		Verification, Rewrite any
	}
	var files []file
	for _, f := range out.Patch.Files {
		v := file{Path: f.Path, Patched: string(f.Patched), Applied: f.Applied, Dropped: f.Dropped, Verification: f.Verification}
		if f.After != nil {
			v.Remaining = f.After.Findings
		}
		if f.Rewrite != nil {
			v.Rewrite = f.Rewrite.Title
		}
		files = append(files, v)
	}
	b, err := json.MarshalIndent(struct {
		Files   []file
		Changes any
	}{files, out.Patch.Changes}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func describe(fs []analyzer.Finding) string {
	var parts []string
	for _, f := range fs {
		s := fmt.Sprintf("%d-%d %q", f.Line, f.EndLine, f.Message)
		if f.Fix != nil {
			s += fmt.Sprintf(" fix %v", f.Fix.Edits)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func firstDifference(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			lo := max(0, i-8)
			return fmt.Sprintf("line %d:\n- %s\n+ %s\ncontext:\n%s", i+1, al[i], bl[i], strings.Join(al[lo:i+1], "\n"))
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}
