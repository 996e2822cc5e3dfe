package worker_test

import (
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/queue/queuetest"
)

// TestCommandInAReviewThreadIsAnsweredThere: a command given on a line of
// a pull request's diff is acknowledged and answered in its thread.
func TestCommandInAReviewThreadIsAnsweredThere(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, databaseURL string) {
		h := start(t, databaseURL, prRepo())
		n := h.openPR(t, "feature", map[string]string{"svc/Dockerfile": strings.Replace(baseDockerfile, "COPY", aptLine+"\nCOPY", 1)})
		c := h.gh.AddReviewComment(h.repo, n, "mallory", "svc/Dockerfile", 2, "Why?\n\n/dockopt explain DL3015")
		h.send(t, h.gh.ReviewCommentEvent(h.repo, c.ID))
		var replies []string
		for _, rc := range h.gh.ReviewComments(h.repo) {
			if rc.InReplyTo == c.ID && rc.User == h.gh.Bot() {
				replies = append(replies, rc.Body)
			}
			if rc.ID == c.ID && (len(rc.Reactions) != 1 || rc.Reactions[0].Content != "eyes") {
				t.Errorf("the command should be acknowledged with eyes: %+v", rc.Reactions)
			}
		}
		if len(replies) != 1 || !strings.Contains(replies[0], "@mallory") || !strings.Contains(replies[0], "apt-no-install-recommends") {
			t.Fatalf("the command should be answered once in its thread: %q", replies)
		}
	})
}
