package githubtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Installation is the App installed on one account.
type Installation struct {
	ID      int64
	Account string
	repos   []*Repo
}

// Repo is a repository with a real bare git repository on disk.
type Repo struct {
	ID            int64
	Owner, Name   string
	DefaultBranch string
	Private       bool

	inst *Installation
	dir  string
	git  *git.Repository
	// forkOf is the repository this one was forked from.
	forkOf *Repo

	nextNumber     int
	pulls          []*PullRequest
	checkRuns      []*CheckRun
	issueComments  []*IssueComment
	reviews        []*Review
	reviewComments []*ReviewComment
	perms          map[string]string
	commits        map[string]commitMeta
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

type commitMeta struct {
	verified bool
	reason   string
}

// AddInstallation installs the App on an account (an organization).
func (s *Server) AddInstallation(account string) *Installation {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := &Installation{ID: s.newID(), Account: account}
	s.installations[inst.ID] = inst
	s.userID(account)
	return inst
}

// AddRepo creates a repository of the installation's account whose
// default branch main holds files in one commit by the account.
func (s *Server) AddRepo(inst *Installation, owner, name string, files map[string]string) *Repo {
	s.t.Helper()
	dir := filepath.Join(s.gitRoot, strings.ToLower(owner), strings.ToLower(name)+".git")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		s.t.Fatalf("githubtest: %v", err)
	}
	g, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		s.t.Fatalf("githubtest: init %s: %v", dir, err)
	}
	s.mu.Lock()
	repo := &Repo{
		ID: s.newID(), Owner: owner, Name: name, DefaultBranch: "main",
		inst: inst, dir: dir, git: g, perms: map[string]string{}, commits: map[string]commitMeta{},
	}
	key := strings.ToLower(repo.FullName())
	if s.repos[key] != nil {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: repository %s exists", repo.FullName())
	}
	s.repos[key] = repo
	inst.repos = append(inst.repos, repo)
	s.userID(owner)
	s.mu.Unlock()
	s.Push(repo, "main", files, "Initial commit", owner)
	return repo
}

// Push makes a commit on branch as a person would with git push: files
// maps paths to new content, a nil-valued... (Go maps cannot hold nil
// strings, so) DeletePath marks a deletion. The branch is created from the
// default branch if missing. It returns the new commit's SHA.
func (s *Server) Push(repo *Repo, branch string, files map[string]string, message, author string) string {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := repo.git.Storer
	var parents []plumbing.Hash
	flat := map[string]leaf{}
	tip, err := repo.branch(branch)
	if err != nil {
		tip, _ = repo.branch(repo.DefaultBranch)
	}
	if !tip.IsZero() {
		parents = []plumbing.Hash{tip}
		c, err := object.GetCommit(st, tip)
		if err != nil {
			s.t.Fatalf("githubtest: %v", err)
		}
		if flat, err = repo.flatten(c.TreeHash); err != nil {
			s.t.Fatalf("githubtest: %v", err)
		}
	}
	for _, p := range sortedKeys(files) {
		content := files[p]
		if content == DeletePath {
			delete(flat, p)
			continue
		}
		mode := filemode.Regular
		if old, ok := flat[p]; ok {
			mode = old.mode
		}
		if target, ok := strings.CutPrefix(content, symlinkMark); ok {
			content, mode = target, filemode.Symlink
		}
		h, err := repo.writeBlob([]byte(content))
		if err != nil {
			s.t.Fatalf("githubtest: %v", err)
		}
		flat[p] = leaf{mode, h}
	}
	treeHash, err := repo.buildTree(flat)
	if err != nil {
		s.t.Fatalf("githubtest: %v", err)
	}
	sig := object.Signature{Name: author, Email: author + "@users.noreply.github.com", When: s.Clock.Now()}
	h, err := repo.writeCommit(&object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: treeHash, ParentHashes: parents})
	if err != nil {
		s.t.Fatalf("githubtest: %v", err)
	}
	repo.commits[h.String()] = commitMeta{reason: "unsigned"}
	if err := repo.setBranch(branch, h); err != nil {
		s.t.Fatalf("githubtest: %v", err)
	}
	return h.String()
}

// DeletePath as a value in Push's files deletes the path.
const DeletePath = "\x00githubtest:delete\x00"

const symlinkMark = "\x00githubtest:symlink\x00"

// Symlink as a value in Push's files makes the path a symbolic link
// (mode 120000) to target.
func Symlink(target string) string { return symlinkMark + target }

// leaf is a non-tree entry of a flattened tree.
type leaf struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

func (r *Repo) branch(name string) (plumbing.Hash, error) {
	ref, err := r.git.Storer.Reference(plumbing.NewBranchReferenceName(name))
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return ref.Hash(), nil
}

