package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

type handler struct {
	fn      func(*Server, *ctx)
	auth    authKind
	creates bool // counts against the content-creation secondary limit
}

// handlers has one entry per operation of the extract; a test checks that
// none is missing.
var handlers = map[string]handler{
	"apps/create-installation-access-token":            {fn: createAccessToken, auth: authJWT},
	"apps/get-installation":                            {fn: getInstallation, auth: authJWT},
	"apps/get-repo-installation":                       {fn: getRepoInstallation, auth: authJWT},
	"apps/list-repos-accessible-to-installation":       {fn: listInstallationRepos, auth: authInstallation},
	"apps/create-from-manifest":                        {fn: createFromManifest, auth: authNone},
	"rate-limit/get":                                   {fn: getRateLimit, auth: authAny},
	"repos/get":                                        {fn: getRepo, auth: authInstallation},
	"repos/get-content":                                {fn: getContent, auth: authInstallation},
	"repos/get-collaborator-permission-level":          {fn: getPermission, auth: authInstallation},
	"git/get-ref":                                      {fn: getRef, auth: authInstallation},
	"git/create-ref":                                   {fn: createRef, auth: authInstallation, creates: true},
	"git/update-ref":                                   {fn: updateRef, auth: authInstallation},
	"git/delete-ref":                                   {fn: deleteRef, auth: authInstallation},
	"git/get-commit":                                   {fn: getCommit, auth: authInstallation},
	"git/get-tree":                                     {fn: getTree, auth: authInstallation},
	"git/create-blob":                                  {fn: createBlob, auth: authInstallation, creates: true},
	"git/create-tree":                                  {fn: createTree, auth: authInstallation, creates: true},
	"git/create-commit":                                {fn: createCommit, auth: authInstallation, creates: true},
	"pulls/list":                                       {fn: listPulls, auth: authInstallation},
	"pulls/get":                                        {fn: getPull, auth: authInstallation},
	"pulls/create":                                     {fn: createPull, auth: authInstallation, creates: true},
	"pulls/update":                                     {fn: updatePull, auth: authInstallation},
	"pulls/list-files":                                 {fn: listPullFiles, auth: authInstallation},
	"pulls/create-review":                              {fn: createReview, auth: authInstallation, creates: true},
	"pulls/list-review-comments":                       {fn: listReviewComments, auth: authInstallation},
	"pulls/create-review-comment":                      {fn: createReviewComment, auth: authInstallation, creates: true},
	"pulls/create-reply-for-review-comment":            {fn: createReply, auth: authInstallation, creates: true},
	"pulls/delete-review-comment":                      {fn: deleteReviewComment, auth: authInstallation},
	"issues/create-comment":                            {fn: createIssueComment, auth: authInstallation, creates: true},
	"issues/update-comment":                            {fn: updateIssueComment, auth: authInstallation},
	"issues/list-comments":                             {fn: listIssueComments, auth: authInstallation},
	"issues/add-labels":                                {fn: addLabels, auth: authInstallation},
	"reactions/create-for-issue-comment":               {fn: reactIssueComment, auth: authInstallation, creates: true},
	"reactions/create-for-pull-request-review-comment": {fn: reactReviewComment, auth: authInstallation, creates: true},
	"checks/create":                                    {fn: createCheckRun, auth: authInstallation, creates: true},
	"checks/update":                                    {fn: updateCheckRun, auth: authInstallation},
	"checks/list-for-ref":                              {fn: listCheckRuns, auth: authInstallation},
	"checks/list-annotations":                          {fn: listAnnotations, auth: authInstallation},
}

// --- apps ---

