// Command corpus assembles the benchmark corpus: every Dockerfile the
// repository holds, each as <n>/Dockerfile beside the build context it is
// tested with, so that `dockopt analyze OUT` and the BuildKit peer
// (scripts/buildkit-checks) read the same files. The output is the same for
// the same checkout.
//
//	go run ./scripts/corpus /tmp/corpus
//
// Sources, in this order: the real-shaped trees (analyzer/testdata/corpus,
// analyzer/testdata/realshapes, examples, the CLI's golden repository), each
// Dockerfile copied with its directory minus the other Dockerfiles in it;
// then every txtar archive under analyzer/rules/testdata and patcher whose
// "Dockerfile" section is a case, with its context sections (expected
// outputs, want/ and findings, are left out). The deliberately broken
// files under analyzer/testdata/corpus/bad are not part of it, nor the
// variable-doubling cases: BuildKit alone expands those without a bound
// and does not finish, so the peer could not be timed over them.
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/txtar"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/corpus OUTDIR (run from the repository root)")
		os.Exit(2)
	}
	out := os.Args[1]
	if err := os.MkdirAll(out, 0o755); err != nil {
		fail(err)
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		fail(fmt.Errorf("%s is not empty", out))
	}
	n := 0
	next := func() string {
		n++
		return filepath.Join(out, fmt.Sprintf("%03d", n))
	}
	for _, root := range []string{"analyzer/testdata/corpus", "analyzer/testdata/realshapes", "examples", "cmd/dockopt/testdata/golden/repo"} {
		for _, df := range dockerfiles(root) {
			if err := copyWithContext(df, next()); err != nil {
				fail(err)
			}
		}
	}
	for _, root := range []string{"analyzer/rules/testdata", "patcher"} {
		for _, ar := range archives(root) {
			if err := extract(ar, next); err != nil {
				fail(err)
			}
		}
	}
	fmt.Printf("%d Dockerfiles in %s\n", n, out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "corpus:", err)
	os.Exit(1)
}

func isDockerfile(name string) bool {
	return name == "Dockerfile" || strings.HasPrefix(name, "Dockerfile.") && !strings.HasSuffix(name, ".template") ||
		strings.HasSuffix(name, ".Dockerfile")
}

// dockerfiles lists the Dockerfiles under root in lexical order, skipping
// the broken-input folder.
func dockerfiles(root string) []string {
	return files(root, "bad", func(p string, d fs.DirEntry) bool { return d.Type().IsRegular() && isDockerfile(d.Name()) })
}

// files lists the files under root that match, in lexical order, skipping
// every folder named skip.
func files(root, skip string, match func(p string, d fs.DirEntry) bool) []string {
	var list []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == skip {
			return filepath.SkipDir
		}
		if !d.IsDir() && match(p, d) {
			list = append(list, p)
		}
		return nil
	})
	if err != nil {
		fail(err)
	}
	sort.Strings(list)
	return list
}

// copyWithContext copies the directory of df to dst with df as
// dst/Dockerfile and without the directory's other Dockerfiles.
func copyWithContext(df, dst string) error {
	dir := filepath.Dir(df)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || isDockerfile(d.Name()) {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
	if err != nil {
		return err
	}
	return copyFile(df, filepath.Join(dst, "Dockerfile"))
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

func archives(root string) []string {
	return files(root, "variable-expansion-too-large", func(p string, _ fs.DirEntry) bool { return strings.HasSuffix(p, ".txtar") })
}

// extract writes one corpus entry for an archive that has a Dockerfile
// section, with the sections that are its build context.
func extract(path string, next func() string) error {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		return err
	}
	var context []txtar.File
	found := false
	for _, f := range ar.Files {
		switch {
		case f.Name == "Dockerfile":
			found = true
		case f.Name == "findings" || f.Name == "dockopt.yml" || f.Name == "facts.json" ||
			strings.HasPrefix(f.Name, "want/") || strings.HasSuffix(f.Name, ".fixed") ||
			strings.Contains(f.Name, " ") || isDockerfile(filepath.Base(f.Name)):
			continue
		}
		context = append(context, f)
	}
	if !found {
		return nil
	}
	dst := next()
	for _, f := range context {
		p := filepath.Join(dst, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(p, dst+string(filepath.Separator)) {
			return fmt.Errorf("%s: section %q leaves the case folder", path, f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
