package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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

// manifestPageOrg reports whether path is GitHub's web page that receives an
// app manifest: /settings/apps/new for a personal account, or
// /organizations/{org}/settings/apps/new. It is part of GitHub's web UI, not
// of the REST API, so it lives at the host root even on GitHub Enterprise
// Server.
func manifestPageOrg(path string) (org string, ok bool) {
	if path == "/settings/apps/new" {
		return "", true
	}
	rest, found := strings.CutPrefix(path, "/organizations/")
	if !found {
		return "", false
	}
	org, tail, found := strings.Cut(rest, "/")
	return org, found && org != "" && tail == "settings/apps/new"
}

// serveManifestPage plays the person who confirms the app on GitHub's page:
// it accepts the form GitHub documents (a "manifest" field holding JSON,
// "state" in the query), refuses what GitHub would refuse, and redirects the
// browser to the manifest's redirect_url with a one-time code and the state.
func (s *Server) serveManifestPage(w http.ResponseWriter, r *http.Request, org string) {
	if r.Method != http.MethodPost {
		http.Error(w, "the new-app page takes a POSTed manifest", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
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
	redirect, _ := url.Parse(manifest["redirect_url"].(string))
	state := r.URL.Query().Get("state")
	s.mu.Lock()
	s.manifests = append(s.manifests, ManifestSubmission{Org: org, State: state, Manifest: manifest})
	s.mu.Unlock()
	q := redirect.Query()
	q.Set("code", s.NewManifestCode())
	if state != "" {
		q.Set("state", state)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

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