func createAccessToken(s *Server, c *ctx) {
	inst := s.installations[c.intVar("installation_id")]
	if inst == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	var req struct {
		Repositories  []string `json:"repositories"`
		RepositoryIDs []int64  `json:"repository_ids"`
	}
	c.decode(&req)
	var allowed map[int64]bool
	if len(req.Repositories)+len(req.RepositoryIDs) > 0 {
		allowed = map[int64]bool{}
		for _, name := range req.Repositories {
			found := false
			for _, r := range inst.repos {
				if strings.EqualFold(r.Name, name) {
					allowed[r.ID], found = true, true
				}
			}
			if !found {
				c.errorJSON(http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
		}
		for _, id := range req.RepositoryIDs {
			found := false
			for _, r := range inst.repos {
				if r.ID == id {
					allowed[r.ID], found = true, true
				}
			}
			if !found {
				c.errorJSON(http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
		}
	}
	tok := s.issueToken(inst, allowed)
	repos := []any{}
	for _, r := range inst.repos {
		if tok.allows(r) {
			repos = append(repos, s.repoJSON(r))
		}
	}
	c.json(http.StatusCreated, map[string]any{
		"token": tok.value, "expires_at": timestamp(tok.expires), "permissions": appPermissions(),
		"repository_selection": "selected", "repositories": repos,
	})
}

func getInstallation(s *Server, c *ctx) {
	inst := s.installations[c.intVar("installation_id")]
	if inst == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.installationJSON(inst))
}

func getRepoInstallation(s *Server, c *ctx) {
	repo := s.repos[strings.ToLower(c.vars["owner"]+"/"+c.vars["repo"])]
	if repo == nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.installationJSON(repo.inst))
}

func listInstallationRepos(s *Server, c *ctx) {
	var all []any
	for _, r := range c.tok.inst.repos {
		if c.tok.allows(r) {
			all = append(all, s.repoJSON(r))
		}
	}
	page := paginate(c, all)
	c.json(http.StatusOK, map[string]any{"total_count": len(all), "repository_selection": "selected", "repositories": page})
}

func createFromManifest(s *Server, c *ctx) {
	code := c.vars["code"]
	exp, ok := s.manifestCodes[code]
	delete(s.manifestCodes, code)
	if !ok || !s.Clock.Now().Before(exp) {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusCreated, map[string]any{
		"id": s.AppID, "slug": s.AppSlug, "node_id": fmt.Sprintf("A_%d", s.AppID), "name": s.AppSlug,
		"owner": s.userJSON("dockopt"), "description": "", "external_url": "https://example.com", "html_url": s.URL() + "/apps/" + s.AppSlug,
		"created_at": timestamp(s.Clock.Now()), "updated_at": timestamp(s.Clock.Now()),
		"permissions": appPermissions(), "events": []string{"push", "pull_request"},
		"client_id": "Iv1." + randomHex(8), "client_secret": randomHex(20),
		"webhook_secret": s.WebhookSecret, "pem": string(s.PrivateKeyPEM()),
	})
}

func getRateLimit(s *Server, c *ctx) {
	used := 0
	if c.tok != nil {
		used = s.requestsThisHourLocked(c.tok.inst.ID)
	}
	reset := s.Clock.Now().Truncate(time.Hour).Add(time.Hour).Unix()
	core := map[string]any{"limit": primaryLimit, "used": used, "remaining": primaryLimit - used, "reset": reset}
	c.json(http.StatusOK, map[string]any{
		"resources": map[string]any{
			"core":    core,
			"search":  map[string]any{"limit": 30, "used": 0, "remaining": 30, "reset": reset},
			"graphql": map[string]any{"limit": 5000, "used": 0, "remaining": 5000, "reset": reset},
		},
		"rate": core,
	})
}

// --- repos ---

func getRepo(s *Server, c *ctx) { c.json(http.StatusOK, s.repoJSON(c.repo)) }

func getContent(s *Server, c *ctx) {
	r := c.repo
	ref := c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = r.DefaultBranch
	}
	h, ok := r.resolve(ref)
	if !ok {
		c.errorJSON(http.StatusNotFound, fmt.Sprintf("No commit found for the ref %s", ref))
		return
	}
	p := strings.Trim(c.vars["path"], "/")
	commit, _ := r.commitObject(h)
	tree, _ := commit.Tree()
	entry, err := tree.FindEntry(p)
	if err != nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	if entry.Mode == filemode.Dir {
		sub, _ := tree.Tree(p)
		list := []any{}
		for _, e := range sub.Entries {
			list = append(list, s.contentEntry(r, path.Join(p, e.Name), e, ref, nil))
		}
		c.json(http.StatusOK, list)
		return
	}
	content, _ := r.readFile(h, p)
	c.json(http.StatusOK, s.contentEntry(r, p, *entry, ref, content))
}

func (s *Server) contentEntry(r *Repo, p string, e object.TreeEntry, ref string, content []byte) map[string]any {
	typ := "file"
	switch e.Mode {
	case filemode.Dir:
		typ = "dir"
	case filemode.Symlink:
		typ = "symlink"
	case filemode.Submodule:
		typ = "submodule"
	}
	m := map[string]any{
		"type": typ, "name": path.Base(p), "path": p, "sha": e.Hash.String(), "size": 0,
		"url":          s.APIURL() + fmt.Sprintf("repos/%s/contents/%s?ref=%s", r.FullName(), p, ref),
		"git_url":      s.APIURL() + fmt.Sprintf("repos/%s/git/blobs/%s", r.FullName(), e.Hash),
		"html_url":     s.URL() + fmt.Sprintf("/%s/blob/%s/%s", r.FullName(), ref, p),
		"download_url": s.URL() + fmt.Sprintf("/raw/%s/%s/%s", r.FullName(), ref, p),
		"_links":       map[string]any{},
	}
	if content != nil {
		m["size"] = len(content)
		m["encoding"] = "base64"
		m["content"] = wrapBase64(content)
	}
	return m
}

// wrapBase64 breaks lines at 60 characters, as GitHub's contents API does;
// decoders that do not skip newlines fail on real GitHub too.
func wrapBase64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	sb.WriteString(enc)
	sb.WriteByte('\n')
	return sb.String()
}

