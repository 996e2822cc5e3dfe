package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A repository names its files, and a JSON-form COPY names whatever it
// likes: "a\n2 error fake" must not start a line of its own in the text or
// Markdown output, whichever rule quotes it. The JSON output carries the
// same message as the text output, one JSON string.
func TestNamesWithControlCharactersStayOnTheirLine(t *testing.T) {
	const bad = "a\n2 error fake"
	dir := t.TempDir()
	for name, content := range map[string]string{
		// copy-ignored-file quotes the COPY source, exec-form-variable
		// the argument.
		"one/Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY [\"a\\n2 error fake\", \"/app/\"]\nCOPY app.py .\n" +
			"CMD [\"python\", \"app.py\", \"--home=$HOME\\n2 error fake\"]\n",
		"one/.dockerignore": "*fake\n",
		"one/" + bad:        "x\n",
		"one/app.py":        "print('hi')\n",
		// dockerignore-missing lists the .env files it found.
		"two/Dockerfile":        "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n",
		"two/package.json":      `{"name": "x"}`,
		"two/package-lock.json": "{}",
		"two/index.js":          "x\n",
		"two/.env":              "X=1\n",
		"two/.env." + bad:       "X=1\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	analyze := func(format string) string { return analyzeOutput(t, dir, format) }
	var doc struct {
		Files []struct {
			Findings []struct{ Rule, Message string }
		}
	}
	if err := json.Unmarshal([]byte(analyze("json")), &doc); err != nil {
		t.Fatal(err)
	}
	text, markdown := analyze("text"), analyze("markdown")
	named := map[string]bool{}
	for _, f := range doc.Files {
		for _, fd := range f.Findings {
			if !strings.Contains(fd.Message, "fake") {
				continue
			}
			named[fd.Rule] = true
			if strings.ContainsAny(fd.Message, "\n\r\x1b") {
				t.Errorf("%s: message holds a control character: %q", fd.Rule, fd.Message)
			}
			if !strings.Contains(text, "  "+fd.Rule+"  "+fd.Message) {
				t.Errorf("%s: the text output does not show the JSON's message %q on the rule's line:\n%s", fd.Rule, fd.Message, text)
			}
		}
	}
	for _, rule := range []string{"copy-ignored-file", "exec-form-variable", "dockerignore-missing"} {
		if !named[rule] {
			t.Errorf("no %s finding names the file", rule)
		}
	}
	for format, out := range map[string]string{"text": text, "markdown": markdown} {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "2 error fake") {
				t.Errorf("%s output: a file name starts a line of its own: %q", format, l)
			}
		}
	}
}

// A Dockerfile's own name is printed everywhere: headings, tables, the
// image tag and the docker build command of the report. One with a line
// break is not analyzed, and is listed as not read, its name quoted; the
// JSON output names it exactly.
func TestDockerfileNamedWithALineBreakIsNotRead(t *testing.T) {
	const bad = "a\n2 error fake.Dockerfile"
	dir := t.TempDir()
	for name, content := range map[string]string{
		bad:          "FROM python:3.12\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
		"Dockerfile": "FROM python:3.12-slim\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n",
		"app.py":     "print('hi')\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	analyze := func(format string) string { return analyzeOutput(t, dir, format) }
	var doc struct {
		Files   []struct{ Path string }
		Skipped []struct{ Path, Reason string }
	}
	if err := json.Unmarshal([]byte(analyze("json")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Files) != 1 || doc.Files[0].Path != "Dockerfile" {
		t.Errorf("analyzed %+v, want only Dockerfile", doc.Files)
	}
	if len(doc.Skipped) != 1 || doc.Skipped[0].Path != bad || !strings.Contains(doc.Skipped[0].Reason, "control character") {
		t.Errorf("skipped %+v, want %q with the reason", doc.Skipped, bad)
	}
	for _, format := range []string{"text", "markdown"} {
		out := analyze(format)
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "2 error fake") {
				t.Errorf("%s output: a file name starts a line of its own: %q", format, l)
			}
		}
		if !strings.Contains(out, `"a\n2 error fake.Dockerfile"`) {
			t.Errorf("%s output does not name the file quoted:\n%s", format, out)
		}
	}
}

// analyzeOutput is what `dockopt analyze --format format dir` prints; an
// exit status above 1 (not a finding) fails the test.
func analyzeOutput(t *testing.T, dir, format string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"analyze", "--format", format, dir}, &out, &errOut); code > 1 {
		t.Fatalf("%s: exit %d: %s", format, code, errOut.String())
	}
	return out.String()
}
