// Package clone fetches exactly one commit of a repository into a
// temporary folder with go-git, within size and time limits, and never
// lets the installation token reach a log line or an error message.
package clone

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/dockopt/dockopt/internal/rootfs"
)

// Limits bound one clone.
type Limits struct {
	// MaxBytes bounds the checked-out files (default 512 MiB).
	MaxBytes int64
	// Timeout bounds the fetch (default 2 minutes).
	Timeout time.Duration
}

// ErrTooLarge is returned when a repository exceeds MaxBytes.
var ErrTooLarge = errors.New("repository is larger than dockopt's limit")

// Checkout is a cloned commit on disk; Close removes it.
type Checkout struct {
	Dir string
	SHA string
	// TreeSHA is the commit's root tree, the base for Git Data API commits.
	TreeSHA string
	// Root confines reads to Dir: symbolic links are kept as the
	// repository has them, and followed only while they stay inside.
	Root *os.Root
	fsys rootfs.FS
}

// FS reads the checkout through Root.
func (c *Checkout) FS() fs.FS { return c.fsys }

// Close removes the checkout.
func (c *Checkout) Close() error {
	c.fsys.Close()
	if c.Root != nil {
		c.Root.Close()
	}
	return os.RemoveAll(c.Dir)
}

// Request says what to clone.
type Request struct {
	URL    string
	Token  string
	Branch string
	// SHA is the commit wanted; when the branch has moved on, the newer
	// head is checked out (only the newest commit matters) and reported.
	SHA string
}

// Clone fetches the branch head at depth 1 into a new temporary folder.
func Clone(ctx context.Context, req Request, lim Limits) (*Checkout, error) {
	if lim.MaxBytes == 0 {
		lim.MaxBytes = 512 << 20
	}
	if lim.Timeout == 0 {
		lim.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "dockopt-clone-")
	if err != nil {
		return nil, err
	}
	co := &Checkout{Dir: dir}
	opts := &git.CloneOptions{
		URL:           req.URL,
		Auth:          &http.BasicAuth{Username: "x-access-token", Password: req.Token},
		ReferenceName: plumbing.NewBranchReferenceName(req.Branch),
		SingleBranch:  true,
		Depth:         1,
		Tags:          git.NoTags,
		NoCheckout:    true,
	}
	repo, err := git.PlainCloneContext(ctx, dir, false, opts)
	if err != nil {
		co.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("clone timed out after %s", lim.Timeout)
		}
		return nil, fmt.Errorf("clone: %s", redact(err.Error(), req.Token))
	}
	head, err := repo.Head()
	if err != nil {
		co.Close()
		return nil, fmt.Errorf("clone: %s", redact(err.Error(), req.Token))
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		co.Close()
		return nil, fmt.Errorf("clone: %v", err)
	}
	tree, err := commit.Tree()
	if err != nil {
		co.Close()
		return nil, fmt.Errorf("clone: %v", err)
	}
	var total int64
	walker := tree.Files()
	for {
		f, err := walker.Next()
		if err != nil {
			break
		}
		total += f.Size
		if total > lim.MaxBytes {
			co.Close()
			return nil, fmt.Errorf("%w (%d MiB): files at %s add up to more", ErrTooLarge, lim.MaxBytes>>20, short(head.Hash().String()))
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		co.Close()
		return nil, err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: head.Hash(), Force: true}); err != nil {
		co.Close()
		return nil, fmt.Errorf("checkout: %v", err)
	}
	co.SHA = head.Hash().String()
	co.TreeSHA = tree.Hash.String()
	// Symlinks in a hostile repository could point anywhere on this
	// machine: they stay (a link is part of the repository, and deleting
	// it made a linked .dockerignore look missing), and every read goes
	// through the checkout's os.Root, which refuses the ones leading out.
	if co.Root, err = os.OpenRoot(dir); err != nil {
		co.Close()
		return nil, err
	}
	co.fsys = rootfs.New(co.Root)
	return co, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// redact removes a token from text; go-git errors can echo the URL.
func redact(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, "[token]")
	}
	return s
}