func getPermission(s *Server, c *ctx) {
	r, user := c.repo, c.vars["username"]
	perm, role := "read", "read"
	if r.Private {
		perm, role = "none", "none"
	}
	if user == r.Owner {
		perm, role = "admin", "admin"
	}
	if p, ok := r.perms[user]; ok {
		role = p
		// The legacy "permission" field folds the finer roles.
		switch p {
		case "maintain":
			perm = "write"
		case "triage":
			perm = "read"
		default:
			perm = p
		}
	}
	c.json(http.StatusOK, map[string]any{"permission": perm, "role_name": role, "user": s.userJSON(user)})
}

// --- git data ---

func (s *Server) refJSON(r *Repo, name string, h plumbing.Hash) map[string]any {
	return map[string]any{
		"ref": name, "node_id": "REF_" + h.String()[:8], "url": s.APIURL() + "repos/" + r.FullName() + "/git/" + name,
		"object": map[string]any{"type": "commit", "sha": h.String(), "url": s.APIURL() + "repos/" + r.FullName() + "/git/commits/" + h.String()},
	}
}

func getRef(s *Server, c *ctx) {
	name := "refs/" + strings.TrimPrefix(c.vars["ref"], "refs/")
	ref, err := c.repo.git.Storer.Reference(plumbing.ReferenceName(name))
	if err != nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.refJSON(c.repo, name, ref.Hash()))
}

func validRefName(name string) bool {
	parts := strings.Split(name, "/")
	if len(parts) < 3 || parts[0] != "refs" || strings.HasSuffix(name, ".lock") || strings.Contains(name, "..") {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.HasPrefix(p, ".") || strings.ContainsAny(p, " ~^:?*[\\") {
			return false
		}
	}
	return true
}

