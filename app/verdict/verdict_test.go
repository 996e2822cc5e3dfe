package verdict_test

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
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
	res, err := catalog.Analyze(t.Context(), fsys, ".", analyzer.DefaultConfig())
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

// variants is the postgres-style tree of generated variants, without the
// folders named in leave.
func variants(t testing.TB, leave ...string) *analyzer.Result {
	t.Helper()
	dir := os.DirFS("../../analyzer/testdata/realshapes/postgres-variants")
	fsys := fstest.MapFS{}
	err := fs.WalkDir(dir, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, l := range leave {
			if strings.HasPrefix(p, l+"/") {
				return nil
			}
		}
		b, err := fs.ReadFile(dir, p)
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := catalog.Analyze(t.Context(), fsys, ".", analyzer.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestAnnotationsShowGeneratedVariantsOnce: a repository of generated
// variants, all of it new, gets one annotation per finding of its
// templates, not one per variant: 17/bookworm repeats 16/bookworm and gets
// none, and a finding the variants share points at the template.
func TestAnnotationsShowGeneratedVariantsOnce(t *testing.T) {
	res := variants(t)
	findings := 0
	for _, f := range res.Files {
		findings += len(f.Findings)
	}
	j := verdict.Judge(res, verdict.Baseline{Known: true, Against: "the base branch `main`"}, verdict.Push, analyzer.DefaultConfig())
	anns, left := j.Annotations()
	if left != 0 || len(anns) == 0 || len(anns)*2 > findings {
		t.Errorf("%d annotations (%d left) for %d findings; want the shared ones once", len(anns), left, findings)
	}
	seen := map[string]bool{}
	pgMajor := false
	for _, a := range anns {
		path, line := a.GetPath(), a.GetStartLine()
		if strings.HasPrefix(path, "17/") {
			t.Errorf("annotation on %s:%d (%s), whose findings all repeat 16/bookworm's", path, line, a.GetTitle())
		}
		for _, msg := range strings.Split(a.GetMessage(), "\n") {
			key := path + "\x00" + strings.SplitN(msg, ";", 2)[0]
			if seen[key] {
				t.Errorf("annotated twice: %s %s", a.GetTitle(), msg)
			}
			seen[key] = true
		}
		if strings.Contains(a.GetTitle(), "legacy-key-value-format") && strings.Contains(a.GetMessage(), "PG_MAJOR") && path == "Dockerfile-debian.template" {
			pgMajor = line == 22 && strings.Contains(a.GetMessage(), "the same in 2 files")
		}
	}
	if !pgMajor {
		t.Error("ENV PG_MAJOR of the Debian variants is not annotated once at Dockerfile-debian.template:22")
	}
	fresh, existing := j.Count()
	if existing != 0 || fresh != len(res.Groups)+unshared(res) {
		t.Errorf("%d new and %d existing; want the %d groups and %d findings no other file shares, all new", fresh, existing, len(res.Groups), unshared(res))
	}
}

// unshared counts the findings of res that no generated file shares.
func unshared(res *analyzer.Result) int {
	n := 0
	for _, f := range res.Files {
		for _, fd := range f.Findings {
			if fd.Group == nil {
				n++
			}
		}
	}
	return n
}

// TestNewVariantOfAnExistingTemplate: a push that adds a variant generated
// from a template whose findings were there before adds a copy of each of
// them. The copies are judged (they fail the check at or above the
// threshold), and each shared finding is annotated once, at the template,
// as new; findings only the old variants have are not.
func TestNewVariantOfAnExistingTemplate(t *testing.T) {
	before := variants(t, "17")
	base := verdict.Baseline{Fingerprints: verdict.Fingerprints(before, nil), Known: true, Against: "`main` at 1a2b3c4d5e6f"}
	head := variants(t)
	j := verdict.Judge(head, base, verdict.Push, config(t, "failure_threshold: info\nrules: {}\n"))
	if j.Conclusion != "failure" {
		t.Errorf("conclusion %s, want failure: the new variant's copies are new findings", j.Conclusion)
	}
	anns, _ := j.Annotations()
	if len(anns) == 0 {
		t.Fatal("no annotations for the findings the new variant repeats")
	}
	for _, a := range anns {
		if strings.HasPrefix(a.GetPath(), "17/") {
			t.Errorf("annotation on %s:%d (%s): the new variant's findings are shown at their group", a.GetPath(), a.GetStartLine(), a.GetTitle())
		}
		if !strings.Contains(a.GetMessage(), "17/bookworm/Dockerfile") {
			t.Errorf("annotation %s:%d (%s) does not name the new variant: %s", a.GetPath(), a.GetStartLine(), a.GetTitle(), a.GetMessage())
		}
	}
	// Each group the new variant joined is one new item and one line of
	// an annotation; the old variants' own findings stay existing.
	joined := map[*analyzer.FindingGroup]bool{}
	for _, f := range head.Files {
		if strings.HasPrefix(f.Path, "17/") {
			for _, fd := range f.Findings {
				if fd.Group == nil {
					t.Fatalf("%s:%d %s is in no group; the fixture's 17/bookworm should repeat 16/bookworm", fd.Path, fd.Line, fd.Rule)
				}
				joined[fd.Group] = true
			}
		}
	}
	fresh, existing := j.Count()
	lines := 0
	for _, a := range anns {
		lines += strings.Count(a.GetMessage(), "\n") + 1
	}
	if fresh != len(joined) || lines != fresh || existing == 0 {
		t.Errorf("%d new (%d annotated), %d existing; want the %d groups 17/bookworm joined new", fresh, lines, existing, len(joined))
	}
	for _, it := range j.Items {
		if it.Finding.Repeats() {
			t.Errorf("item %s on %s:%d repeats its group's lead", it.Finding.Rule, it.Finding.Path, it.Finding.Line)
		}
		if it.New != joined[it.Finding.Group] {
			t.Errorf("item %s on %s:%d new=%v", it.Finding.Rule, it.Finding.Path, it.Finding.Line, it.New)
		}
	}
}

// TestTemplateThatDoesNotParse: a template need not read as a Dockerfile,
// so one that does not is a notice, after a broken Dockerfile's failure.
func TestTemplateThatDoesNotParse(t *testing.T) {
	res := analyze(t, map[string]string{"Dockerfile.template": "FROM debian\nNOTANINSTRUCTION x\n", "Dockerfile": "FROM debian\nWHAT x\n"})
	j := verdict.Judge(res, verdict.Baseline{Known: true}, verdict.Push, analyzer.DefaultConfig())
	anns, _ := j.Annotations()
	var got []string
	for _, a := range anns {
		got = append(got, a.GetPath()+" "+a.GetAnnotationLevel()+" "+a.GetTitle())
	}
	if want := []string{"Dockerfile failure not analyzable", "Dockerfile.template notice not analyzable"}; !slices.Equal(got, want) {
		t.Errorf("annotations %q, want %q", got, want)
	}
}
