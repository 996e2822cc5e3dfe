// Package register creates dockopt's GitHub App through GitHub's manifest
// flow, so that a person installing dockopt never copies a private key or a
// webhook secret by hand.
//
// The flow (docs.github.com, "Registering a GitHub App from a manifest"):
//  1. A local page POSTs the manifest and a random state to GitHub's
//     "new app" page, where the person confirms the name and clicks Create.
//  2. GitHub redirects the browser back to the local page with ?code&state.
//  3. The code is exchanged at POST /app-manifests/{code}/conversions for the
//     app's ID, private key and webhook secret, which are written to an env
//     file readable only by its owner.
//
// All three steps must happen within an hour of each other; GitHub refuses
// an older code.
package register

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"gopkg.in/yaml.v3"
)

// DefaultManifest is the repository's app.yml, compiled in so that
// `dockopt-app register` works from the container image, where no source tree
// exists. A test keeps it identical to the root app.yml.
//
//go:embed app.yml
var DefaultManifest []byte

const (
	// DefaultGitHubURL is github.com's web address; its API lives on another host.
	DefaultGitHubURL = "https://github.com"
	// DefaultListenAddr is the local page's address. A fixed port, like
	// Probot's 3000, so a person registering from a remote machine knows which
	// port to forward.
	DefaultListenAddr = "127.0.0.1:3000"
	// DefaultOutFile is where the credentials go; docker compose reads it with
	// `env_file`.
	DefaultOutFile = "dockopt.env"

	callbackPath = "/callback"
	// codeLifetime is GitHub's limit for the whole handshake (manifest page
	// to code exchange), from the manifest documentation.
	codeLifetime = time.Hour
)

// Options configure one registration.
type Options struct {
	// GitHubURL is the web address of github.com or of a GitHub Enterprise
	// Server, e.g. https://github.example.com. Empty means github.com.
	GitHubURL string
	// APIURL is the REST API base. Empty derives it: https://api.github.com/
	// for github.com, <GitHubURL>/api/v3/ for GitHub Enterprise Server.
	APIURL string
	// Org registers the app under an organization instead of the person's
	// own account.
	Org string
	// Name overrides app.yml's name; GitHub app names are unique per server.
	Name string
	// AppYML is the manifest template; when nil, AppYMLPath is read, and when
	// that is empty too, DefaultManifest is used.
	AppYML     []byte
	AppYMLPath string
	// ListenAddr is the local page's address (DefaultListenAddr when empty).
	// Port 0 picks a free port.
	ListenAddr string
	// PublicURL is where GitHub will deliver webhooks: dockopt's public URL.
	// A URL with no path gets /webhook appended.
	PublicURL string
	// OutFile receives the credentials (DefaultOutFile when empty), created
	// with mode 0600. An existing file is refused unless Overwrite is set.
	OutFile   string
	Overwrite bool
	// Stdout receives progress and the next steps; nil discards them.
	Stdout io.Writer
	// OpenBrowser is called with the local page's URL; nil only prints it.
	OpenBrowser func(url string)
	// HTTPClient makes the code exchange; nil means a client with a timeout.
	HTTPClient *http.Client
}

// Result describes the app GitHub created.
type Result struct {
	AppID   int64
	Slug    string
	HTMLURL string
	OutFile string
}

