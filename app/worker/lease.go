package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/dockopt/dockopt/app/leases"
	"github.com/dockopt/dockopt/app/queue"
)

// DefaultBranchWait is the first wait of a job that finds its branch's
// lease held; each further wait doubles, up to maxBranchWait.
const DefaultBranchWait = time.Second

const maxBranchWait = 15 * time.Second

// branchKey names the lease of a repository's branch. GitHub's owner and
// repository names are case-insensitive, branch names are not.
func branchKey(owner, repo, branch string) string {
	return strings.ToLower(owner+"/"+repo) + ":" + branch
}

// holdBranch runs f while the job holds the lease of a repository's branch,
// so that the jobs writing dockopt's branch and pull request for one base
// branch run one at a time, whatever event queued them (a push, an
// installation, a re-run, a command, the pace job). A job that finds the
// lease held is snoozed: it comes back later without counting an attempt.
// l is nil when the worker has no lease store (unit tests).
func (w *Worker) holdBranch(ctx context.Context, owner, repo, branch string, f func(ctx context.Context, l *leases.Lease) error) error {
	return w.holdLease(ctx, branchKey(owner, repo, branch), owner+"/"+repo, f)
}

// prKey names the lease of a pull request.
func prKey(owner, repo string, number int) string {
	return strings.ToLower(owner+"/"+repo) + "#" + strconv.Itoa(number)
}

// holdLease runs f while the job holds key's lease, or snoozes the job
// while another holds it (see holdBranch).
func (w *Worker) holdLease(ctx context.Context, key, repoName string, f func(ctx context.Context, l *leases.Lease) error) error {
	if w.Leases == nil {
		return f(ctx, nil)
	}
	err := w.Leases.Hold(ctx, key, holder(ctx), f)
	var held *leases.HeldError
	if !errors.As(err, &held) {
		return err
	}
	wait := w.branchWait()
	if info, ok := queue.Info(ctx); ok {
		wait <<= min(info.Snoozes, 4)
	}
	wait = min(wait, maxBranchWait, max(time.Until(held.Until), 0)+w.branchWait())
	w.log().Info("another job is working on this; waiting for it", "repository", repoName, "lease", key, "holder", held.Holder, "for", wait.String())
	return river.JobSnooze(wait)
}

func (w *Worker) branchWait() time.Duration {
	if w.BranchWait > 0 {
		return w.BranchWait
	}
	return DefaultBranchWait
}

// holder names the job holding a lease. A retry of a job takes over the
// lease its earlier attempt left when its process died: River runs the
// retry only once that attempt is over.
func holder(ctx context.Context) string {
	if info, ok := queue.Info(ctx); ok {
		return "job " + strconv.FormatInt(info.ID, 10)
	}
	b := make([]byte, 6)
	rand.Read(b)
	return "process " + strconv.Itoa(os.Getpid()) + " " + hex.EncodeToString(b)
}

// alreadyDone reports whether a job that was not asked for by a person
// would only repeat the work of another: the last job to finish on the
// branch analyzed the same commit and started after this job was queued
// (an installation and a push arriving together both name the head).
func alreadyDone(ctx context.Context, l *leases.Lease, sha string) bool {
	info, ok := queue.Info(ctx)
	if l == nil || !ok {
		return false
	}
	last := l.Last()
	return last.What == sha && !last.Taken.Before(info.Created)
}
