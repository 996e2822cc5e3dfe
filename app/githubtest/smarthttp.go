package githubtest

import (
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
)

// gitHTTPBackend is real git's smart HTTP server; the fake serves clones
// with it so that what the app's clone code talks to is git, not a copy.
const gitHTTPBackend = "/usr/lib/git-core/git-http-backend"

// gitPath recognises /{owner}/{repo}.git/{rest}, at the root or under the
// GHES prefix.
func gitPath(path, prefix string) (owner, repo, rest string, ok bool) {
	if prefix != "" {
		if p, cut := strings.CutPrefix(path, prefix+"/"); cut {
			path = "/" + p
		}
	}
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 || !strings.HasSuffix(parts[1], ".git") || parts[0] == "repos" {
		return "", "", "", false
	}
	if len(parts) == 3 {
		rest = parts[2]
	}
	return parts[0], strings.TrimSuffix(parts[1], ".git"), rest, true
}

func (s *Server) serveGit(w *recorder, r *http.Request, owner, name, rest string, call *Call) {
	// Only fetching is served: the app must commit through the Git Data
	// API (so that GitHub signs its commits), never by git push.
	if r.URL.Query().Get("service") == "git-receive-pack" || rest == "git-receive-pack" {
		http.Error(w, "githubtest: push over HTTP is not served; use the Git Data API", http.StatusForbidden)
		s.recordViolation(call, "git push attempted: dockopt commits through the Git Data API")
		return
	}
	user, pass, hasAuth := r.BasicAuth()
	if !hasAuth {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Authentication required", http.StatusUnauthorized)
		return
	}
	tok := s.lookupToken(pass)
	if user != "x-access-token" || tok == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
		return
	}
	call.Installation = tok.inst.ID
	s.mu.Lock()
	repo := s.repos[strings.ToLower(owner+"/"+name)]
	s.mu.Unlock()
	// A public repository the App is not installed on (a contributor's
	// fork) can be read with any valid token, as on GitHub.
	public := repo != nil && repo.inst == nil && !repo.Private
	if repo == nil || (!public && (repo.inst != tok.inst || !tok.allows(repo))) {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	if f, ok := s.takeFault(r.Method, "GIT", "git-upload-pack"); ok && applyFault(w, r, f) {
		return
	}
	h := &cgi.Handler{
		Path: gitHTTPBackend,
		Root: "/",
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.gitRoot,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + s.gitRoot,
		},
		InheritEnv: []string{"PATH"},
		Stderr:     os.Stderr,
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + strings.ToLower(owner) + "/" + strings.ToLower(name) + ".git/" + rest
	r2.URL.RawPath = ""
	h.ServeHTTP(w, r2)
}
