package analyzer_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// repoWithLinks writes a repository and, beside it, a folder its links
// point into, and returns the repository's os.Root.
func repoWithLinks(t *testing.T, files map[string]string, links map[string]string) *os.Root {
	t.Helper()
	dir := testfiles.Dir(t, files)
	for name, target := range links {
		p := filepath.Join(dir, "repo", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// TestLinksOutsideAreListedNotRead: through the folder's os.Root, files
// behind links that leave it are not read, wherever they are named from
// (the walk, a compose file, the build context), and the result lists
// them; a link that stays inside is read.
func TestLinksOutsideAreListedNotRead(t *testing.T) {
	root := repoWithLinks(t, map[string]string{
		"outside/Dockerfile": "FROM debian:12\nRUN echo SECRET\n",
		"outside/ignore":     "SECRET\n",
		"repo/Dockerfile":    "FROM node:20\nCOPY . /app\nCMD [\"node\", \"/app\"]\n",
		"repo/compose.yaml":  "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile.prod\n",
		"repo/in/Dockerfile": "FROM debian:12\n",
	}, map[string]string{
		"Dockerfile.prod":  "../outside/Dockerfile",
		"Dockerfile.dev":   "../outside/Dockerfile",
		".dockerignore":    "../outside/ignore",
		"in/Dockerfile.ok": "Dockerfile",
	})
	res, err := analyzer.New(nil).Analyze(t.Context(), root.FS(), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range res.Files {
		paths = append(paths, f.Path)
	}
	if !slices.Equal(paths, []string{"Dockerfile", "in/Dockerfile"}) {
		t.Errorf("analyzed %v", paths)
	}
	var unread []string
	for _, s := range res.Unread {
		unread = append(unread, s.Path)
		if s.Reason != analyzer.OutsideReason {
			t.Errorf("%s: reason %q", s.Path, s.Reason)
		}
	}
	if want := []string{".dockerignore", "Dockerfile.dev", "Dockerfile.prod"}; !slices.Equal(unread, want) {
		t.Errorf("unread = %v, want %v", unread, want)
	}
	if got := res.Skipped(); len(got) != 3 {
		t.Errorf("Skipped() = %v", got)
	}
}

// TestConfigBehindOutsideLinkIsRefused: a configuration that links
// outside is an error that names it and quotes nothing of it; an oversized
// hadolint configuration, which is ignored, is a warning of the result.
func TestConfigBehindOutsideLinkIsRefused(t *testing.T) {
	root := repoWithLinks(t, map[string]string{"outside/dockopt.yml": "rules:\n  SECRET: off\n", "repo/Dockerfile": "FROM debian:12\n"},
		map[string]string{".github/dockopt.yml": "../../outside/dockopt.yml"})
	_, err := analyzer.LoadConfig(root.FS())
	var ce *analyzer.ConfigError
	if !errors.As(err, &ce) || ce.File != ".github/dockopt.yml" || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), analyzer.OutsideReason) {
		t.Errorf("LoadConfig = %v", err)
	}

	big := repoWithLinks(t, map[string]string{"repo/.hadolint.yaml": "ignored:\n" + strings.Repeat("  - DL3008\n", analyzer.MaxConfigSize/10), "repo/Dockerfile": "FROM debian:12\n"}, nil)
	cfg, err := analyzer.LoadConfig(big.FS())
	if err != nil {
		t.Fatal(err)
	}
	res, err := analyzer.New(nil).Analyze(t.Context(), big.FS(), ".", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l := res.Limits(); len(l) != 1 || !strings.Contains(l[0].Message, ".hadolint.yaml is larger than 256 KiB and was not read") {
		t.Errorf("limits = %v", l)
	}
}
