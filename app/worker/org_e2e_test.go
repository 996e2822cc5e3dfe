package worker_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/queue/queuetest"
)

func with(files map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// TestOrganizationDefaultsComeFromItsGitHubRepository: the organization's
// .github repository holds .github/dockopt.yml, the defaults every
// repository's own file is laid over. A repository without a file takes
// them as they are; one with a file overrides what it writes; one line
// opts a repository out; and a pull request from a fork is judged by the
// base branch's file over the same defaults, whatever the fork's says.
func TestOrganizationDefaultsComeFromItsGitHubRepository(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		gh := githubtest.NewServer(t)
		inst := gh.AddInstallation("acme")
		gh.AddRepo(inst, "acme", ".github", map[string]string{
			".github/dockopt.yml": "checks: {fail_on: all}\noutput: {mode: check-only}\n",
			"profile/README.md":   "# acme\n",
		})
		shop := gh.AddRepo(inst, "acme", "shop", debtRepo())
		blog := gh.AddRepo(inst, "acme", "blog", with(debtRepo(), map[string]string{".github/dockopt.yml": "output: {mode: pull-request}\n"}))
		archive := gh.AddRepo(inst, "acme", "archive", with(debtRepo(), map[string]string{".dockopt.yml": "enabled: false\n"}))
		h := startWith(t, gh, shop, databaseURL, nil)
		h.send(t, gh.InstallationCreatedEvent(inst, "alice"))

		run := lastRun(t, h, shop)
		if run.Conclusion != "failure" || !strings.Contains(run.Summary, "`checks.fail_on: all`") {
			t.Errorf("shop takes fail_on: all from the organization: %s\n%s", run.Conclusion, run.Summary)
		}
		if len(gh.PullRequests(shop)) != 0 || len(run.Actions) != 1 || run.Actions[0].Identifier != "open-fix-pr" {
			t.Errorf("shop takes check-only from the organization: %d pull requests, actions %+v", len(gh.PullRequests(shop)), run.Actions)
		}
		if prs := gh.PullRequests(blog); len(prs) != 1 {
			t.Errorf("blog's own output.mode overrides the organization's: %d pull requests", len(prs))
		}
		if run := lastRun(t, h, blog); run.Conclusion != "failure" {
			t.Errorf("blog keeps the organization's fail_on: %s", run.Conclusion)
		}
		if runs := gh.CheckRuns(archive); len(runs) != 0 || len(gh.PullRequests(archive)) != 0 {
			t.Errorf("archive opted out, yet got %d check runs", len(runs))
		}
		reads := 0
		for _, c := range gh.Calls() {
			if c.Operation == "repos/get-content" && strings.Contains(c.Path, "/acme/.github/") {
				reads++
			}
		}
		if reads != 1 {
			t.Errorf("the organization's file was read %d times for one installation's onboarding, want once", reads)
		}

		// A fork's pull request says fail_on: never for itself; the base
		// branch's configuration (none) over the organization's applies.
		fork := gh.Fork(shop, "carol")
		df, _ := gh.File(shop, "main", "svc/Dockerfile")
		gh.Push(fork, "quiet", map[string]string{".github/dockopt.yml": "checks: {fail_on: never}\n", "svc/Dockerfile": withBadLine(df)}, "quiet", "carol")
		pr := gh.OpenForkPullRequest(shop, fork, "quiet", "main", "Quiet", "carol")
		h.send(t, gh.PullRequestEvent(shop, pr.Number, "opened", "carol"))
		if run := lastRun(t, h, shop); run.Conclusion != "failure" || !strings.Contains(run.Summary, "`checks.fail_on: all`") {
			t.Errorf("the fork's pull request must be judged by the base's and the organization's configuration: %s\n%s", run.Conclusion, run.Summary)
		}
	})
}

// TestBrokenOrganizationDefaultsAreReported: a mistake in the
// organization's file is a configuration error on each check run, like a
// mistake in the repository's own.
func TestBrokenOrganizationDefaultsAreReported(t *testing.T) {
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("acme")
	gh.AddRepo(inst, "acme", ".github", map[string]string{".github/dockopt.yml": "checks: {fail_on: sometimes}\n"})
	shop := gh.AddRepo(inst, "acme", "shop", debtRepo())
	h := startWith(t, gh, shop, queuetest.SQLite(t), nil)
	h.push(t, map[string]string{"README.md": "# shop\n\nagain\n"})
	run := lastRun(t, h, shop)
	if run.Conclusion != "failure" || !strings.Contains(run.Summary, "organization's default configuration") || !strings.Contains(run.Summary, "acme/.github") {
		t.Errorf("a broken organization file: %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
}
