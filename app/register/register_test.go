package register

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
)

// These tests keep a minimal fake of the two GitHub endpoints the flow
// touches (the web page that receives the manifest form and the
// conversions API) to steer failures: wrong state, a refused code, GHES
// and organization URLs. double_test.go runs the flow against the strict
// app/githubtest double and uses the credentials it writes.

const (
	testCode          = "code-0123456789"
	testWebhookSecret = "6f1ed002ab5595859014ebf0951522d9"
	testAppID         = 424242
)

type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	apiPre string // "/api/v3" for GitHub Enterprise Server, "" for an API host of its own
	pem    string

	mu          sync.Mutex
	formPath    string
	manifest    map[string]any
	state       string
	conversions int
}

func newFakeGitHub(t *testing.T, apiPrefix string) *fakeGitHub {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeGitHub{t: t, apiPre: apiPrefix, pem: string(pem.EncodeToMemory(&pem.Block{
		Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /settings/apps/new", f.newApp)
	mux.HandleFunc("POST /organizations/{org}/settings/apps/new", f.newApp)
	mux.HandleFunc("POST "+apiPrefix+"/app-manifests/{code}/conversions", f.convert)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake GitHub: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// newApp plays the person clicking "Create GitHub App": GitHub then redirects
// to the manifest's redirect_url with a code and the state it was given.
func (f *fakeGitHub) newApp(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("manifest form Content-Type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("manifest form: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.PostForm.Get("manifest")), &m); err != nil {
		f.t.Errorf("manifest is not JSON: %v", err)
		http.Error(w, "bad manifest", http.StatusUnprocessableEntity)
		return
	}
	state := r.URL.Query().Get("state")
	f.mu.Lock()
	f.formPath, f.manifest, f.state = r.URL.Path, m, state
	f.mu.Unlock()
	redirect, _ := m["redirect_url"].(string)
	u, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		f.t.Errorf("redirect_url %q", redirect)
		http.Error(w, "bad redirect_url", http.StatusUnprocessableEntity)
		return
	}
	u.RawQuery = url.Values{"code": {testCode}, "state": {state}}.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (f *fakeGitHub) convert(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.conversions++
	f.mu.Unlock()
	if got := r.PathValue("code"); got != testCode {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"id":             testAppID,
		"slug":           "dockopt-acme",
		"name":           "dockopt-acme",
		"html_url":       f.srv.URL + "/apps/dockopt-acme",
		"client_id":      "Iv1.8a61f9b3a7aba766",
		"client_secret":  "1726be1638095a19edd134c77bde3aa2ece1e5d8",
		"webhook_secret": testWebhookSecret,
		"pem":            f.pem,
	})
}

// browser follows what a person's browser does with the local page: load it,
// submit its form (to GitHub), follow GitHub's redirect back.
type browser struct {
	t      *testing.T
	opened chan string
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	return &browser{t: t, opened: make(chan string, 1), client: &http.Client{}}
}

func (b *browser) Open(u string) { b.opened <- u }

// submit loads the page and posts its form; it returns the final page.
func (b *browser) submit(page string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(page)
	if err != nil {
		b.t.Fatalf("loading the local page: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action") {
		b.t.Errorf("local page Content-Security-Policy %q has no form-action", csp)
	}
	action, fields := parseForm(b.t, body)
	// GitHub answers with a page of its own whose form the person submits
	// (the "Create GitHub App" button); follow such pages as they come.
	for hop := 0; ; hop++ {
		resp, err = b.client.PostForm(action, fields)
		if err != nil {
			b.t.Fatalf("posting %s: %v", action, err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		next, nextFields, ok := findForm(body)
		if !ok || hop == 2 {
			return resp.StatusCode, string(body)
		}
		if u, err := resp.Request.URL.Parse(next); err == nil {
			next = u.String()
		}
		action, fields = next, nextFields
	}
}

func parseForm(t *testing.T, page []byte) (string, url.Values) {
	t.Helper()
	action, fields, ok := findForm(page)
	if !ok {
		t.Fatalf("local page has no POST form:\n%s", page)
	}
	return action, fields
}

// findForm returns a page's POST form, if it has one.
func findForm(page []byte) (string, url.Values, bool) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", nil, false
	}
	var action, method string
	fields := url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch n.Data {
			case "form":
				action, method = attr["action"], attr["method"]
			case "input":
				fields.Add(attr["name"], attr["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return action, fields, action != "" && strings.EqualFold(method, "post")
}

type runResult struct {
	res *Result
	err error
}

func startRun(ctx context.Context, opts Options) <-chan runResult {
	ch := make(chan runResult, 1)
	go func() {
		res, err := Run(ctx, opts)
		ch <- runResult{res, err}
	}()
	return ch
}

func TestRegisterGHES(t *testing.T) {
	gh := newFakeGitHub(t, "/api/v3")
	br := newBrowser(t)
	out := filepath.Join(t.TempDir(), "dockopt.env")
	var stdout bytes.Buffer
	done := startRun(context.Background(), Options{
		GitHubURL:   gh.srv.URL, // not github.com: an Enterprise Server, API under /api/v3
		ListenAddr:  "127.0.0.1:0",
		PublicURL:   "https://dockopt.example.com",
		OutFile:     out,
		Stdout:      &stdout,
		OpenBrowser: br.Open,
	})
	status, page := br.submit(<-br.opened)
	r := <-done
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if status != http.StatusOK || !strings.Contains(page, "/apps/dockopt-acme/installations/new") {
		t.Errorf("final page %d:\n%s", status, page)
	}
	if r.res.AppID != testAppID || r.res.Slug != "dockopt-acme" || r.res.OutFile != out {
		t.Errorf("result %+v", r.res)
	}

	if gh.formPath != "/settings/apps/new" {
		t.Errorf("manifest posted to %s", gh.formPath)
	}
	if len(gh.state) < 32 {
		t.Errorf("state %q is too short to be unguessable", gh.state)
	}
	checkManifest(t, gh.manifest, "https://dockopt.example.com/webhook")

	env := readEnvFile(t, out)
	if env["DOCKOPT_APP_ID"] != fmt.Sprint(testAppID) || env["DOCKOPT_WEBHOOK_SECRET"] != testWebhookSecret {
		t.Errorf("env file: %v", env)
	}
	if env["DOCKOPT_PRIVATE_KEY"] != strings.TrimRight(gh.pem, "\n") {
		t.Errorf("private key in the env file differs from GitHub's:\n%s", env["DOCKOPT_PRIVATE_KEY"])
	}
	if env["DOCKOPT_GITHUB_URL"] != gh.srv.URL {
		t.Errorf("DOCKOPT_GITHUB_URL = %q, want %q", env["DOCKOPT_GITHUB_URL"], gh.srv.URL)
	}
	if env["DOCKOPT_CLIENT_ID"] == "" || env["DOCKOPT_CLIENT_SECRET"] == "" {
		t.Errorf("client id/secret missing: %v", env)
	}
	checkMode(t, out)
	for _, want := range []string{out, "/apps/dockopt-acme/installations/new", "https://dockopt.example.com/webhook"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestRegisterOrgWithSeparateAPIHost(t *testing.T) {
	gh := newFakeGitHub(t, "") // like api.github.com: the API at the root of its own host
	br := newBrowser(t)
	out := filepath.Join(t.TempDir(), "creds.env")
	done := startRun(context.Background(), Options{
		GitHubURL:   gh.srv.URL,
		APIURL:      gh.srv.URL,
		Org:         "acme",
		Name:        "dockopt-acme",
		ListenAddr:  "127.0.0.1:0",
		PublicURL:   "https://hooks.acme.test/github/webhook",
		OutFile:     out,
		OpenBrowser: br.Open,
	})
	br.submit(<-br.opened)
	if r := <-done; r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if gh.formPath != "/organizations/acme/settings/apps/new" {
		t.Errorf("manifest posted to %s", gh.formPath)
	}
	if gh.manifest["name"] != "dockopt-acme" {
		t.Errorf("name = %v", gh.manifest["name"])
	}
	checkManifest(t, gh.manifest, "https://hooks.acme.test/github/webhook")
	checkMode(t, out)
}

func checkManifest(t *testing.T, m map[string]any, webhookURL string) {
	t.Helper()
	hook, _ := m["hook_attributes"].(map[string]any)
	if hook["url"] != webhookURL || hook["active"] != true {
		t.Errorf("hook_attributes = %v, want url %s and active", hook, webhookURL)
	}
	redirect, _ := m["redirect_url"].(string)
	if !strings.HasPrefix(redirect, "http://127.0.0.1:") || !strings.HasSuffix(redirect, callbackPath) {
		t.Errorf("redirect_url = %q", redirect)
	}
	if u, _ := m["url"].(string); u == "" {
		t.Error("manifest has no url")
	}
	if m["public"] != false {
		t.Errorf("public = %v, want false", m["public"])
	}
	wantPerms := map[string]any{
		"contents": "write", "pull_requests": "write", "checks": "write",
		"issues": "write", "metadata": "read",
	}
	if !reflect.DeepEqual(m["default_permissions"], wantPerms) {
		t.Errorf("default_permissions = %v, want exactly %v", m["default_permissions"], wantPerms)
	}
	var events []string
	for _, e := range m["default_events"].([]any) {
		events = append(events, e.(string))
	}
	sort.Strings(events)
	wantEvents := []string{"check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review_comment", "push"}
	if !reflect.DeepEqual(events, wantEvents) {
		t.Errorf("default_events = %v, want %v", events, wantEvents)
	}
}

func checkMode(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
}

// readEnvFile reads the file the way a POSIX shell does with `set -a; .`,
// which is also how docker compose's env_file treats double-quoted values.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to source the env file with")
	}
	script := `set -a; . "$1"; for v in DOCKOPT_APP_ID DOCKOPT_PRIVATE_KEY DOCKOPT_WEBHOOK_SECRET DOCKOPT_CLIENT_ID DOCKOPT_CLIENT_SECRET DOCKOPT_GITHUB_URL; do eval "printf '%s=%s\\0' $v \"\$$v\""; done`
	out, err := exec.Command(sh, "-c", script, "sh", path).Output()
	if err != nil {
		t.Fatalf("sourcing %s: %v", path, err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

func TestRegisterRefusesWrongState(t *testing.T) {
	gh := newFakeGitHub(t, "/api/v3")
	br := newBrowser(t)
	out := filepath.Join(t.TempDir(), "dockopt.env")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startRun(ctx, Options{
		GitHubURL: gh.srv.URL, ListenAddr: "127.0.0.1:0",
		PublicURL: "https://dockopt.example.com/webhook", OutFile: out, OpenBrowser: br.Open,
	})
	page := <-br.opened
	for _, state := range []string{"", "forged", strings.Repeat("0", 64)} {
		q := url.Values{"code": {testCode}, "state": {state}}
		resp, err := http.Get(strings.TrimSuffix(page, "/") + callbackPath + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "state mismatch") {
			t.Errorf("state %q: %d %s", state, resp.StatusCode, body)
		}
	}
	if gh.conversions != 0 {
		t.Errorf("a forged redirect reached the conversions API %d times", gh.conversions)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was written after a forged redirect (err %v)", out, err)
	}
	// Still waiting for the genuine redirect, until the person gives up.
	select {
	case r := <-done:
		t.Fatalf("Run returned on a forged redirect: %v", r.err)
	default:
	}
	cancel()
	if r := <-done; !errors.Is(r.err, context.Canceled) {
		t.Errorf("Run after cancel: %v", r.err)
	}
}

func TestRegisterKeepsExistingFile(t *testing.T) {
	gh := newFakeGitHub(t, "/api/v3")
	out := filepath.Join(t.TempDir(), "dockopt.env")
	if err := os.WriteFile(out, []byte("KEEP=me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{
		GitHubURL: gh.srv.URL, ListenAddr: "127.0.0.1:0",
		PublicURL: "https://dockopt.example.com/webhook", OutFile: out,
		OpenBrowser: func(string) { t.Error("the browser was opened although the file exists") },
	})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("Run = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "KEEP=me\n" {
		t.Errorf("file changed: %q", b)
	}

	// With Overwrite, the new file replaces it and is no longer world-readable.
	br := newBrowser(t)
	done := startRun(context.Background(), Options{
		GitHubURL: gh.srv.URL, ListenAddr: "127.0.0.1:0",
		PublicURL: "https://dockopt.example.com/webhook", OutFile: out, Overwrite: true,
		OpenBrowser: br.Open,
	})
	br.submit(<-br.opened)
	if r := <-done; r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	checkMode(t, out)
	if b, _ := os.ReadFile(out); strings.Contains(string(b), "KEEP") {
		t.Errorf("old content survived:\n%s", b)
	}
}

func TestRegisterConversionFailure(t *testing.T) {
	gh := newFakeGitHub(t, "/api/v3")
	out := filepath.Join(t.TempDir(), "dockopt.env")
	br := newBrowser(t)
	done := startRun(context.Background(), Options{
		GitHubURL: gh.srv.URL, ListenAddr: "127.0.0.1:0",
		PublicURL: "https://dockopt.example.com/webhook", OutFile: out, OpenBrowser: br.Open,
	})
	page := <-br.opened
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action, _ := parseForm(t, body)
	u, _ := url.Parse(action)
	// A code GitHub no longer knows (older than an hour, or already used).
	q := url.Values{"code": {"expired"}, "state": {u.Query().Get("state")}}
	resp, err = http.Get(strings.TrimSuffix(page, "/") + callbackPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("callback with a rejected code: %d", resp.StatusCode)
	}
	if r := <-done; r.err == nil || !strings.Contains(r.err.Error(), "404") {
		t.Errorf("Run = %v, want GitHub's 404", r.err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s written after a failed exchange", out)
	}
}

func TestEmbeddedManifestMatchesRoot(t *testing.T) {
	root, err := os.ReadFile("../../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(root, DefaultManifest) {
		t.Error("app/register/app.yml differs from the repository's app.yml; copy app.yml over it")
	}
}

func TestCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "-webhook-url is required"},
		{[]string{"-webhook-url", "https://x.test", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-nope"}, 2, "flag provided but not defined"},
		{[]string{"-h"}, 0, "usage: dockopt-app register"},
		{[]string{"--help"}, 0, "usage: dockopt-app register"},
		{[]string{"-webhook-url", "ftp://x.test", "-no-browser"}, 1, "want an absolute http(s) URL"},
	} {
		var stdout, stderr bytes.Buffer
		code := Command(context.Background(), tc.args, &stdout, &stderr)
		// Help asked for goes to stdout; usage after an error, to stderr.
		got := stderr.String()
		if tc.code == 0 {
			got = stdout.String()
		}
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("register %q: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d and %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.want)
		}
	}
}
