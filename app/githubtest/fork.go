package githubtest

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// Fork copies r into owner's account, as GitHub's "Fork" button does. The
// fork is public and belongs to no installation of the App: the App may
// read it (clone), as it may read any public repository, but not write.
func (s *Server) Fork(r *Repo, owner string) *Repo {
	s.t.Helper()
	dir := filepath.Join(s.gitRoot, strings.ToLower(owner), strings.ToLower(r.Name)+".git")
	g, err := git.PlainClone(dir, true, &git.CloneOptions{URL: r.dir, Tags: git.NoTags})
	if err != nil {
		s.t.Fatalf("githubtest: fork %s: %v", r.FullName(), err)
	}
	// A bare clone keeps the source's branches as remote refs; a fork has
	// them as its own branches.
	refs, _ := g.References()
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		if ref.Name().IsRemote() && ref.Type() == plumbing.HashReference {
			short := strings.TrimPrefix(ref.Name().Short(), "origin/")
			return g.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(short), ref.Hash()))
		}
		return nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	fork := &Repo{
		ID: s.newID(), Owner: owner, Name: r.Name, DefaultBranch: r.DefaultBranch,
		dir: dir, git: g, perms: map[string]string{}, commits: map[string]commitMeta{}, forkOf: r,
	}
	s.repos[strings.ToLower(fork.FullName())] = fork
	s.userID(owner)
	return fork
}

// OpenForkPullRequest opens a pull request on base from a branch of fork,
// as a contributor without write access does. GitHub keeps the head's
// commits in the base repository under refs/pull/N/head; so does the fake.
func (s *Server) OpenForkPullRequest(base, fork *Repo, head, baseBranch, title, author string) *PullRequest {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := fork.branch(head)
	if err != nil {
		s.t.Fatalf("githubtest: no branch %s in %s", head, fork.FullName())
	}
	pr := s.newPull(base, title, "", head, baseBranch, h, author)
	pr.headRepo = fork
	if err := s.syncPullRef(base, pr); err != nil {
		s.t.Fatalf("githubtest: %v", err)
	}
	cp := *pr
	return &cp
}

// syncPullRef copies a fork pull request's head commits into the base
// repository and points refs/pull/N/head at them.
func (s *Server) syncPullRef(base *Repo, pr *PullRequest) error {
	ref := "refs/pull/" + strconv.Itoa(pr.Number) + "/head"
	remote := git.NewRemote(base.git.Storer, &gitconfig.RemoteConfig{Name: "fork", URLs: []string{pr.headRepo.dir}})
	err := remote.Fetch(&git.FetchOptions{
		RefSpecs: []gitconfig.RefSpec{gitconfig.RefSpec("+refs/heads/" + pr.Head + ":" + ref)},
		Tags:     git.NoTags,
		Force:    true,
	})
	if err != nil && err != git.NoErrAlreadyUpToDate {
		return err
	}
	h, err := pr.headRepo.branch(pr.Head)
	if err != nil {
		return err
	}
	pr.HeadSHA = h.String()
	return nil
}
