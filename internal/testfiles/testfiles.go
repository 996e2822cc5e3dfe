// Package testfiles writes the small file trees tests analyze.
package testfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
