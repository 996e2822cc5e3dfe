// Package testfiles writes the small file trees tests analyze.
package testfiles

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Write creates files under dir, by slash-separated path, with their
// folders, failing the test on any error.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Dir writes files to a new temporary folder and returns it.
func Dir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	Write(t, dir, files)
	return dir
}

// Root opens dir as an os.Root, closed when the test ends.
func Root(t testing.TB, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// HeavyRepo is a repository whose analysis needs far more memory than a
// small one: n Dockerfiles of 400 RUN lines each (ten of them make 12,010
// findings and peak at about 184 MiB), for tests of analysis budgets.
func HeavyRepo(n int) map[string]string {
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "RUN apt-get update && apt-get install -y curl%d && echo %d\n", i, i)
	}
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("s%d/Dockerfile", i)] = "FROM debian:bookworm-slim\n" + b.String()
	}
	return files
}

// HostileRepo is a repository written to trip the analysis and the
// rendering up: links out of the checkout (a Dockerfile linked to
// /etc/passwd, a linked .dockerignore), a compose file naming both the
// link and a path outside, Markdown, HTML and a table pipe in a folder
// name, backticks in a command, a heredoc holding a code fence,
// official-image style variants generated from one template, a long
// file, and a configuration with a waiver. files are the regular files;
// links maps each link's path to its target, for the caller to make as a
// clone or a fake GitHub makes them.
func HostileRepo() (files, links map[string]string) {
	files = map[string]string{
		"svc/Dockerfile":               "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD node /app/`whoami`.js\n",
		"shared/dockerignore":          ".git\n",
		"we|ird <b>x</b>/Dockerfile":   "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN <<EOF\necho '```' > /x\nEOF\nUSER root\nCMD npm start\n",
		"compose.yaml":                 "services:\n  evil:\n    build: {context: svc, dockerfile: evil.Dockerfile}\n  outside:\n    build: {context: svc, dockerfile: ../../../etc/passwd}\n  web:\n    build: ./svc\n",
		"variants/Dockerfile.template": "FROM debian:%%SUITE%%\nRUN apt-get update && apt-get install -y curl\n",
		".github/dockopt.yml":          "ignore:\n  - rule: apt-no-install-recommends\n    path: variants/**\n",
	}
	for _, suite := range []string{"bookworm", "bullseye", "trixie"} {
		files["variants/"+suite+"/Dockerfile"] = "# DO NOT EDIT: generated from ../Dockerfile.template\nFROM debian:" + suite + "\nRUN apt-get update && apt-get install -y curl\n"
	}
	for p, c := range HeavyRepo(1) {
		files["heavy/"+p] = c
	}
	links = map[string]string{
		"svc/.dockerignore":   "../shared/dockerignore",
		"svc/evil.Dockerfile": "/etc/passwd",
	}
	return files, links
}

// Output collects what a process or server writes while the test reads
// it: an exec.Cmd's Stdout and Stderr, or a logger's writer.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
