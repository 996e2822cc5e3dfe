package demo

import (
	"context"
	"fmt"
	"testing"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
)

// TestListPRFilesReadsEveryPage: `demo --json` on a folder of 159
// Dockerfiles listed 100 files, the first page. The fake serves 100 a page
// with GitHub's Link header, so all 159 take two requests.
func TestListPRFilesReadsEveryPage(t *testing.T) {
	gh := githubtest.NewServer(t)
	inst := gh.AddInstallation("octo-org")
	repo := gh.AddRepo(inst, "octo-org", "many", map[string]string{"README.md": "many\n"})
	files := map[string]string{}
	for i := range 159 {
		files[fmt.Sprintf("svc%03d/Dockerfile", i)] = "FROM scratch\n"
	}
	gh.Push(repo, "many", files, "159 services", "octocat")
	pr := gh.OpenPullRequest(repo, "many", "main", "159 services", "octocat")

	f := &ghclient.Factory{AppID: gh.AppID, Key: gh.PrivateKey, APIURL: gh.APIURL()}
	client, err := f.Installation(inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := listPRFiles(context.Background(), client.Client, repo.Owner, repo.Name, pr.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 159 || got[0] != "svc000/Dockerfile" || got[158] != "svc158/Dockerfile" {
		t.Errorf("listed %d files (%v … ), want all 159", len(got), got[:min(3, len(got))])
	}
	if n := gh.CallCount("pulls/list-files"); n != 2 {
		t.Errorf("%d requests for the files, want 2 pages of 100", n)
	}
}
