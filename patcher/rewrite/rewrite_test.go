package rewrite

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the want/ files of testdata/*.txtar")

// A case is one txtar archive: every file outside want/ is the build
// context (with Dockerfile at its root); want/ holds the expected new
// Dockerfile, the generated files, and the explanation — or want/none
// when no rewrite fits, or want/withheld when one fits and a
// precondition withholds it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	a := analyzer.New(rules.All())
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{}
			var kept []txtar.File
			for _, f := range ar.Files {
				if strings.HasPrefix(f.Name, "want/") {
					continue
				}
				kept = append(kept, f)
				fsys[f.Name] = &fstest.MapFile{Data: f.Data}
			}
			before := analyze(a, fsys)
			rw, withheld := Plan(before)

			got := kept
			switch {
			case withheld != nil:
				got = append(got, txtar.File{Name: "want/withheld", Data: []byte(fmt.Sprintf("kind: %s\nprecondition: %s\nreason: %s\n", withheld.Kind, withheld.Precondition, withheld.Reason))})
			case rw == nil:
				got = append(got, txtar.File{Name: "want/none", Data: []byte("no rewrite (kind " + before.Kind + ")\n")})
			default:
				got = append(got, txtar.File{Name: "want/Dockerfile", Data: rw.Content})
				for _, g := range rw.Files {
					got = append(got, txtar.File{Name: "want/" + g.Path, Data: []byte(g.Content)})
				}
				got = append(got, txtar.File{Name: "want/explanation", Data: []byte(explain(rw))})
			}
			if *update {
				ar.Files = got
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				compare(t, ar.Files, got)
			}
			if rw != nil {
				checkRewrite(t, a, fsys, before, rw)
			}
		})
	}
}

func analyze(a *analyzer.Analyzer, fsys fstest.MapFS) *analyzer.FileResult {
	src := fsys["Dockerfile"].Data
	fr, err := a.AnalyzeSource(context.Background(), "Dockerfile", src, analyzer.ContextFor(fsys, "Dockerfile", "."), nil)
	if err != nil {
		panic(err) // only a canceled context fails, and this one never is
	}
	return fr
}

func explain(rw *Rewrite) string {
	var b strings.Builder
	b.WriteString("kind: " + rw.Kind + "\n")
	b.WriteString("title: " + rw.Title + "\n")
	for _, e := range rw.Explanation {
		b.WriteString("- " + e + "\n")
	}
	b.WriteString("resolves: " + strings.Join(rw.Resolves, ", ") + "\n")
	return b.String()
}

func compare(t *testing.T, want, got []txtar.File) {
	t.Helper()
	index := func(fs []txtar.File) map[string]string {
		m := map[string]string{}
		for _, f := range fs {
			m[f.Name] = string(f.Data)
		}
		return m
	}
	w, g := index(want), index(got)
	for name, data := range g {
		if wd, ok := w[name]; !ok {
			t.Errorf("unexpected output %s:\n%s", name, data)
		} else if wd != data {
			t.Errorf("%s differs (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", name, data, wd)
		}
	}
	for name := range w {
		if _, ok := g[name]; !ok {
			t.Errorf("missing output %s", name)
		}
	}
}

// checkRewrite holds every rewrite to what the patcher will verify: it
// parses, converts to LLB, is not rewritten again, has fewer serious
// findings than the original and none of the rules it claims to resolve.
func checkRewrite(t *testing.T, a *analyzer.Analyzer, fsys fstest.MapFS, before *analyzer.FileResult, rw *Rewrite) {
	t.Helper()
	if rw.Title == "" || strings.Contains(rw.Title, "\n") || len(rw.Explanation) == 0 {
		t.Errorf("title %q / %d explanation bullets: want one line and some bullets", rw.Title, len(rw.Explanation))
	}
	if _, err := analyzer.Parse("Dockerfile", rw.Content); err != nil {
		t.Fatalf("rewritten Dockerfile does not parse: %v", err)
	}
	if err := analyzer.ConvertLLB(t.Context(), rw.Content); err != nil {
		t.Fatalf("rewritten Dockerfile does not convert to LLB: %v", err)
	}
	after := fstest.MapFS{}
	for k, v := range fsys {
		after[k] = v
	}
	after["Dockerfile"] = &fstest.MapFile{Data: rw.Content}
	for _, g := range rw.Files {
		data := g.Content
		if old, ok := fsys[g.Path]; ok && g.Merge == "append-lines" {
			data = string(old.Data) + "\n" + g.Content
		}
		after[g.Path] = &fstest.MapFile{Data: []byte(data)}
	}
	res := analyze(a, after)
	if res.Error != "" {
		t.Fatalf("analyzing the rewrite: %s", res.Error)
	}
	serious := func(fs []analyzer.Finding) (n int) {
		for _, f := range fs {
			if f.Severity <= analyzer.SeverityWarning {
				n++
			}
		}
		return n
	}
	for _, f := range res.Findings {
		if f.Severity <= analyzer.SeverityWarning && slices.Contains(rw.Resolves, f.Rule) {
			t.Errorf("rewrite claims to resolve %s but it still fires: line %d: %s", f.Rule, f.Line, f.Message)
		}
	}
	if b, n := serious(before.Findings), serious(res.Findings); n > 0 && n >= b {
		t.Errorf("rewrite has %d error/warning findings, the original %d; want fewer", n, b)
		for _, f := range res.Findings {
			t.Logf("  %s line %d: %s", f.Rule, f.Line, f.Message)
		}
	}
	checkRuntimeStage(t, before, rw)
	if again, _ := Plan(res); again != nil {
		t.Errorf("the rewrite would be rewritten again")
	}
	// Every path the new Dockerfile copies from the context must exist
	// (or be generated) and must not be excluded by the .dockerignore.
	d, _ := analyzer.Parse("Dockerfile", rw.Content)
	ctx := analyzer.ContextFor(after, "Dockerfile", ".")
	for in := range d.Each("COPY") {
		if _, from := in.Flag("from"); from {
			continue
		}
		for _, src := range in.Args[:len(in.Args)-1] {
			if src == "." || strings.ContainsAny(src, "*?") {
				continue
			}
			if !ctx.Has(src) {
				t.Errorf("COPY %s: not in the context", src)
			}
			if ctx.DockerIgnore.Excludes(src) {
				t.Errorf("COPY %s: excluded by %s", src, path.Base(ctx.DockerIgnore.Path))
			}
		}
	}
}

// checkRuntimeStage holds every rewrite to the shape issue #11 asks of its
// runtime stage: installs only before a non-root USER, a HEALTHCHECK only
// where the explanation gives its evidence (and, for services, a word on
// why there is none), no USER without saying so, and nginx configs that
// do not require IPv6.
func checkRuntimeStage(t *testing.T, before *analyzer.FileResult, rw *Rewrite) {
	t.Helper()
	d, err := analyzer.Parse("Dockerfile", rw.Content)
	if err != nil {
		t.Fatal(err)
	}
	final := d.FinalStage()
	user, health := "", false
	for _, in := range final.Instructions {
		switch in.Keyword {
		case "USER":
			user = in.Args[0]
		case "RUN":
			if user != "" && user != "root" && user != "0" {
				t.Errorf("line %d: RUN after USER %s: installs and account changes need root", in.StartLine, user)
			}
		case "HEALTHCHECK":
			health = true
		}
	}
	text := strings.Join(rw.Explanation, "\n")
	originalHealth := false
	for in := range before.Dockerfile.Each("HEALTHCHECK") {
		originalHealth = originalHealth || in.Stage.Final
	}
	service := rw.Kind == analyzer.KindPythonService || rw.Kind == analyzer.KindNodeService
	switch {
	case health && !originalHealth && !strings.Contains(text, "HEALTHCHECK asks"):
		t.Errorf("a new HEALTHCHECK without the evidence for it in the explanation:\n%s", text)
	case !health && !originalHealth && service && !strings.Contains(text, "The rewrite adds no HEALTHCHECK of its own: "):
		t.Errorf("no HEALTHCHECK and no word on why:\n%s", text)
	}
	if service && user == "" && !strings.Contains(text, "keeps running as root") {
		t.Errorf("no USER and no word on why:\n%s", text)
	}
	for _, g := range rw.Files {
		if strings.HasSuffix(g.Path, ".conf") && strings.Contains(g.Content, "[::]") {
			t.Errorf("%s listens on IPv6 unconditionally: nginx fails to start where IPv6 is off", g.Path)
		}
	}
}
