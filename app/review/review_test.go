package review

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// applyEdits applies a fix the way the patcher does: the expected result
// of accepting a suggestion.
func applyEdits(src string, edits []analyzer.TextEdit) string {
	sorted := append([]analyzer.TextEdit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	var b strings.Builder
	at := 0
	for _, e := range sorted {
		b.WriteString(src[at:e.Start] + e.New)
		at = e.End
	}
	return b.String() + src[at:]
}

func addedFile(src string) FileDiff {
	d := FileDiff{Commentable: map[int]bool{}, Added: map[int]bool{}}
	for i := 1; i <= strings.Count(src, "\n"); i++ {
		d.Commentable[i], d.Added[i] = true, true
	}
	return d
}

func analyze(t *testing.T, files map[string]string) *analyzer.Result {
	t.Helper()
	fsys := fstest.MapFS{}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	res, err := analyzer.New(rules.All()).Analyze(t.Context(), fsys, ".", analyzer.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Every suggestion, applied as GitHub applies it (the commented lines
// replaced by the block), must give the file its fixes produce.
func TestSuggestionsApplyAsGitHubWould(t *testing.T) {
	srcs := map[string]string{
		"apt/Dockerfile":   "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n",
		"multi/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update && \\\n    apt-get install -y \\\n      curl \\\n      ca-certificates\nCMD [\"curl\", \"--version\"]\n",
		"node/Dockerfile":  "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD node server.js\n",
		"noeol/Dockerfile": "FROM python:3.12\nRUN pip install flask\nCMD python app.py",
	}
	res := analyze(t, srcs)
	diff := Diff{}
	for p, s := range srcs {
		diff[p] = addedFile(s + "\n")
	}
	comments, _ := Build(res, diff, analyzer.Review)
	if len(comments) < 4 {
		t.Fatalf("want suggestions in every file, got %d", len(comments))
	}
	byFinding := map[string][]analyzer.Finding{}
	for _, fr := range res.Files {
		byFinding[fr.Path] = fr.Findings
	}
	for _, c := range comments {
		src := srcs[c.Path]
		var edits []analyzer.TextEdit
		for _, f := range byFinding[c.Path] {
			for _, r := range c.Rules {
				if f.Rule == r && f.Fix != nil {
					edits = append(edits, f.Fix.Edits...)
				}
			}
		}
		want := applyEdits(src, edits)
		got := Apply(src, c.Suggestion, c.First(), c.Line)
		if got != want {
			t.Errorf("%s %v lines %d-%d: applying the suggestion gives\n%s\nwant\n%s", c.Path, c.Rules, c.First(), c.Line, got, want)
		}
		if !strings.Contains(c.Body, "suggestion\n") || FingerprintOf(c.Body) != c.Fingerprint {
			t.Errorf("body lacks the suggestion block or the fingerprint:\n%s", c.Body)
		}
	}
}

func TestAptInstallSuggestion(t *testing.T) {
	src := "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n"
	res := analyze(t, map[string]string{"svc/Dockerfile": src})
	comments, _ := Build(res, Diff{"svc/Dockerfile": addedFile(src)}, analyzer.Review)
	var line2 *Comment
	for i, c := range comments {
		if c.First() == 2 && c.Line == 2 {
			line2 = &comments[i]
		}
	}
	if line2 == nil {
		t.Fatalf("no suggestion on line 2: %+v", comments)
	}
	fixed := Apply(src, line2.Suggestion, 2, 2)
	if got := strings.Split(fixed, "\n")[1]; !strings.Contains(got, "apt-get install -y --no-install-recommends curl") && !strings.Contains(got, "--no-install-recommends") {
		t.Errorf("line 2 after the suggestion: %q", got)
	}
	if strings.Count(line2.Body, "```suggestion") != 1 {
		t.Errorf("one suggestion block per comment:\n%s", line2.Body)
	}
}

func finding(rule string, line int, edits ...analyzer.TextEdit) analyzer.Finding {
	return analyzer.Finding{Rule: rule, Severity: analyzer.SeverityWarning, Line: line, EndLine: line, Message: rule + " message",
		Fix: &analyzer.Fix{Safety: analyzer.Safe, Edits: edits}}
}

func result(t *testing.T, path, src string, fs ...analyzer.Finding) *analyzer.Result {
	t.Helper()
	df, err := analyzer.Parse(path, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return &analyzer.Result{Files: []*analyzer.FileResult{{Path: path, Dockerfile: df, Findings: fs}}}
}

func TestShapes(t *testing.T) {
	src := "FROM a\nRUN one\nRUN two\nRUN three\nCMD x\n"
	off := func(s string) int { return strings.Index(src, s) }
	all := Diff{"Dockerfile": addedFile(src)}
	t.Run("multi-line fix gets start_line", func(t *testing.T) {
		f := finding("join", 2, analyzer.TextEdit{Start: off("RUN one"), End: off("RUN three"), New: "RUN one && two\n"})
		cs, _ := Build(result(t, "Dockerfile", src, f), all, analyzer.Review)
		if len(cs) != 1 || cs[0].StartLine != 2 || cs[0].Line != 3 || cs[0].Suggestion != "RUN one && two" {
			t.Fatalf("%+v", cs)
		}
	})
	t.Run("deleting a line is an empty suggestion", func(t *testing.T) {
		f := finding("drop", 3, analyzer.TextEdit{Start: off("RUN two"), End: off("RUN three")})
		cs, _ := Build(result(t, "Dockerfile", src, f), all, analyzer.Review)
		if len(cs) != 1 || cs[0].StartLine != 0 || cs[0].Line != 3 || cs[0].Suggestion != "" {
			t.Fatalf("%+v", cs)
		}
		if got := Apply(src, "", 3, 3); got != "FROM a\nRUN one\nRUN three\nCMD x\n" {
			t.Errorf("applied: %q", got)
		}
	})
	t.Run("insertion at end of file", func(t *testing.T) {
		f := finding("user", 5, analyzer.TextEdit{Start: len(src), End: len(src), New: "USER 1000\n"})
		cs, _ := Build(result(t, "Dockerfile", src, f), all, analyzer.Review)
		if len(cs) != 1 || cs[0].Line != 5 || cs[0].Suggestion != "CMD x\nUSER 1000" {
			t.Fatalf("%+v", cs)
		}
	})
	t.Run("overlapping fixes become one comment", func(t *testing.T) {
		a := finding("a", 2, analyzer.TextEdit{Start: off("one"), End: off("one") + 3, New: "ONE"})
		b := finding("b", 2, analyzer.TextEdit{Start: off("RUN one"), End: off("RUN one") + 3, New: "run"})
		cs, _ := Build(result(t, "Dockerfile", src, a, b), all, analyzer.Review)
		if len(cs) != 1 || cs[0].Suggestion != "run ONE" || len(cs[0].Rules) != 2 {
			t.Fatalf("%+v", cs)
		}
	})
	t.Run("colliding edits: the second goes to annotations", func(t *testing.T) {
		a := finding("a", 2, analyzer.TextEdit{Start: off("one"), End: off("one") + 3, New: "ONE"})
		b := finding("b", 2, analyzer.TextEdit{Start: off("one"), End: off("one") + 3, New: "uno"})
		cs, elsewhere := Build(result(t, "Dockerfile", src, a, b), all, analyzer.Review)
		if len(cs) != 1 || elsewhere != 1 || cs[0].Suggestion != "RUN ONE" {
			t.Fatalf("%+v %d", cs, elsewhere)
		}
	})
	t.Run("lines outside the diff or only context stay annotations", func(t *testing.T) {
		f := finding("join", 2, analyzer.TextEdit{Start: off("RUN one"), End: off("RUN three"), New: "RUN one && two\n"})
		d := Diff{"Dockerfile": ParsePatch("@@ -1,3 +1,3 @@\n FROM a\n-RUN uno\n+RUN one\n RUN two")}
		if cs, _ := Build(result(t, "Dockerfile", src, f), d, analyzer.Review); len(cs) != 1 {
			t.Fatalf("lines 2 (added) and 3 (context) are commentable: %+v", cs)
		}
		d = Diff{"Dockerfile": ParsePatch("@@ -1,2 +1,3 @@\n FROM a\n RUN one\n+RUN two")}
		g := finding("g", 2, analyzer.TextEdit{Start: off("one"), End: off("one") + 3, New: "ONE"})
		if cs, n := Build(result(t, "Dockerfile", src, g), d, analyzer.Review); len(cs) != 0 || n != 1 {
			t.Fatalf("a context-only line is not reviewed: %+v", cs)
		}
		if cs, n := Build(result(t, "Dockerfile", src, f), Diff{}, analyzer.Review); len(cs) != 0 || n != 1 {
			t.Fatalf("a file outside the diff: %+v %d", cs, n)
		}
	})
	t.Run("review fixes follow the policy", func(t *testing.T) {
		f := finding("user", 5, analyzer.TextEdit{Start: len(src), End: len(src), New: "USER 1000\n"})
		f.Fix.Safety = analyzer.Review
		if cs, n := Build(result(t, "Dockerfile", src, f), all, analyzer.Safe); len(cs) != 0 || n != 1 {
			t.Fatalf("a review fix under apply: safe: %+v", cs)
		}
	})
	t.Run("fence outgrows backticks in the suggestion", func(t *testing.T) {
		f := finding("tick", 2, analyzer.TextEdit{Start: off("one"), End: off("one") + 3, New: "echo ````x````"})
		cs, _ := Build(result(t, "Dockerfile", src, f), all, analyzer.Review)
		if len(cs) != 1 || !strings.Contains(cs[0].Body, "`````suggestion\n") {
			t.Fatalf("%+v", cs)
		}
	})
}

func TestParsePatch(t *testing.T) {
	d := ParsePatch("@@ -1,4 +1,5 @@\n FROM a\n-RUN x\n+RUN y\n+RUN z\n CMD c\n\\ No newline at end of file\n@@ -10,2 +11,2 @@\n ENV a=b\n-ENV c=d\n+ENV c=e")
	for l, want := range map[int][2]bool{1: {true, false}, 2: {true, true}, 3: {true, true}, 4: {true, false}, 5: {false, false}, 11: {true, false}, 12: {true, true}} {
		if d.Commentable[l] != want[0] || d.Added[l] != want[1] {
			t.Errorf("line %d: commentable %v added %v, want %v", l, d.Commentable[l], d.Added[l], want)
		}
	}
}

func TestPlan(t *testing.T) {
	mk := func(i int) Comment {
		fp := Fingerprint([]string{"r"}, "Dockerfile", strings.Repeat("x", i))
		return Comment{Path: "Dockerfile", Line: i, Rules: []string{"r"}, Fingerprint: fp, Body: "b <!-- dockopt:fp=" + fp + " -->"}
	}
	var want []Comment
	for i := 1; i <= 35; i++ {
		want = append(want, mk(i))
	}
	p := NewPlan(want, nil, "dockopt[bot]", 2)
	if len(p.Post) != MaxComments || len(p.Summarised) != 5 || !strings.Contains(p.Body, "5 more") || !strings.Contains(p.Body, "2 other findings") {
		t.Fatalf("cap: %d posted, %d summarised\n%s", len(p.Post), len(p.Summarised), p.Body)
	}
	existing := []Existing{
		{ID: 1, User: "dockopt[bot]", Body: want[0].Body},                // still wanted: kept, not repeated
		{ID: 2, User: "dockopt[bot]", Body: mk(99).Body},                 // no longer wanted: deleted
		{ID: 3, User: "dockopt[bot]", Body: mk(98).Body},                 // no longer wanted, but replied to: kept
		{ID: 4, User: "alice", Body: "why?", InReplyTo: 3},               //
		{ID: 5, User: "mallory", Body: mk(97).Body},                      // not dockopt's: never touched
		{ID: 6, User: "dockopt[bot]", Body: "plain reply", InReplyTo: 1}, // dockopt's reply, no fingerprint
	}
	p = NewPlan(want[:3], existing, "dockopt[bot]", 0)
	if len(p.Post) != 2 || p.Post[0].Line != 2 || len(p.Delete) != 1 || p.Delete[0] != 2 {
		t.Fatalf("plan: post %+v delete %v", p.Post, p.Delete)
	}
	p = NewPlan(want[:1], existing[:1], "dockopt[bot]", 3)
	if len(p.Post) != 0 || p.Body != "" {
		t.Fatalf("nothing new must post nothing: %+v", p)
	}
}

func TestFence(t *testing.T) {
	for s, want := range map[string]string{"": "```", "a`b": "```", "``` x": "````", "x ````` y ``": "``````"} {
		if got := Fence(s); got != want {
			t.Errorf("Fence(%q) = %q, want %q", s, got, want)
		}
	}
}

// Two fixes inserting at the same offset (a package word and `&& rm …`
// both at the end of one apt-get install) cannot be merged into one
// suggestion: their order would be a guess, and one order installs
// nothing. The second goes to the annotations.
func TestSameInsertionPointNotMerged(t *testing.T) {
	src := "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCMD [\"sh\"]\n"
	end := strings.Index(src, "curl") + len("curl")
	res := result(t, "Dockerfile", src,
		finding("apt-lists-not-removed", 2, analyzer.TextEdit{Start: end, End: end, New: " && rm -rf /var/lib/apt/lists/*"}),
		finding("init-process-missing", 2, analyzer.TextEdit{Start: end, End: end, New: " tini"}))
	comments, elsewhere := Build(res, Diff{"Dockerfile": addedFile(src)}, analyzer.Review)
	if len(comments) != 1 || len(comments[0].Rules) != 1 || elsewhere != 1 {
		t.Fatalf("want one suggestion and one finding left to the annotations, got %d comments (%+v), %d elsewhere", len(comments), comments, elsewhere)
	}
	if got := Apply(src, comments[0].Suggestion, comments[0].First(), comments[0].Line); strings.Contains(got, "/* tini") {
		t.Errorf("the suggestion joins the edits in the wrong order:\n%s", got)
	}
}

// A finding's message quotes the repository (a COPY source, a folder
// name), and so does a path: in a review comment and in the review's body
// they read as text, never as a link, HTML or a code span cut short.
func TestHostileTextStaysText(t *testing.T) {
	src := "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n"
	path := "a`b <details open>/Dockerfile"
	message := "copies [x](https://evil.example) and <img src=x> from a`b"
	fd := finding("apt-no-install-recommends", 2, analyzer.TextEdit{Start: 47, End: 47, New: " --no-install-recommends"})
	fd.Message = message
	fd.Fix.Files = []analyzer.GeneratedFile{{Path: "a`b <details open>/.dockerignore", Content: ".git\n"}}
	comments, _ := Build(result(t, path, src, fd), Diff{path: addedFile(src)}, analyzer.Review)
	if len(comments) != 1 {
		t.Fatalf("%d comments, want 1", len(comments))
	}
	var want []Comment
	for i := range MaxComments + 1 {
		c := comments[0]
		c.Line, c.Fingerprint = i+1, Fingerprint(c.Rules, path, strings.Repeat("x", i))
		want = append(want, c)
	}
	plan := NewPlan(want, nil, "dockopt[bot]", 0)
	for what, text := range map[string]string{"comment": comments[0].Body, "review body": plan.Body} {
		text, _, _ = strings.Cut(text, "```suggestion") // the block is code
		plain := testfiles.OutsideCode(text)
		for _, bad := range []string{"[x](https://evil.example)", "<img", "<details open>"} {
			if regexp.MustCompile(`(^|[^\\])` + regexp.QuoteMeta(bad)).MatchString(plain) {
				t.Errorf("%s holds %q as Markdown reads it:\n%s", what, bad, text)
			}
		}
		if unescapedBacktick.MatchString(plain) {
			t.Errorf("%s holds a backtick that opens a code span:\n%s", what, text)
		}
	}
	if !strings.Contains(comments[0].Body, "``/dockopt ignore apt-no-install-recommends a`b <details open>/Dockerfile``") {
		t.Errorf("the ignore command is not one code span:\n%s", comments[0].Body)
	}
}

var unescapedBacktick = regexp.MustCompile("(^|[^\\\\])`")
