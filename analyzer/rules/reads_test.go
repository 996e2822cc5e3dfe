package rules_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// TestRulesReadOnlyWhatTheyDeclare checks each rule's Reads (and
// PerInstruction) against what the rule finds: every Dockerfile of the
// rule cases and the real-shaped corpus is analyzed, then analyzed again
// as a patch candidate once with each instruction the stage layout does not
// hang on taken out, and once with each RUN changed. The findings the
// analysis takes over from the original must be what the rule finds when
// run (analyzer.RecheckVerify reports any difference). Taking an
// instruction out is the change that shows a rule reading one it did not
// declare (an ENV that turns a check off, a later RUN that cleans up), and
// it moves every later line, which shows a finding that did not move with
// its instruction.
func TestRulesReadOnlyWhatTheyDeclare(t *testing.T) {
	if testing.Short() {
		t.Skip("analyzes every case many times")
	}
	var mu sync.Mutex
	found := map[string]int{}
	c, err := analyzer.New(rules.All()).Configure(nil)
	if err != nil {
		t.Fatal(err)
	}
	run := c.Rechecking(analyzer.RecheckVerify, func(m analyzer.ReuseMismatch) {
		mu.Lock()
		defer mu.Unlock()
		if found[m.Rule]++; found[m.Rule] <= 2 {
			t.Errorf("rule %s reads more than it declares: taken over %v, found %v, in\n%s", m.Rule, brief(m.Reused), brief(m.Rechecked), m.Source)
		}
	})
	all := c.Rechecking(analyzer.RecheckAll, nil)
	mutants, files := 0, 0
	for path, src := range dockerfiles(t) {
		prev, err := run.AnalyzeSource(t.Context(), "Dockerfile", src, nil)
		if err != nil || prev.Dockerfile == nil {
			continue
		}
		files++
		for _, variant := range variants(prev.Dockerfile) {
			mutants++
			if diff := reuseDiff(t, run, all, prev, variant); diff != "" {
				t.Errorf("%s: a variant's analysis differs when findings are taken over:\n%s\n%s", path, variant, diff)
			}
		}
	}
	t.Logf("%d files, %d variants", files, mutants)
	if files < 500 || mutants < 2000 {
		t.Errorf("only %d files and %d variants: the test lost its cases", files, mutants)
	}
	if len(found) > 0 {
		t.Errorf("differences by rule: %v", found)
	}
}

// TestReuseEdgeCases are changes the variants of
// TestRulesReadOnlyWhatTheyDeclare do not make, each of which once moved a
// finding a rule would not report.
func TestReuseEdgeCases(t *testing.T) {
	for _, tc := range []struct{ name, prev, variant string }{
		{"a RUN's copy under another SHELL",
			"FROM debian:12\nRUN apt-get install curl\nSHELL [\"/usr/bin/pwsh\", \"-c\"]\nRUN apt-get install curl\n",
			"FROM debian:12\nRUN apt-get install curl && true\nSHELL [\"/usr/bin/pwsh\", \"-c\"]\nRUN apt-get install curl\n"},
		{"line endings decided by a line the rule does not read",
			"FROM alpine:3.20\nENV A=1 B=$A\nRUN true\r\n",
			"FROM alpine:3.20\nENV A=1 B=$A\n"},
		{"indentation the fix copies",
			"FROM alpine:3.20\nENV A=1 B=$A\n",
			"FROM alpine:3.20\n    ENV A=1 B=$A\n"},
		{"a heredoc body edited",
			"FROM debian:12\nRUN <<EOF\napt-get install curl\nEOF\nRUN apt-get install wget\n",
			"FROM debian:12\nRUN <<EOF\napt-get install -y curl=1\nEOF\nRUN apt-get install wget\n"},
		{"an escape directive added",
			"FROM debian:12\nRUN apt-get install curl\n",
			"# escape=`\nFROM debian:12\nRUN apt-get install curl\n"},
		{"a line inserted above",
			"FROM debian:12\nRUN apt-get install curl\nRUN apt-get install wget\nEXPOSE 70000\n",
			"FROM debian:12\nRUN apt-get update \\\n && apt-get install -y curl\nRUN apt-get install wget\nEXPOSE 70000\n"},
		{"an ONBUILD trigger",
			"FROM debian:12\nONBUILD RUN apt-get install curl\nRUN apt-get install curl\n",
			"FROM debian:12\nONBUILD RUN apt-get install curl\nRUN apt-get install -y curl\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := analyzer.New(rules.All()).Configure(nil)
			if err != nil {
				t.Fatal(err)
			}
			run := c.Rechecking(analyzer.RecheckVerify, func(m analyzer.ReuseMismatch) {
				t.Errorf("rule %s: taken over %v, found %v", m.Rule, brief(m.Reused), brief(m.Rechecked))
			})
			prev, err := run.AnalyzeSource(t.Context(), "Dockerfile", []byte(tc.prev), nil)
			if err != nil || prev.Dockerfile == nil {
				t.Fatalf("%v %s", err, prev.Error)
			}
			if diff := reuseDiff(t, run, c.Rechecking(analyzer.RecheckAll, nil), prev, []byte(tc.variant)); diff != "" {
				t.Errorf("differs when findings are taken over:\n%s", diff)
			}
		})
	}
}

// maxVariants bounds the variants of one file.
const maxVariants = 40

