package verdict_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/app/verdict"
	"github.com/dockopt/dockopt/templates"
)

var catalog = analyzer.New(rules.All())

func analyze(t testing.TB, files map[string]string) *analyzer.Result {
	t.Helper()
	fsys := fstest.MapFS{}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	res, err := catalog.Analyze(fsys, ".", analyzer.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func config(t testing.TB, yaml string) *analyzer.Config {
	t.Helper()
	cfg, err := analyzer.ParseConfig(".github/dockopt.yml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const debt = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD [\"/app/run\"]\n"

func baseline(t testing.TB, files map[string]string, rename map[string]string) verdict.Baseline {
	return verdict.Baseline{Fingerprints: verdict.Fingerprints(analyze(t, files), rename), Known: true, Against: "the base branch `main`"}
}

func TestWhatAChangeAdds(t *testing.T) {
	base := map[string]string{"svc/Dockerfile": debt, "svc/run": "x"}
	for _, tc := range []struct {
		name       string
		head       map[string]string
		rename     map[string]string
		yaml       string
		wantNew    int
		conclusion string
	}{
		{name: "nothing changed", head: base, conclusion: "neutral"},
		{name: "lines moved, re-indented and re-wrapped", head: map[string]string{"svc/run": "x",
			"svc/Dockerfile": "# a comment\n\nFROM debian:bookworm\n\nRUN apt-get update \\\n    &&   apt-get install -y curl\nCOPY . /app\nCMD [\"/app/run\"]\n"},
			conclusion: "neutral"},
		{name: "a file renamed by the change", head: map[string]string{"api/Dockerfile": debt, "api/run": "x"},
			rename: map[string]string{"svc/Dockerfile": "api/Dockerfile", "svc/.dockerignore": "api/.dockerignore"}, conclusion: "neutral"},
		{name: "one bad line added", head: map[string]string{"svc/run": "x",
			"svc/Dockerfile": strings.Replace(debt, "COPY", "RUN apt-get install -y wget\nCOPY", 1)}, wantNew: -1, conclusion: "failure"},
		{name: "the same line twice: the second is new", head: map[string]string{"svc/run": "x",
			"svc/Dockerfile": strings.Replace(debt, "COPY", "RUN apt-get update && apt-get install -y curl\nCOPY", 1)}, wantNew: -1, conclusion: "failure"},
		{name: "new findings below the threshold", yaml: "failure_threshold: error\n", head: map[string]string{"svc/run": "x",
			"svc/Dockerfile": strings.Replace(debt, "COPY", "RUN apt-get install -y wget\nCOPY", 1)}, wantNew: -1, conclusion: "neutral"},
		{name: "fail_on all fails on old debt", yaml: "checks: {fail_on: all}\n", head: base, conclusion: "failure"},
		{name: "fail_on never never fails", yaml: "checks: {fail_on: never}\n", head: map[string]string{"svc/run": "x",
			"svc/Dockerfile": strings.Replace(debt, "COPY", "RUN apt-get install -y wget\nCOPY", 1)}, wantNew: -1, conclusion: "neutral"},
		{name: "a clean result succeeds", head: map[string]string{"svc/Dockerfile": "FROM scratch\nCOPY run /run\nUSER 65532:65532\nENTRYPOINT [\"/run\"]\n", "svc/run": "x", "svc/.dockerignore": ".git\n"},
			conclusion: "success"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := baseline(t, base, tc.rename)
			j := verdict.Judge(analyze(t, tc.head), b, verdict.PullRequest, config(t, tc.yaml+"rules: {}\n"))
			fresh, _ := j.Count()
			switch {
			case tc.wantNew == 0 && fresh != 0:
				t.Errorf("%d new findings, want none: %+v", fresh, newItems(j))
			case tc.wantNew < 0 && fresh == 0:
				t.Errorf("no new findings")
			}
			if j.Conclusion != tc.conclusion {
				t.Errorf("conclusion %s, want %s", j.Conclusion, tc.conclusion)
			}
			for _, it := range newItems(j) {
				if it.Finding.Path != "svc/Dockerfile" || it.Finding.Line != 3 {
					t.Errorf("new finding %s on %s:%d, want only line 3", it.Finding.Rule, it.Finding.Path, it.Finding.Line)
				}
			}
		})
	}
}

func newItems(j verdict.Judgement) []verdict.Item {
	var out []verdict.Item
	for _, it := range j.Items {
		if it.New {
			out = append(out, it)
		}
	}
	return out
}

// TestOneAnnotationPerAddedLine: the findings of a line a change adds
// share one annotation; the existing debt gets none and is summarized per
// rule instead.
func TestOneAnnotationPerAddedLine(t *testing.T) {
	base := map[string]string{"svc/Dockerfile": debt, "svc/run": "x"}
	head := map[string]string{"svc/run": "x", "svc/Dockerfile": strings.Replace(debt, "COPY", "RUN apt-get install -y wget\nCOPY", 1)}
	j := verdict.Judge(analyze(t, head), baseline(t, base, nil), verdict.PullRequest, analyzer.DefaultConfig())
	anns, left := j.Annotations()
	if len(anns) != 1 || left != 0 {
		t.Fatalf("%d annotations (%d left), want 1", len(anns), left)
	}
	a := anns[0]
	if a.GetPath() != "svc/Dockerfile" || a.GetStartLine() != 3 || a.GetAnnotationLevel() != "warning" || !strings.Contains(a.GetTitle(), "apt-no-install-recommends") {
		t.Errorf("annotation %s:%d %s %q", a.GetPath(), a.GetStartLine(), a.GetAnnotationLevel(), a.GetTitle())
	}
	if n := len(newItems(j)); n > 1 && strings.Count(a.GetMessage(), "\n") != n-1 {
		t.Errorf("the annotation should say each of the %d findings on its own line:\n%s", n, a.GetMessage())
	}
	sum := j.Summary(nil, left)
	if sum.New.Total() == 0 || sum.Existing.Total() == 0 || len(sum.ExistingByRule) == 0 {
		t.Fatalf("summary %+v", sum)
	}
	total := 0
	for _, rc := range sum.ExistingByRule {
		total += rc.Count
	}
	if total != sum.Existing.Total() {
		t.Errorf("the rule table counts %d existing findings, want %d", total, sum.Existing.Total())
	}
	marks := sum.NewAt["svc/Dockerfile"]
	n := 0
	for _, m := range marks {
		if m {
			n++
		}
	}
	if n != sum.New.Total() {
		t.Errorf("NewAt marks %d findings, want %d", n, sum.New.Total())
	}
}

// TestFirstPushReportsDebt: with no earlier analysis of the branch,
// everything is existing debt; nothing is annotated and nothing fails.
func TestFirstPushReportsDebt(t *testing.T) {
	j := verdict.Judge(analyze(t, map[string]string{"svc/Dockerfile": debt, "svc/run": "x"}), verdict.Baseline{}, verdict.Push, analyzer.DefaultConfig())
	if j.Conclusion != "neutral" {
		t.Errorf("conclusion %s, want neutral", j.Conclusion)
	}
	if anns, _ := j.Annotations(); len(anns) != 0 {
		t.Errorf("%d annotations on existing debt", len(anns))
	}
	out, err := templates.CheckRun(templates.Input{Analyzer: catalog, Result: analyze(t, map[string]string{"svc/Dockerfile": debt, "svc/run": "x"}),
		Judged: j.Summary([]string{".hadolint.yaml:2: unknown key \"shell\" ignored, as hadolint ignores it"}, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first commit of this branch", "existing debt", "`checks.fail_on: new`", "| rule | severity | findings |", "unknown key \"shell\""} {
		if !strings.Contains(out.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, out.Summary)
		}
	}
	if !strings.HasPrefix(out.Title, "No new findings") {
		t.Errorf("title %q", out.Title)
	}
}

// TestAnnotationsAreCapped: a change that adds findings on hundreds of
// lines gets MaxAnnotations annotations, most serious first, and the
// count of the rest.
func TestAnnotationsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("FROM debian:bookworm\n")
	for i := range 150 {
		fmt.Fprintf(&b, "RUN apt-get install -y pkg%d\n", i)
	}
	head := map[string]string{"Dockerfile": b.String()}
	j := verdict.Judge(analyze(t, head), baseline(t, map[string]string{"Dockerfile": "FROM debian:bookworm\n"}, nil), verdict.Push, analyzer.DefaultConfig())
	anns, left := j.Annotations()
	if len(anns) != verdict.MaxAnnotations || left == 0 {
		t.Fatalf("%d annotations, %d left; want %d and the rest counted", len(anns), left, verdict.MaxAnnotations)
	}
	for i := 1; i < len(anns); i++ {
		if rank(anns[i].GetAnnotationLevel()) < rank(anns[i-1].GetAnnotationLevel()) {
			t.Fatalf("annotation %d (%s) is more serious than the one before it (%s)", i, anns[i].GetAnnotationLevel(), anns[i-1].GetAnnotationLevel())
		}
	}
}

func rank(level string) int {
	return map[string]int{"failure": 0, "warning": 1, "notice": 2}[level]
}