func (r *Repo) setBranch(name string, h plumbing.Hash) error {
	return r.git.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), h))
}

// resolve turns a SHA, a branch or tag name, or "heads/x"/"refs/heads/x"
// into a commit hash.
func (r *Repo) resolve(ref string) (plumbing.Hash, bool) {
	if isSHA(ref) {
		h := plumbing.NewHash(ref)
		if _, err := object.GetCommit(r.git.Storer, h); err == nil {
			return h, true
		}
		return plumbing.ZeroHash, false
	}
	ref = strings.TrimPrefix(ref, "refs/")
	for _, name := range []string{"refs/" + ref, "refs/heads/" + ref, "refs/tags/" + ref} {
		if rf, err := r.git.Storer.Reference(plumbing.ReferenceName(name)); err == nil {
			return rf.Hash(), true
		}
	}
	return plumbing.ZeroHash, false
}

func (r *Repo) writeObject(t plumbing.ObjectType, data []byte) (plumbing.Hash, error) {
	obj := r.git.Storer.NewEncodedObject()
	obj.SetType(t)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.git.Storer.SetEncodedObject(obj)
}

func (r *Repo) writeBlob(content []byte) (plumbing.Hash, error) {
	return r.writeObject(plumbing.BlobObject, content)
}

func (r *Repo) writeCommit(c *object.Commit) (plumbing.Hash, error) {
	obj := r.git.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.git.Storer.SetEncodedObject(obj)
}

// flatten lists every non-tree entry under a tree by full path.
func (r *Repo) flatten(tree plumbing.Hash) (map[string]leaf, error) {
	out := map[string]leaf{}
	var walk func(h plumbing.Hash, prefix string) error
	walk = func(h plumbing.Hash, prefix string) error {
		t, err := object.GetTree(r.git.Storer, h)
		if err != nil {
			return err
		}
		for _, e := range t.Entries {
			if e.Mode == filemode.Dir {
				if err := walk(e.Hash, prefix+e.Name+"/"); err != nil {
					return err
				}
				continue
			}
			out[prefix+e.Name] = leaf{e.Mode, e.Hash}
		}
		return nil
	}
	return out, walk(tree, "")
}

// buildTree writes the nested trees for a flat path → entry map and
// returns the root tree's hash.
func (r *Repo) buildTree(flat map[string]leaf) (plumbing.Hash, error) {
	files := map[string]leaf{}
	dirs := map[string]map[string]leaf{}
	for p, l := range flat {
		dir, rest, nested := strings.Cut(p, "/")
		if !nested {
			files[p] = l
			continue
		}
		if dirs[dir] == nil {
			dirs[dir] = map[string]leaf{}
		}
		dirs[dir][rest] = l
	}
	t := &object.Tree{}
	for name, l := range files {
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: l.mode, Hash: l.hash})
	}
	for name, sub := range dirs {
		h, err := r.buildTree(sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	// Git orders a tree's entries as if directory names ended in "/".
	sortKey := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return sortKey(t.Entries[i]) < sortKey(t.Entries[j]) })
	obj := r.git.Storer.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.git.Storer.SetEncodedObject(obj)
}

func (r *Repo) commitObject(h plumbing.Hash) (*object.Commit, error) {
	return object.GetCommit(r.git.Storer, h)
}

