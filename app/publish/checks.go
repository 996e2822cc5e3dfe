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
	"context"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
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

// Finish completes a check run: the first request carries the output and
// the first 50 annotations, each further request 50 more.
func (c *Checks) Finish(ctx context.Context, id int64, conclusion string, out templates.CheckOutput, annotations []*github.CheckRunAnnotation, actions []*github.CheckRunAction) error {
	output := &github.CheckRunOutput{Title: github.String(out.Title), Summary: github.String(out.Summary)}
	if out.Text != "" {
		output.Text = github.String(out.Text)
	}
	first := annotations
	if len(first) > AnnotationsPerRequest {
		first = first[:AnnotationsPerRequest]
	}
	output.Annotations = first
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
	for i := AnnotationsPerRequest; i < len(annotations); i += AnnotationsPerRequest {
		batch := annotations[i:min(i+AnnotationsPerRequest, len(annotations))]
		_, _, err := c.Client.Checks.UpdateCheckRun(ctx, c.Owner, c.Repo, id, github.UpdateCheckRunOptions{
			Name:   CheckName,
			Output: &github.CheckRunOutput{Title: github.String(out.Title), Summary: github.String(out.Summary), Annotations: batch},
		})
		if err != nil {
			return fmt.Errorf("adding annotations %d-%d: %w", i+1, i+len(batch), err)
		}
	}
	return nil
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

// Annotations converts findings to check-run annotations.
func Annotations(res *analyzer.Result) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for _, f := range res.Files {
		if f.Error != "" {
			level := "failure"
			if f.Template {
				level = "notice" // a template need not read as a Dockerfile
			}
			out = append(out, &github.CheckRunAnnotation{Path: github.String(f.Path), StartLine: github.Int(1), EndLine: github.Int(1),
				AnnotationLevel: github.String(level), Title: github.String("not analyzable"), Message: github.String(clip(f.Error, 64000))})
			continue
		}
		for _, fd := range f.Findings {
			// A finding that files generated from one template share is
			// annotated once, at the template.
			fd, ok := fd.Once()
			if !ok {
				continue
			}
			level := "notice"
			switch fd.Severity {
			case analyzer.SeverityError:
				level = "failure"
			case analyzer.SeverityWarning:
				level = "warning"
			}
			msg := fd.Message
			if fd.Fix != nil {
				msg += fmt.Sprintf(" (dockopt has a %s fix)", fd.Fix.Safety)
			}
			out = append(out, &github.CheckRunAnnotation{
				Path: github.String(fd.Path), StartLine: github.Int(max(fd.Line, 1)), EndLine: github.Int(max(fd.EndLine, fd.Line, 1)),
				AnnotationLevel: github.String(level), Title: github.String(fd.Rule), Message: github.String(clip(msg, 64000)),
			})
		}
	}
	return out
}

// Conclusion applies the configured policy: failure when a finding is at
// or above the threshold, neutral when there are findings below it.
func Conclusion(res *analyzer.Result, threshold analyzer.Severity) string {
	worst := analyzer.SeverityOff
	for _, f := range res.Files {
		if f.Error != "" {
			worst = analyzer.SeverityError
		}
		for _, fd := range f.Findings {
			worst = min(worst, fd.Severity)
		}
	}
	switch {
	case worst == analyzer.SeverityOff:
		return "success"
	case threshold != analyzer.SeverityOff && worst <= threshold:
		return "failure"
	}
	return "neutral"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func ptr[T any](v T) *T { return &v }
