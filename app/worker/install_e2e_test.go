package worker_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// TestInstallingTheAppAnalyzesEachRepository: the installation event and
// repositories added later queue one analysis per repository's default
// branch, each ending with its own check run and pull request.
func TestInstallingTheAppAnalyzesEachRepository(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		gh := githubtest.NewServer(t)
		inst := gh.AddInstallation("acme")
		shop := gh.AddRepo(inst, "acme", "shop", smallRepo())
		blog := gh.AddRepo(inst, "acme", "blog", smallRepo())
		h := startWith(t, gh, shop, databaseURL, nil)
		if n := h.send(t, gh.InstallationCreatedEvent(inst, "alice")); n != 2 {
			t.Fatalf("installation queued %d jobs, want one per repository (2)", n)
		}
		for _, r := range []*githubtest.Repo{shop, blog} {
			if prs := gh.PullRequests(r); len(prs) != 1 {
				t.Errorf("%s: %d pull requests after the installation, want 1", r.Name, len(prs))
			}
			if runs := gh.CheckRuns(r); len(runs) != 1 || runs[0].Status != "completed" {
				t.Errorf("%s: check runs %+v", r.Name, runs)
			}
		}
		api := gh.AddRepo(inst, "acme", "api", smallRepo())
		if n := h.send(t, gh.InstallationReposAddedEvent(inst, "alice", api)); n != 1 {
			t.Fatalf("adding a repository queued %d jobs, want 1", n)
		}
		if prs := gh.PullRequests(api); len(prs) != 1 || !strings.HasPrefix(prs[0].Head, "dockopt/") {
			t.Errorf("the added repository should get its pull request: %+v", prs)
		}
	})
}
