// Package publish makes every write dockopt does on GitHub: check runs
// with their annotations (Checks), one bot branch and pull request per
// base branch and the notices on it (Branches), review suggestions on
// people's pull requests (Reviews), and reactions and answers to comment
// commands (Replies). Each works on one repository through an
// installation's go-github client and keeps to GitHub's limits. The
// worker decides what to publish and sees these through small interfaces
// of its own.
package publish

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/templates"
)

// GitHub's limits (platform-facts 3.1).
const (
	// AnnotationsPerRequest is the most annotations one check-run request
	// may carry; more are appended by further updates.
	AnnotationsPerRequest = 50
	// CheckName is the check run's name, stable so re-runs replace it.
	CheckName = "dockopt"
)

// Checks publishes check runs.
type Checks struct {
	Client *github.Client
	Owner  string
	Repo   string
	Now    func() time.Time
}

func (c *Checks) now() github.Timestamp {
	if c.Now != nil {
		return github.Timestamp{Time: c.Now()}
	}
	return github.Timestamp{Time: time.Now()}
}

// Start creates an in-progress check run on a commit.
func (c *Checks) Start(ctx context.Context, sha string) (int64, error) {
	run, _, err := c.Client.Checks.CreateCheckRun(ctx, c.Owner, c.Repo, github.CreateCheckRunOptions{
		Name:      CheckName,
		HeadSHA:   sha,
		Status:    github.String("in_progress"),
		StartedAt: ptr(c.now()),
	})
	if err != nil {
		return 0, fmt.Errorf("creating the check run: %w", err)
	}
	return run.GetID(), nil
}

// Unfinished lists the IDs of dockopt's check runs on sha that are not
// completed, newest first.
func (c *Checks) Unfinished(ctx context.Context, sha string) ([]int64, error) {
	runs, _, err := c.Client.Checks.ListCheckRunsForRef(ctx, c.Owner, c.Repo, sha, &github.ListCheckRunsOptions{CheckName: github.String(CheckName), Filter: github.String("all"),
		ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		return nil, fmt.Errorf("reading the check runs of %s: %w", sha, err)
	}
	var ids []int64
	for _, r := range runs.CheckRuns {
		if r.GetStatus() != "completed" {
			ids = append(ids, r.GetID())
		}
	}
	slices.SortFunc(ids, func(a, b int64) int { return cmp.Compare(b, a) })
	return ids, nil
}

// Finish completes a check run. Annotations go 50 a request (GitHub's
// most) while the run stays in progress; the last request carries the
// last batch, the output and the conclusion. So a job that dies midway
// leaves its run in progress, for its retry to reuse (app/worker), never
// completed with part of its annotations; and the retry sends only those
// the run does not carry yet: GitHub appends annotations, it never
// replaces them, and one commit's analysis gives the same ones in the
// same order.
func (c *Checks) Finish(ctx context.Context, id int64, conclusion string, out templates.CheckOutput, annotations []*github.CheckRunAnnotation, actions []*github.CheckRunAction) error {
	rest := annotations
	if len(rest) > AnnotationsPerRequest {
		written, err := c.annotationCount(ctx, id)
		if err != nil {
			return err
		}
		rest = rest[min(written, len(rest)):]
	}
	for len(rest) > AnnotationsPerRequest {
		batch := rest[:AnnotationsPerRequest]
		done := len(annotations) - len(rest)
		_, _, err := c.Client.Checks.UpdateCheckRun(ctx, c.Owner, c.Repo, id, github.UpdateCheckRunOptions{
			Name:   CheckName,
			Output: &github.CheckRunOutput{Title: github.String(out.Title), Summary: github.String(out.Summary), Annotations: batch},
		})
		if err != nil {
			return fmt.Errorf("adding annotations %d-%d: %w", done+1, done+len(batch), err)
		}
		rest = rest[AnnotationsPerRequest:]
	}
	output := &github.CheckRunOutput{Title: github.String(out.Title), Summary: github.String(out.Summary), Annotations: rest}
	if out.Text != "" {
		output.Text = github.String(out.Text)
	}
	_, _, err := c.Client.Checks.UpdateCheckRun(ctx, c.Owner, c.Repo, id, github.UpdateCheckRunOptions{
		Name:        CheckName,
		Status:      github.String("completed"),
		Conclusion:  github.String(conclusion),
		CompletedAt: ptr(c.now()),
		Output:      output,
		Actions:     actions,
	})
	if err != nil {
		return fmt.Errorf("completing the check run: %w", err)
	}
	return nil
}

// annotationCount counts the annotations a check run carries.
func (c *Checks) annotationCount(ctx context.Context, id int64) (int, error) {
	opts := &github.ListOptions{PerPage: 100}
	n := 0
	for {
		page, resp, err := c.Client.Checks.ListCheckRunAnnotations(ctx, c.Owner, c.Repo, id, opts)
		if err != nil {
			return 0, fmt.Errorf("reading the check run's annotations: %w", err)
		}
		n += len(page)
		if resp.NextPage == 0 {
			return n, nil
		}
		opts.Page = resp.NextPage
	}
}

// Fail completes a check run with a message a person can act on.
func (c *Checks) Fail(ctx context.Context, id int64, conclusion, title, summary string) error {
	_, _, err := c.Client.Checks.UpdateCheckRun(ctx, c.Owner, c.Repo, id, github.UpdateCheckRunOptions{
		Name:        CheckName,
		Status:      github.String("completed"),
		Conclusion:  github.String(conclusion),
		CompletedAt: ptr(c.now()),
		Output:      &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary)},
	})
	return err
}

// Amend replaces, in the summary of a completed check run on sha, the
// paragraph that ends with marker by text (which should end with the same
// marker, to be amended again), keeping its conclusion, title, text and
// annotations. A run no longer found is left alone.
func (c *Checks) Amend(ctx context.Context, sha string, id int64, marker, text string) error {
	r, err := c.findRun(ctx, sha, id)
	if err != nil || r == nil {
		return err
	}
	summary := r.GetOutput().GetSummary()
	end := strings.Index(summary, marker)
	if end < 0 {
		summary = strings.TrimRight(summary, "\n") + "\n\n" + text + "\n"
	} else {
		start := 0
		if i := strings.LastIndex(summary[:end], "\n\n"); i >= 0 {
			start = i + 2
		}
		summary = summary[:start] + text + summary[end+len(marker):]
	}
	_, _, err = c.Client.Checks.UpdateCheckRun(ctx, c.Owner, c.Repo, id, github.UpdateCheckRunOptions{
		Name:   CheckName,
		Output: &github.CheckRunOutput{Title: github.String(r.GetOutput().GetTitle()), Summary: github.String(summary)},
	})
	if err != nil {
		return fmt.Errorf("amending the check run: %w", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// findRun returns dockopt's check run id on sha, reading every page of
// them (re-runs add one each), or nil when it is no longer there.
func (c *Checks) findRun(ctx context.Context, sha string, id int64) (*github.CheckRun, error) {
	opts := &github.ListCheckRunsOptions{CheckName: github.String(CheckName), Filter: github.String("all"),
		ListOptions: github.ListOptions{PerPage: 100}}
	for {
		runs, resp, err := c.Client.Checks.ListCheckRunsForRef(ctx, c.Owner, c.Repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("reading the check runs of %s: %w", sha, err)
		}
		for _, r := range runs.CheckRuns {
			if r.GetID() == id {
				return r, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}
