package worker_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// TestSymlinksStayLinksAndLeadNowhereOutside: the clone keeps the
// repository's symbolic links. A .dockerignore linked to a shared file is
// found (not proposed again as a new file) and stays a link on dockopt's
// branch; a compose file naming a Dockerfile linked out of the repository
// gets nothing of that file into the pull request or the check run.
func TestSymlinksStayLinksAndLeadNowhereOutside(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		files := smallRepo()
		files["shared/dockerignore"] = ".git\n"
		files["svc/.dockerignore"] = githubtest.Symlink("../shared/dockerignore")
		files["svc/evil.Dockerfile"] = githubtest.Symlink("/etc/passwd")
		files["compose.yaml"] = "services:\n  evil:\n    build: {context: svc, dockerfile: evil.Dockerfile}\n"
		h.push(t, files)

		prs := h.gh.PullRequests(h.repo)
		if len(prs) != 1 {
			t.Fatalf("%d pull requests, want 1", len(prs))
		}
		if mode := h.gh.Mode(h.repo, "dockopt/main", "svc/.dockerignore"); mode != "120000" {
			t.Errorf("svc/.dockerignore on dockopt's branch has mode %q, want the link kept (120000)", mode)
		}
		if got, _ := h.gh.File(h.repo, "dockopt/main", "shared/dockerignore"); !strings.HasPrefix(got, ".git\n") {
			t.Errorf("the linked .dockerignore lost its content: %q", got)
		}
		if fixed, _ := h.gh.File(h.repo, "dockopt/main", "svc/Dockerfile"); !strings.Contains(fixed, "--no-install-recommends") {
			t.Errorf("the ordinary fix is missing:\n%s", fixed)
		}
		run := lastRun(t, h, h.repo)
		report, _ := h.gh.File(h.repo, "dockopt/main", ".dockopt/REPORT.md")
		for where, text := range map[string]string{"pull request": prs[0].Body, "check run": run.Summary + run.Text, "report": report} {
			if strings.Contains(text, "root:x:0:0") {
				t.Errorf("the %s quotes a file from outside the repository", where)
			}
		}
	})
}