func createRef(s *Server, c *ctx) {
	var req struct{ Ref, SHA string }
	c.decode(&req)
	r := c.repo
	if !validRefName(req.Ref) {
		c.validationFailed(true, "Reference", "ref", "invalid", "Reference name is invalid: "+req.Ref)
		return
	}
	if _, err := r.git.Storer.Reference(plumbing.ReferenceName(req.Ref)); err == nil {
		c.errorJSON(http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	if _, err := r.commitObject(hashOf(req.SHA)); !isSHA(req.SHA) || err != nil {
		c.errorJSON(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	h := hashOf(req.SHA)
	if err := r.git.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(req.Ref), h)); err != nil {
		c.errorJSON(http.StatusInternalServerError, err.Error())
		return
	}
	c.json(http.StatusCreated, s.refJSON(r, req.Ref, h))
}

func updateRef(s *Server, c *ctx) {
	var req struct {
		SHA   string
		Force bool
	}
	c.decode(&req)
	r := c.repo
	name := "refs/" + strings.TrimPrefix(c.vars["ref"], "refs/")
	old, err := r.git.Storer.Reference(plumbing.ReferenceName(name))
	if err != nil {
		c.errorJSON(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	if _, err := r.commitObject(hashOf(req.SHA)); !isSHA(req.SHA) || err != nil {
		c.errorJSON(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	h := hashOf(req.SHA)
	if !req.Force && !r.isAncestor(old.Hash(), h) {
		c.errorJSON(http.StatusUnprocessableEntity, "Update is not a fast forward")
		return
	}
	_ = r.git.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h))
	s.refreshPulls(r)
	c.json(http.StatusOK, s.refJSON(r, name, h))
}

func deleteRef(s *Server, c *ctx) {
	r := c.repo
	name := plumbing.ReferenceName("refs/" + strings.TrimPrefix(c.vars["ref"], "refs/"))
	if _, err := r.git.Storer.Reference(name); err != nil {
		c.errorJSON(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	_ = r.git.Storer.RemoveReference(name)
	// GitHub closes the open pull requests whose head branch is deleted.
	for _, pr := range r.pulls {
		if pr.State == "open" && "refs/heads/"+pr.Head == string(name) {
			pr.State, pr.UpdatedAt = "closed", s.Clock.Now()
		}
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// refreshPulls moves open pull requests' head SHAs to their branches' tips.
func (s *Server) refreshPulls(r *Repo) {
	for _, pr := range r.pulls {
		if pr.State != "open" {
			continue
		}
		if pr.headRepo != nil {
			if h, err := pr.headRepo.branch(pr.Head); err == nil && h.String() != pr.HeadSHA {
				if s.syncPullRef(r, pr) == nil {
					pr.UpdatedAt = s.Clock.Now()
				}
			}
			continue
		}
		if h, err := r.branch(pr.Head); err == nil && h.String() != pr.HeadSHA {
			pr.HeadSHA, pr.UpdatedAt = h.String(), s.Clock.Now()
		}
	}
}

func (s *Server) commitJSON(r *Repo, c *object.Commit) map[string]any {
	parents := []any{}
	for _, p := range c.ParentHashes {
		parents = append(parents, map[string]any{"sha": p.String(), "url": s.APIURL() + "repos/" + r.FullName() + "/git/commits/" + p.String()})
	}
	meta := r.commits[c.Hash.String()]
	reason := meta.reason
	if reason == "" {
		reason = "unsigned"
	}
	var sig, payload any
	if meta.verified {
		sig, payload = "-----BEGIN PGP SIGNATURE-----\n(githubtest)\n-----END PGP SIGNATURE-----", "tree "+c.TreeHash.String()
	}
	return map[string]any{
		"sha": c.Hash.String(), "node_id": "C_" + c.Hash.String()[:8], "message": c.Message,
		"author": signatureJSON(c.Author), "committer": signatureJSON(c.Committer),
		"tree":     map[string]any{"sha": c.TreeHash.String(), "url": s.APIURL() + "repos/" + r.FullName() + "/git/trees/" + c.TreeHash.String()},
		"parents":  parents,
		"url":      s.APIURL() + "repos/" + r.FullName() + "/git/commits/" + c.Hash.String(),
		"html_url": s.URL() + "/" + r.FullName() + "/commit/" + c.Hash.String(),
		"verification": map[string]any{
			"verified": meta.verified, "reason": reason, "signature": sig, "payload": payload, "verified_at": nil,
		},
	}
}

func getCommit(s *Server, c *ctx) {
	sha := c.vars["commit_sha"]
	commit, err := c.repo.commitObject(hashOf(sha))
	if !isSHA(sha) || err != nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.commitJSON(c.repo, commit))
}

func getTree(s *Server, c *ctx) {
	r := c.repo
	ref := c.vars["tree_sha"]
	var tree *object.Tree
	var err error
	if isSHA(ref) {
		tree, err = object.GetTree(r.git.Storer, hashOf(ref))
	}
	if tree == nil {
		if h, ok := r.resolve(ref); ok {
			var commit *object.Commit
			if commit, err = r.commitObject(h); err == nil {
				tree, err = commit.Tree()
			}
		}
	}
	if tree == nil || err != nil {
		c.errorJSON(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.treeJSON(r, tree, c.r.URL.Query().Has("recursive")))
}

func (s *Server) treeJSON(r *Repo, tree *object.Tree, recursive bool) map[string]any {
	entries := []any{}
	var walk func(t *object.Tree, prefix string)
	walk = func(t *object.Tree, prefix string) {
		for _, e := range t.Entries {
			p := prefix + e.Name
			m := map[string]any{"path": p, "mode": fmt.Sprintf("%06o", uint32(e.Mode)), "sha": e.Hash.String()}
			switch e.Mode {
			case filemode.Dir:
				m["type"] = "tree"
			case filemode.Submodule:
				m["type"] = "commit"
			default:
				m["type"] = "blob"
				if obj, err := r.git.Storer.EncodedObject(plumbing.BlobObject, e.Hash); err == nil {
					m["size"] = obj.Size()
				}
			}
			entries = append(entries, m)
			if recursive && e.Mode == filemode.Dir {
				if sub, err := object.GetTree(r.git.Storer, e.Hash); err == nil {
					walk(sub, p+"/")
				}
			}
		}
	}
	walk(tree, "")
	return map[string]any{"sha": tree.Hash.String(), "url": s.APIURL() + "repos/" + r.FullName() + "/git/trees/" + tree.Hash.String(), "tree": entries, "truncated": false}
}

func createBlob(s *Server, c *ctx) {
	var req struct{ Content, Encoding string }
	c.decode(&req)
	data := []byte(req.Content)
	switch req.Encoding {
	case "", "utf-8":
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(req.Content); err != nil {
			c.validationFailed(true, "Blob", "content", "invalid", "content is not valid Base64")
			return
		}
	default:
		c.validationFailed(true, "Blob", "encoding", "invalid", "encoding must be utf-8 or base64, not "+strconv.Quote(req.Encoding))
		return
	}
	h, err := c.repo.writeBlob(data)
	if err != nil {
		c.errorJSON(http.StatusInternalServerError, err.Error())
		return
	}
	c.json(http.StatusCreated, map[string]any{"sha": h.String(), "url": s.APIURL() + "repos/" + c.repo.FullName() + "/git/blobs/" + h.String()})
}

func createTree(s *Server, c *ctx) {
	var req struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path, Mode, Type string
			SHA              *string
			Content          *string
		}
	}
	c.decode(&req)
	r := c.repo
	flat := map[string]leaf{}
	if req.BaseTree != "" {
		var err error
		if flat, err = r.flatten(hashOf(req.BaseTree)); !isSHA(req.BaseTree) || err != nil {
			c.validationFailed(true, "Tree", "base_tree", "invalid", "base_tree is not a valid tree: "+req.BaseTree)
			return
		}
	}
	// GitHub's rules for entries, in the words of its description:
	// exactly one of sha (null deletes) and content; a deleted path must exist.
	for i, e := range req.Tree {
		field := fmt.Sprintf("tree[%d]", i)
		if e.Path == "" || strings.HasPrefix(e.Path, "/") || strings.HasSuffix(e.Path, "/") || strings.Contains(e.Path, "//") {
			c.validationFailed(true, "Tree", field+".path", "invalid", "tree.path is invalid: "+strconv.Quote(e.Path))
			return
		}
		if e.SHA != nil && e.Content != nil {
			c.validationFailed(true, "Tree", field, "invalid", "Must supply either tree.sha or tree.content, not both")
			return
		}
		mode, err := filemode.New(e.Mode)
		if e.Mode == "" || err != nil {
			c.validationFailed(true, "Tree", field+".mode", "missing_field", "tree.mode is required")
			return
		}
		wantType := map[filemode.FileMode]string{filemode.Dir: "tree", filemode.Submodule: "commit"}[mode]
		if wantType == "" {
			wantType = "blob"
		}
		if e.Type != "" && e.Type != wantType {
			c.validationFailed(true, "Tree", field+".type", "invalid", fmt.Sprintf("tree.type %s does not match mode %s", e.Type, e.Mode))
			return
		}
		switch {
		case e.Content != nil:
			if wantType != "blob" {
				c.validationFailed(true, "Tree", field+".content", "invalid", "content is only allowed for blobs")
				return
			}
			h, err := r.writeBlob([]byte(*e.Content))
			if err != nil {
				c.errorJSON(http.StatusInternalServerError, err.Error())
				return
			}
			flat[e.Path] = leaf{mode, h}
		case e.SHA == nil:
			removed := false
			for p := range flat {
				if p == e.Path || strings.HasPrefix(p, e.Path+"/") {
					delete(flat, p)
					removed = true
				}
			}
			if !removed {
				c.validationFailed(true, "Tree", field+".path", "invalid", "GitRPC::BadObjectState: cannot delete "+e.Path+": it does not exist")
				return
			}
		default:
			h := hashOf(*e.SHA)
			if !isSHA(*e.SHA) {
				c.validationFailed(true, "Tree", field+".sha", "invalid", "tree.sha "+*e.SHA+" is not a valid "+wantType)
				return
			}
			switch wantType {
			case "tree":
				sub, err := r.flatten(h)
				if err != nil {
					c.validationFailed(true, "Tree", field+".sha", "invalid", "tree.sha "+*e.SHA+" is not a valid tree")
					return
				}
				for p := range flat {
					if strings.HasPrefix(p, e.Path+"/") {
						delete(flat, p)
					}
				}
				for p, l := range sub {
					flat[e.Path+"/"+p] = l
				}
			case "blob":
				if _, err := r.git.Storer.EncodedObject(plumbing.BlobObject, h); err != nil {
					c.validationFailed(true, "Tree", field+".sha", "invalid", "tree.sha "+*e.SHA+" is not a valid blob")
					return
				}
				flat[e.Path] = leaf{mode, h}
			default:
				flat[e.Path] = leaf{mode, h}
			}
		}
	}
	h, err := r.buildTree(flat)
	if err != nil {
		c.errorJSON(http.StatusInternalServerError, err.Error())
		return
	}
	tree, _ := object.GetTree(r.git.Storer, h)
	c.json(http.StatusCreated, s.treeJSON(r, tree, true))
}

func createCommit(s *Server, c *ctx) {
	var req struct {
		Message   string
		Tree      string
		Parents   []string
		Author    *struct{ Name, Email, Date string }
		Committer *struct{ Name, Email, Date string }
		Signature *string
	}
	c.decode(&req)
	r := c.repo
	if _, err := object.GetTree(r.git.Storer, hashOf(req.Tree)); !isSHA(req.Tree) || err != nil {
		c.validationFailed(true, "Commit", "tree", "invalid", "Tree SHA does not exist")
		return
	}
	var parents []plumbing.Hash
	for _, p := range req.Parents {
		if _, err := r.commitObject(hashOf(p)); !isSHA(p) || err != nil {
			c.validationFailed(true, "Commit", "parents", "invalid", "Parent SHA does not exist or is not a commit object")
			return
		}
		parents = append(parents, hashOf(p))
	}
	now := s.Clock.Now()
	// Without a custom author, committer or signature, GitHub writes the
	// commit as the App's bot and signs it ("Signature verification for bots").
	botID := s.userID(s.Bot())
	author := object.Signature{Name: s.Bot(), Email: fmt.Sprintf("%d+%s@users.noreply.github.com", botID, s.Bot()), When: now}
	committer := object.Signature{Name: "GitHub", Email: "noreply@github.com", When: now}
	custom := req.Author != nil || req.Committer != nil || req.Signature != nil
	sig := func(p *struct{ Name, Email, Date string }) object.Signature {
		when := now
		if t, err := time.Parse(time.RFC3339, p.Date); err == nil {
			when = t
		}
		return object.Signature{Name: p.Name, Email: p.Email, When: when}
	}
	if req.Author != nil {
		author = sig(req.Author)
		committer = author
	}
	if req.Committer != nil {
		committer = sig(req.Committer)
	}
	commit := &object.Commit{Author: author, Committer: committer, Message: req.Message, TreeHash: hashOf(req.Tree), ParentHashes: parents}
	if req.Signature != nil {
		commit.PGPSignature = *req.Signature
	}
	h, err := r.writeCommit(commit)
	if err != nil {
		c.errorJSON(http.StatusInternalServerError, err.Error())
		return
	}
	if custom {
		r.commits[h.String()] = commitMeta{reason: "unsigned"}
	} else {
		r.commits[h.String()] = commitMeta{verified: true, reason: "valid"}
	}
	stored, _ := r.commitObject(h)
	c.json(http.StatusCreated, s.commitJSON(r, stored))
}

// paginate returns one page of items and sets GitHub's Link header.
func paginate[T any](c *ctx, items []T) []T {
	q := c.r.URL.Query()
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((len(items)+perPage-1)/perPage, 1)
	link := func(p int, rel string) string {
		u := *c.r.URL
		u.Scheme, u.Host = "http", c.r.Host
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		qq.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := min((page-1)*perPage, len(items))
	end := min(start+perPage, len(items))
	out := items[start:end]
	if out == nil {
		out = []T{}
	}
	return out
}
