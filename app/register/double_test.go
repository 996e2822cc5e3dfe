package register

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/app/server"
)

// TestRegisterAgainstTheGitHubDouble runs the manifest flow with the code
// exchanged at the strict fake GitHub (its request validated against the
// OpenAPI description), then proves the written credentials work: the key
// signs an app JWT the fake accepts.
func TestRegisterAgainstTheGitHubDouble(t *testing.T) {
	// The fake also plays GitHub's "new app" web page: it checks the
	// posted manifest and redirects with a one-time code it issued.
	gh := githubtest.NewServer(t)

	br := newBrowser(t)
	out := filepath.Join(t.TempDir(), "dockopt.env")
	var stdout bytes.Buffer
	done := startRun(context.Background(), Options{
		GitHubURL: gh.URL(), APIURL: gh.APIURL(), ListenAddr: "127.0.0.1:0",
		PublicURL: "https://dockopt.example.com", OutFile: out, Stdout: &stdout, OpenBrowser: br.Open,
	})
	br.submit(<-br.opened)
	r := <-done
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	subs := gh.Manifests()
	if len(subs) != 1 || subs[0].Org != "" || subs[0].State == "" {
		t.Fatalf("the new-app page received %+v, want one manifest for a personal account, with a state", subs)
	}
	checkManifest(t, subs[0].Manifest, "https://dockopt.example.com/webhook")
	checkMode(t, out)
	env := readEnvFile(t, out)
	if env["DOCKOPT_APP_ID"] != fmt.Sprint(gh.AppID) || env["DOCKOPT_WEBHOOK_SECRET"] != gh.WebhookSecret {
		t.Fatalf("env file does not hold the app the fake registered: %v", env)
	}
	key, err := server.ParseRSAKey([]byte(env["DOCKOPT_PRIVATE_KEY"]))
	if err != nil {
		t.Fatalf("the written private key does not parse: %v", err)
	}
	inst := gh.AddInstallation("acme")
	f := &ghclient.Factory{AppID: gh.AppID, Key: key, APIURL: gh.APIURL()}
	app, err := f.App()
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := app.Apps.GetInstallation(context.Background(), inst.ID)
	if err != nil {
		t.Fatalf("the registered credentials are refused by the fake GitHub: %v", err)
	}
	if got.GetAppID() != gh.AppID {
		t.Errorf("installation of app %d, want %d", got.GetAppID(), gh.AppID)
	}
	ic, err := f.Installation(inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ic.Token(context.Background()); err != nil || tok == "" {
		t.Errorf("no installation token with the registered key: %v", err)
	}
	if !strings.Contains(stdout.String(), out) {
		t.Errorf("the next step should name the credentials file:\n%s", stdout.String())
	}
}