// readFile returns a file's content at a commit.
func (r *Repo) readFile(commit plumbing.Hash, path string) ([]byte, bool) {
	c, err := r.commitObject(commit)
	if err != nil {
		return nil, false
	}
	f, err := c.File(path)
	if err != nil {
		return nil, false
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, false
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	return b, err == nil
}

// isAncestor reports whether a is b or an ancestor of b.
func (r *Repo) isAncestor(a, b plumbing.Hash) bool {
	if a == b {
		return true
	}
	ca, err1 := r.commitObject(a)
	cb, err2 := r.commitObject(b)
	if err1 != nil || err2 != nil {
		return false
	}
	ok, err := ca.IsAncestor(cb)
	return err == nil && ok
}

func (r *Repo) mergeBase(a, b plumbing.Hash) (plumbing.Hash, bool) {
	ca, err1 := r.commitObject(a)
	cb, err2 := r.commitObject(b)
	if err1 != nil || err2 != nil {
		return plumbing.ZeroHash, false
	}
	bases, err := ca.MergeBase(cb)
	if err != nil || len(bases) == 0 {
		return plumbing.ZeroHash, false
	}
	return bases[0].Hash, true
}

// fileDiff is one file of a pull request's diff, as pulls/list-files shows
// it and as review comments are checked against.
type fileDiff struct {
	Filename, PreviousFilename, Status string
	SHA                                string
	Additions, Deletions               int
	Patch                              string
	right, left                        map[int]bool // commentable lines per side
	positions                          int          // lines below the first @@
}

// diff computes the three-dot diff GitHub shows for a pull request:
// from the merge base of base and head to head.
func (r *Repo) diff(base, head plumbing.Hash) ([]*fileDiff, error) {
	mb, ok := r.mergeBase(base, head)
	if !ok {
		return nil, fmt.Errorf("no common history")
	}
	from, err := r.commitObject(mb)
	if err != nil {
		return nil, err
	}
	to, err := r.commitObject(head)
	if err != nil {
		return nil, err
	}
	ft, err := from.Tree()
	if err != nil {
		return nil, err
	}
	tt, err := to.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(context.Background(), ft, tt, object.DefaultDiffTreeOptions)
	if err != nil {
		return nil, err
	}
	var out []*fileDiff
	for _, ch := range changes {
		p, err := ch.Patch()
		if err != nil {
			return nil, err
		}
		for _, fp := range p.FilePatches() {
			out = append(out, describe(ch, fp))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Filename < out[j].Filename })
	return out, nil
}

type onePatch struct{ fp fdiff.FilePatch }

func (p onePatch) FilePatches() []fdiff.FilePatch { return []fdiff.FilePatch{p.fp} }
func (p onePatch) Message() string                { return "" }

func describe(ch *object.Change, fp fdiff.FilePatch) *fileDiff {
	d := &fileDiff{right: map[int]bool{}, left: map[int]bool{}}
	from, to := ch.From, ch.To
	switch {
	case from.Name == "":
		d.Status, d.Filename, d.SHA = "added", to.Name, to.TreeEntry.Hash.String()
	case to.Name == "":
		d.Status, d.Filename, d.SHA = "removed", from.Name, from.TreeEntry.Hash.String()
	case from.Name != to.Name:
		d.Status, d.Filename, d.PreviousFilename, d.SHA = "renamed", to.Name, from.Name, to.TreeEntry.Hash.String()
	default:
		d.Status, d.Filename, d.SHA = "modified", to.Name, to.TreeEntry.Hash.String()
	}
	if fp.IsBinary() {
		return d
	}
	var buf bytes.Buffer
	_ = fdiff.NewUnifiedEncoder(&buf, fdiff.DefaultContextLines).Encode(onePatch{fp})
	text := buf.String()
	// GitHub's "patch" starts at the first hunk; the git headers are not in it.
	if i := strings.Index(text, "\n@@"); i >= 0 {
		text = text[i+1:]
	} else if !strings.HasPrefix(text, "@@") {
		text = ""
	}
	d.Patch = strings.TrimSuffix(text, "\n")
	d.indexLines()
	return d
}

// indexLines records which lines of each side a review comment may target
// and counts diff positions.
func (d *fileDiff) indexLines() {
	var left, right int
	for i, line := range strings.Split(d.Patch, "\n") {
		if strings.HasPrefix(line, "@@") {
			if i > 0 {
				d.positions++
			}
			left, right = hunkStarts(line)
			continue
		}
		if line == "" && i == 0 {
			continue
		}
		d.positions++
		switch {
		case strings.HasPrefix(line, "+"):
			d.right[right] = true
			right++
			d.Additions++
		case strings.HasPrefix(line, "-"):
			d.left[left] = true
			left++
			d.Deletions++
		case strings.HasPrefix(line, "\\"): // "\ No newline at end of file"
		default:
			d.right[right], d.left[left] = true, true
			left++
			right++
		}
	}
}

// hunkStarts parses "@@ -a,b +c,d @@".
func hunkStarts(h string) (left, right int) {
	f := strings.Fields(h)
	if len(f) < 3 {
		return 0, 0
	}
	num := func(s string) int {
		s = strings.TrimLeft(s, "+-")
		s, _, _ = strings.Cut(s, ",")
		n, _ := strconv.Atoi(s)
		return n
	}
	return num(f[1]), num(f[2])
}

// branches maps branch names to their tips.
func (r *Repo) branches() map[string]plumbing.Hash {
	out := map[string]plumbing.Hash{}
	iter, err := r.git.Storer.IterReferences()
	if err != nil {
		return out
	}
	_ = iter.ForEach(func(ref *plumbing.Reference) error {
		if ref.Name().IsBranch() && ref.Type() == plumbing.HashReference {
			out[ref.Name().Short()] = ref.Hash()
		}
		return nil
	})
	return out
}

func signatureJSON(sig object.Signature) map[string]any {
	return map[string]any{"name": sig.Name, "email": sig.Email, "date": sig.When.UTC().Format(time.RFC3339)}
}