// Run performs the whole registration and returns once the credentials are
// written, or when ctx ends.
func Run(ctx context.Context, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	// Refuse before GitHub creates anything: an app whose key could not be
	// saved has to be deleted by hand.
	if !o.Overwrite {
		if _, err := os.Stat(o.OutFile); err == nil {
			return nil, fmt.Errorf("%s already exists; choose another file or allow overwriting it", o.OutFile)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	tmpl := o.AppYML
	if tmpl == nil && o.AppYMLPath != "" {
		if tmpl, err = os.ReadFile(o.AppYMLPath); err != nil {
			return nil, err
		}
	}
	if tmpl == nil {
		tmpl = DefaultManifest
	}

	ln, err := net.Listen("tcp", o.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("listening for GitHub's redirect: %w", err)
	}
	local := localURL(ln.Addr().(*net.TCPAddr), o.ListenAddr)
	manifest, err := buildManifest(tmpl, o.Name, o.PublicURL, local+callbackPath)
	if err != nil {
		ln.Close()
		return nil, err
	}
	state, err := randomState()
	if err != nil {
		ln.Close()
		return nil, err
	}

	f := &flow{opts: o, manifest: manifest, state: state, done: make(chan outcome, 1)}
	srv := &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()

	fmt.Fprintf(o.Stdout, "Open %s in a browser signed in to %s to create the app.\n", local+"/", o.GitHubURL)
	fmt.Fprintf(o.Stdout, "Webhooks will be delivered to %s\n", o.PublicURL)
	if o.OpenBrowser != nil {
		o.OpenBrowser(local + "/")
	}

	ctx, cancel := context.WithTimeout(ctx, codeLifetime)
	defer cancel()
	select {
	case out := <-f.done:
		if out.err != nil {
			return nil, out.err
		}
		printNextSteps(o.Stdout, o, out.result)
		return out.result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for GitHub's redirect: %w", ctx.Err())
	}
}

func (o Options) withDefaults() (Options, error) {
	if o.GitHubURL == "" {
		o.GitHubURL = DefaultGitHubURL
	}
	web, err := url.Parse(o.GitHubURL)
	if err != nil || web.Host == "" || (web.Scheme != "https" && web.Scheme != "http") {
		return o, fmt.Errorf("GitHub URL %q: want an absolute http(s) URL", o.GitHubURL)
	}
	web.Path = strings.TrimSuffix(web.Path, "/")
	o.GitHubURL = web.String()
	if o.APIURL == "" {
		if web.Host == "github.com" || web.Host == "www.github.com" {
			o.APIURL = "https://api.github.com/"
		} else {
			o.APIURL = o.GitHubURL + "/api/v3/"
		}
	}
	if !strings.HasSuffix(o.APIURL, "/") {
		o.APIURL += "/"
	}
	if _, err := url.Parse(o.APIURL); err != nil {
		return o, fmt.Errorf("API URL %q: %w", o.APIURL, err)
	}
	if o.PublicURL == "" {
		return o, errors.New("the webhook URL is required: the public address GitHub will deliver events to, e.g. https://dockopt.example.com/webhook")
	}
	pub, err := url.Parse(o.PublicURL)
	if err != nil || pub.Host == "" || (pub.Scheme != "https" && pub.Scheme != "http") {
		return o, fmt.Errorf("webhook URL %q: want an absolute http(s) URL", o.PublicURL)
	}
	if pub.Path == "" || pub.Path == "/" {
		pub.Path = "/webhook"
	}
	o.PublicURL = pub.String()
	if o.ListenAddr == "" {
		o.ListenAddr = DefaultListenAddr
	}
	if o.OutFile == "" {
		o.OutFile = DefaultOutFile
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return o, nil
}

// localURL is the address a browser on this machine uses to reach the page.
// A wildcard listen address (":3000" in a container) is reached as localhost.
func localURL(addr *net.TCPAddr, listen string) string {
	host := "localhost"
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" && !addr.IP.IsUnspecified() {
		host = h
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// buildManifest turns app.yml into the JSON GitHub expects, filling in what
// depends on this installation. Keys it does not know are passed through, so
// app.yml can use any manifest field GitHub adds later.
func buildManifest(appYML []byte, name, webhookURL, redirectURL string) ([]byte, error) {
	var m map[string]any
	if err := yaml.Unmarshal(appYML, &m); err != nil {
		return nil, fmt.Errorf("app.yml: %w", err)
	}
	if m == nil {
		return nil, errors.New("app.yml is empty")
	}
	if name != "" {
		m["name"] = name
	}
	if s, _ := m["url"].(string); s == "" {
		u, _ := url.Parse(webhookURL)
		m["url"] = u.Scheme + "://" + u.Host
	}
	hook, _ := m["hook_attributes"].(map[string]any)
	if hook == nil {
		hook = map[string]any{"active": true}
	}
	hook["url"] = webhookURL
	m["hook_attributes"] = hook
	m["redirect_url"] = redirectURL
	if _, ok := m["default_permissions"].(map[string]any); !ok {
		return nil, errors.New("app.yml: default_permissions is missing")
	}
	return json.Marshal(m)
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

type outcome struct {
	result *Result
	err    error
}

// flow serves the local pages of one registration.
type flow struct {
	opts     Options
	manifest []byte
	state    string
	done     chan outcome

	mu       sync.Mutex
	finished bool
}

func (f *flow) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.start)
	mux.HandleFunc("GET "+callbackPath, f.callback)
	return mux
}

// autoSubmit submits the form as soon as the page loads; the button stays
// for browsers without JavaScript.
const autoSubmit = `document.forms[0].submit();`

var startPage = template.Must(template.New("start").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Register dockopt</title></head>
<body>
<p>Sending dockopt's app manifest to {{.GitHub}}…</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Create the GitHub App</button>
</form>
<script>` + autoSubmit + `</script>
</body></html>
`))

func (f *flow) start(w http.ResponseWriter, r *http.Request) {
	action := f.opts.GitHubURL + "/settings/apps/new"
	if f.opts.Org != "" {
		action = f.opts.GitHubURL + "/organizations/" + url.PathEscape(f.opts.Org) + "/settings/apps/new"
	}
	action += "?state=" + url.QueryEscape(f.state)
	// Only this page's own script may run and the form may only go to
	// GitHub: the page carries nothing secret, but it should not be a tool
	// for anything else either.
	sum := sha256.Sum256([]byte(autoSubmit))
	w.Header().Set("Content-Security-Policy", fmt.Sprintf(
		"default-src 'none'; script-src 'sha256-%s'; form-action %s",
		base64.StdEncoding.EncodeToString(sum[:]), f.opts.GitHubURL))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	startPage.Execute(w, map[string]string{
		"GitHub":   f.opts.GitHubURL,
		"Action":   action,
		"Manifest": string(f.manifest),
	})
}

func (f *flow) callback(w http.ResponseWriter, r *http.Request) {
	code, state := r.URL.Query().Get("code"), r.URL.Query().Get("state")
	// A redirect that does not carry our state did not start from our page
	// (a forged link, or an old tab): refuse it and keep waiting.
	if subtle.ConstantTimeCompare([]byte(state), []byte(f.state)) != 1 {
		http.Error(w, "This link did not come from this registration (state mismatch); nothing was done.", http.StatusBadRequest)
		return
	}
	if code == "" {
		http.Error(w, "GitHub sent no code.", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finished {
		http.Error(w, "This registration is already complete.", http.StatusGone)
		return
	}
	res, err := f.exchange(r.Context(), code)
	if err != nil {
		http.Error(w, "Registration failed: "+err.Error(), http.StatusBadGateway)
		f.finished = true
		f.done <- outcome{err: err}
		return
	}
	f.finished = true
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	donePage.Execute(w, res)
	f.done <- outcome{result: res}
}

var donePage = template.Must(template.New("done").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dockopt registered</title></head>
<body>
<p>The GitHub App <a href="{{.HTMLURL}}">{{.Slug}}</a> (ID {{.AppID}}) was created and its credentials
were written to <code>{{.OutFile}}</code>.</p>
<p>Next: <a href="{{.HTMLURL}}/installations/new">install it on your repositories</a>.</p>
</body></html>
`))

func (f *flow) exchange(ctx context.Context, code string) (*Result, error) {
	client := github.NewClient(f.opts.HTTPClient)
	base, err := url.Parse(f.opts.APIURL)
	if err != nil {
		return nil, err
	}
	client.BaseURL = base
	cfg, _, err := client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("exchanging the code with GitHub: %w", err)
	}
	if cfg.GetID() == 0 || cfg.GetPEM() == "" || cfg.GetWebhookSecret() == "" {
		return nil, errors.New("GitHub's answer lacks the app ID, private key or webhook secret")
	}
	res := &Result{AppID: cfg.GetID(), Slug: cfg.GetSlug(), HTMLURL: cfg.GetHTMLURL(), OutFile: f.opts.OutFile}
	if err := writeEnvFile(f.opts, cfg); err != nil {
		return nil, fmt.Errorf("app %d was created but its credentials could not be saved (delete it at %s/advanced): %w",
			res.AppID, res.HTMLURL, err)
	}
	return res, nil
}

// writeEnvFile writes the credentials in the format docker compose's
// env_file and a POSIX shell's `set -a; . ./dockopt.env` both read: the PEM
// keeps its real newlines inside double quotes (it holds no quote, dollar or
// backslash).
func writeEnvFile(o Options, cfg *github.AppConfig) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# GitHub App %q (%s), created %s by `dockopt-app register`.\n",
		cfg.GetSlug(), cfg.GetHTMLURL(), time.Now().UTC().Format(time.RFC3339))
	b.WriteString("# Secret: keep this file out of version control and out of images.\n")
	fmt.Fprintf(&b, "DOCKOPT_APP_ID=%d\n", cfg.GetID())
	fmt.Fprintf(&b, "DOCKOPT_PRIVATE_KEY=\"%s\"\n", strings.TrimRight(cfg.GetPEM(), "\n"))
	fmt.Fprintf(&b, "DOCKOPT_WEBHOOK_SECRET=%s\n", cfg.GetWebhookSecret())
	if cfg.GetClientID() != "" {
		b.WriteString("# OAuth credentials: dockopt does not use them; kept so they are not lost.\n")
		fmt.Fprintf(&b, "DOCKOPT_CLIENT_ID=%s\n", cfg.GetClientID())
		fmt.Fprintf(&b, "DOCKOPT_CLIENT_SECRET=%s\n", cfg.GetClientSecret())
	}
	if o.GitHubURL != DefaultGitHubURL {
		fmt.Fprintf(&b, "DOCKOPT_GITHUB_URL=%s\n", o.GitHubURL)
	}

	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.Overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	file, err := os.OpenFile(o.OutFile, flags, 0o600)
	if err != nil {
		return err
	}
	// The mode given to OpenFile applies only to a new file; an overwritten
	// one may have been readable by others.
	if err := file.Chmod(0o600); err != nil {
		file.Close()
		return err
	}
	if _, err := file.Write(b.Bytes()); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

func printNextSteps(w io.Writer, o Options, res *Result) {
	fmt.Fprintf(w, "\nCreated the GitHub App %s (ID %d): %s\n", res.Slug, res.AppID, res.HTMLURL)
	fmt.Fprintf(w, "Its credentials are in %s (mode 0600). Keep that file secret.\n\n", res.OutFile)
	fmt.Fprintf(w, "Next steps:\n")
	fmt.Fprintf(w, "  1. Start dockopt with these credentials so that %s answers:\n", o.PublicURL)
	fmt.Fprintf(w, "     with docker compose, put %s next to deploy/compose/docker-compose.yml\n", res.OutFile)
	fmt.Fprintf(w, "     and run `docker compose up -d --wait` there (see deploy/README.md).\n")
	fmt.Fprintf(w, "  2. Install the app on the repositories it should watch:\n")
	fmt.Fprintf(w, "       %s/installations/new\n", res.HTMLURL)
	fmt.Fprintf(w, "  3. Push a commit that touches a Dockerfile; dockopt reports on it.\n")
}
