package worker_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// TestIgnoreCommandIsPersistedAndShown: a collaborator's `/dockopt ignore`
// on dockopt's pull request is recorded, the analysis runs again without
// the rule, the pull request lists the waiver, and later pushes honour it.
func TestIgnoreCommandIsPersistedAndShown(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, map[string]string{"README.md": "# shop\n"})
		// A generic image: no structural rewrite, so the waived rule's own
		// fix is the only place --no-install-recommends comes from. It runs
		// a service of its own (not a command-line tool), so that its USER
		// fix keeps the pull request open once the waived fix is gone.
		h.push(t, map[string]string{
			"svc/Dockerfile":    "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nCOPY orders /usr/local/bin/orders\nCMD [\"orders\"]\n",
			"svc/orders":        "#!/bin/sh\n",
			"svc/.dockerignore": ".git\n",
		})
		prs := h.gh.PullRequests(h.repo)
		if len(prs) != 1 {
			t.Fatalf("%d pull requests", len(prs))
		}
		if fixed, _ := h.gh.File(h.repo, "dockopt/main", "svc/Dockerfile"); !strings.Contains(fixed, "--no-install-recommends") {
			t.Fatalf("the first proposal should carry the fix being waived:\n%s", fixed)
		}
		h.gh.SetPermission(h.repo, "bob", "write")
		h.comment(t, prs[0].Number, "bob", "We need the recommends here.\n/dockopt ignore DL3015 svc/Dockerfile")
		ans := h.answers()
		if len(ans) != 1 || !strings.Contains(ans[0].Body, "apt-no-install-recommends` is waived") || !strings.Contains(ans[0].Body, "ignore:") {
			t.Fatalf("the ignore command should be answered with the waiver and its YAML: %+v", ans)
		}
		fixed, _ := h.gh.File(h.repo, "dockopt/main", "svc/Dockerfile")
		if strings.Contains(fixed, "--no-install-recommends") {
			t.Errorf("after the waiver the pull request still proposes the waived fix:\n%s", fixed)
		}
		body := h.gh.PullRequests(h.repo)[0].Body
		if !strings.Contains(body, "Waived rules") || !strings.Contains(body, "`apt-no-install-recommends` under `svc/Dockerfile`") {
			t.Errorf("the pull request should list the waiver:\n%s", body)
		}

		// A later push still honours it.
		h.push(t, map[string]string{"README.md": "# shop, again\n"})
		runs := h.gh.CheckRuns(h.repo)
		for _, a := range runs[len(runs)-1].Annotations {
			if a.Title == "apt-no-install-recommends" {
				t.Errorf("the waived rule is reported again on a later push: %+v", a)
			}
		}

		// Someone without write access cannot waive anything.
		h.comment(t, prs[0].Number, "mallory", "/dockopt ignore final-user-root")
		ans = h.answers()
		if !strings.Contains(ans[len(ans)-1].Body, "needs write access") {
			t.Errorf("a waiver by a non-collaborator should be refused: %s", ans[len(ans)-1].Body)
		}
	})
}