// variants returns d's source with each instruction but FROM, ARG, SHELL
// and ONBUILD taken out, and with each RUN changed (a command added).
func variants(d *analyzer.Dockerfile) [][]byte {
	var out [][]byte
	for _, in := range d.Instructions {
		if len(out) >= maxVariants {
			break
		}
		if slices.Contains([]string{"FROM", "ARG", "SHELL", "ONBUILD"}, in.Keyword) {
			continue
		}
		end := in.End
		if end < len(d.Source) && d.Source[end] == '\r' {
			end++
		}
		if end < len(d.Source) && d.Source[end] == '\n' {
			end++
		}
		out = append(out, slices.Concat(d.Source[:in.Start], d.Source[end:]))
		if in.Keyword == "RUN" && !in.JSON && len(in.Heredocs) == 0 {
			out = append(out, slices.Concat(d.Source[:in.End], []byte(" && true"), d.Source[in.End:]))
		}
	}
	return out
}

// dockerfiles yields every Dockerfile of the rule cases and of the
// analyzer's real-shaped trees, by path.
func dockerfiles(t *testing.T) func(yield func(string, []byte) bool) {
	return func(yield func(string, []byte) bool) {
		for _, src := range []string{
			// Instructions before the first FROM have no stage.
			"RUN apt-get install curl\nEXPOSE 99999\nFROM debian:12\nRUN apt-get install curl\nEXPOSE 99999\n",
			// The same RUN under two shells: only the first is POSIX.
			"FROM debian:12\nRUN apt-get install curl\nSHELL [\"/usr/bin/pwsh\", \"-c\"]\nRUN apt-get install curl\n",
			// A CRLF line elsewhere makes the fixes write CRLF.
			"FROM alpine:3.20\nENV A=1 B=$A\nRUN true\r\n",
		} {
			if !yield("hand case", []byte(src)) {
				return
			}
		}
		cases, _ := filepath.Glob("testdata/*/*.txtar")
		for _, path := range cases {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range a.Files {
				if f.Name == "Dockerfile" && !yield(path, f.Data) {
					return
				}
			}
		}
		for _, root := range []string{"../testdata/corpus", "../testdata/realshapes"} {
			err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() || !analyzer.IsDockerfileName(e.Name()) {
					return err
				}
				src, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if !yield(path, src) {
					return filepath.SkipAll
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// reuseDiff analyzes next as a patch candidate of prev with run, which
// takes findings over, and with all, which runs every rule; it returns
// how what a user sees differs, "" when it does not.
func reuseDiff(t *testing.T, run, all *analyzer.Configured, prev *analyzer.FileResult, next []byte) string {
	t.Helper()
	got, err := run.AnalyzeCandidate(t.Context(), "Dockerfile", next, nil, prev)
	if err != nil {
		t.Fatal(err)
	}
	want, err := all.AnalyzeCandidate(t.Context(), "Dockerfile", next, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := visible(t, got), visible(t, want); g != w {
		return "want " + w + "\ngot  " + g
	}
	return ""
}

// visible is what a user sees of an analysis: its error and findings.
func visible(t *testing.T, fr *analyzer.FileResult) string {
	b, err := json.Marshal(struct {
		Error    string
		Findings []analyzer.Finding
	}{fr.Error, fr.Findings})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func brief(fs []analyzer.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("line %d: %s", f.Line, f.Message))
	}
	return "[" + strings.Join(parts, " | ") + "]"
}

// FuzzReuse analyzes a Dockerfile, then an edit of it as a patch candidate
// (prev the first analysis), and requires what a user sees to be what a
// full analysis of the edit gives, with every finding taken over checked
// against a run of its rule.
func FuzzReuse(f *testing.F) {
	for _, seed := range []struct{ prev, next string }{
		{"FROM debian:12\nRUN apt-get install curl\nRUN pip install flask\n", "FROM debian:12\nRUN apt-get install -y curl\nRUN pip install flask\n"},
		{"FROM debian:12\nRUN apt-get install curl\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get install curl\n", "FROM debian:12\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get install curl\n"},
		{"FROM alpine:3.20\nENV A=1 B=$A\nRUN true\r\n", "FROM alpine:3.20\n  ENV A=1 B=$A\n"},
		{"FROM debian:12\nONBUILD RUN apt-get install curl\nEXPOSE 70000\n", "FROM debian:12\nLABEL a=b\nONBUILD RUN apt-get install curl\nEXPOSE 70000\n"},
		{"RUN apt-get install curl\nFROM debian:12\n\\\nrun apt-get install curl\n", "RUN apt-get install curl\nFROM debian:12\nRUN apt-get install curl\n"},
	} {
		f.Add(seed.prev, seed.next)
	}
	c, err := analyzer.New(rules.All()).Configure(nil)
	if err != nil {
		f.Fatal(err)
	}
	all := c.Rechecking(analyzer.RecheckAll, nil)
	f.Fuzz(func(t *testing.T, prevSrc, nextSrc string) {
		if len(prevSrc) > 4096 || len(nextSrc) > 4096 {
			return
		}
		run := c.Rechecking(analyzer.RecheckVerify, func(m analyzer.ReuseMismatch) {
			t.Errorf("rule %s: taken over %v, found %v", m.Rule, brief(m.Reused), brief(m.Rechecked))
		})
		prev, err := run.AnalyzeSource(t.Context(), "Dockerfile", []byte(prevSrc), nil)
		if err != nil || prev.Dockerfile == nil {
			return
		}
		// BuildKit's suggestions for unknown flags come from a map range,
		// so two full analyses of such a file may differ too.
		if diff := reuseDiff(t, run, all, prev, []byte(nextSrc)); diff != "" && !strings.Contains(diff, "did you mean") {
			t.Errorf("differs when findings are taken over:\n%s", diff)
		}
	})
}
