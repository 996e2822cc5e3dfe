package githubtest

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ManifestSubmission is one app manifest a browser posted to GitHub's "new
// app" page.
type ManifestSubmission struct {
	Org      string // empty for a personal account
	State    string
	Manifest map[string]any
}

// Manifests returns the manifests posted to the "new app" page, oldest first.
func (s *Server) Manifests() []ManifestSubmission {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ManifestSubmission(nil), s.manifests...)
}

// manifestPageOrg reports whether path is one of GitHub's web pages of the
// manifest flow: /settings/apps/new for a personal account, or
// /organizations/{org}/settings/apps/new, where the manifest is posted;
// each with /confirm, where the person confirms. They are part of GitHub's
// web UI, not of the REST API, so they live at the host root even on GitHub
// Enterprise Server.
func manifestPageOrg(path string) (org string, confirm, ok bool) {
	path, confirm = strings.CutSuffix(path, "/confirm")
	if path == "/settings/apps/new" {
		return "", confirm, true
	}
	rest, found := strings.CutPrefix(path, "/organizations/")
	if !found {
		return "", false, false
	}
	org, tail, found := strings.Cut(rest, "/")
	return org, confirm, found && org != "" && tail == "settings/apps/new"
}

// serveManifestPage plays GitHub's two steps. The posted manifest (a
// "manifest" field holding JSON, "state" in the query) is checked as GitHub
// checks it and answered with a confirmation page, a new document of
// GitHub's own; its form, once submitted, redirects the browser to the
// manifest's redirect_url with a one-time code and the state. The redirect
// must come from that second document: a browser applies the posting
// page's Content-Security-Policy form-action to redirects of the form it
// submitted, and dockopt's page allows only GitHub there.
func (s *Server) serveManifestPage(w http.ResponseWriter, r *http.Request, org string, confirm bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "the new-app page takes a POSTed form", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	if confirm {
		s.confirmManifest(w, r)
		return
	}
	var manifest map[string]any
	if err := json.Unmarshal([]byte(r.PostForm.Get("manifest")), &manifest); err != nil {
		s.t.Errorf("githubtest: the manifest posted to %s is not JSON: %v", r.URL.Path, err)
		http.Error(w, "Invalid GitHub App configuration: the manifest is not JSON", http.StatusUnprocessableEntity)
		return
	}
	if problem := manifestProblem(manifest); problem != "" {
		s.t.Errorf("githubtest: manifest posted to %s: %s", r.URL.Path, problem)
		http.Error(w, "Invalid GitHub App configuration: "+problem, http.StatusUnprocessableEntity)
		return
	}
	s.mu.Lock()
	s.manifests = append(s.manifests, ManifestSubmission{Org: org, State: r.URL.Query().Get("state"), Manifest: manifest})
	id := len(s.manifests) - 1
	s.mu.Unlock()
	name, _ := manifest["name"].(string)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The script stands in for the person clicking the button.
	confirmPage.Execute(w, map[string]any{"Name": name, "Action": r.URL.Path + "/confirm", "ID": id})
}

func (s *Server) confirmManifest(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PostForm.Get("submission"))
	s.mu.Lock()
	var sub ManifestSubmission
	known := err == nil && id >= 0 && id < len(s.manifests)
	if known {
		sub = s.manifests[id]
	}
	s.mu.Unlock()
	if !known {
		http.Error(w, "no such app manifest", http.StatusNotFound)
		return
	}
	redirect, _ := url.Parse(sub.Manifest["redirect_url"].(string))
	q := redirect.Query()
	q.Set("code", s.NewManifestCode())
	if sub.State != "" {
		q.Set("state", sub.State)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

var confirmPage = template.Must(template.New("confirm").Parse(`<!doctype html>
<html><head><title>Create GitHub App</title></head><body>
<form method="post" action="{{.Action}}">
<input type="hidden" name="submission" value="{{.ID}}">
<button type="submit">Create GitHub App for {{.Name}}</button>
</form>
<script>document.forms[0].submit();</script>
</body></html>
`))

// manifestProblem checks what GitHub checks before showing the confirmation
// page: absolute http(s) URLs where URLs are expected and a webhook URL when
// webhooks are active.
func manifestProblem(m map[string]any) string {
	redirect, _ := m["redirect_url"].(string)
	if !isAbsoluteHTTP(redirect) {
		return fmt.Sprintf("redirect_url %q is not an absolute http(s) URL", redirect)
	}
	if u, _ := m["url"].(string); !isAbsoluteHTTP(u) {
		return fmt.Sprintf("url %q is not an absolute http(s) URL", u)
	}
	hook, _ := m["hook_attributes"].(map[string]any)
	if active, _ := hook["active"].(bool); hook != nil && (active || hook["active"] == nil) {
		if u, _ := hook["url"].(string); !isAbsoluteHTTP(u) {
			return fmt.Sprintf("hook_attributes.url %q is not an absolute http(s) URL", u)
		}
	}
	return ""
}

func isAbsoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
