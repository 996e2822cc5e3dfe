package sandbox

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/app/prbase"
	"github.com/dockopt/dockopt/app/review"
	"github.com/dockopt/dockopt/app/verdict"
	"github.com/dockopt/dockopt/internal/pipeline"
	"github.com/dockopt/dockopt/patcher"
	"github.com/dockopt/dockopt/patcher/build"
	"github.com/dockopt/dockopt/templates"
)

// Version is the version of Request and Result: a child of another
// version is refused rather than misread.
const Version = 1

// Request is everything an analysis of one checkout needs besides the
// checkout itself: the worker decides it, the analysis (in a child or in
// process) only follows it. It is plain data, sent to the child as JSON on
// its standard input.
type Request struct {
	Version int `json:"version"`
	// Title names the repository in the report ("acme/shop", "acme/shop#7").
	Title string `json:"title"`
	// Config is the effective configuration: the organization's defaults
	// merged with the repository's files, the waivers of `/dockopt ignore`
	// added, its rules already checked against the catalog. The analysis
	// uses it as it is and reads no configuration of its own.
	Config *analyzer.Config `json:"config"`
	// Discover only lists the Dockerfiles (Result.Targets): whether a pull
	// request touches any of them is decided before a check run starts.
	Discover bool `json:"discover,omitempty"`
	// ReportURL and ReportPath are where the full report is read and
	// committed when the pull-request body cannot hold it.
	ReportURL  string `json:"report_url,omitempty"`
	ReportPath string `json:"report_path,omitempty"`
	// Push, when set, judges the findings of a branch head against the
	// commit of that branch analyzed before it.
	Push *verdict.Baseline `json:"push,omitempty"`
	// PullRequest, when set, judges a pull request's head against its
	// base rebuilt from the head and the pull request's diff, and builds
	// the review comments on the lines it changes.
	PullRequest *PullRequest `json:"pull_request,omitempty"`
	// BuildKitAddr, when set, is the builder of the original and optimized
	// images; BuildTimeout bounds each build.
	BuildKitAddr string        `json:"buildkit_addr,omitempty"`
	BuildTimeout time.Duration `json:"build_timeout,omitempty"`
}

// PullRequest is what judging and reviewing a pull request need of it.
type PullRequest struct {
	Number  int             `json:"number"`
	BaseRef string          `json:"base_ref"`
	Changes []prbase.Change `json:"changes"`
	Diff    review.Diff     `json:"diff"`
}

// Result is everything the worker publishes of one analysis: the text
// people read is rendered here, where the model of the Dockerfiles lives,
// so that the worker never holds (or parses) the repository's content.
// It is plain data with no cycles, sent back as one JSON document.
type Result struct {
	Version int `json:"version"`
	// Targets are the Dockerfiles found (Request.Discover).
	Targets []analyzer.Target `json:"targets,omitempty"`
	// Dockerfiles and Findings count what was analyzed, for the logs.
	Dockerfiles int `json:"dockerfiles"`
	Findings    int `json:"findings"`
	// Priority orders waiting pull requests: the fixable findings,
	// weighted by severity.
	Priority int `json:"priority"`
	// Changes are the files the fixes write, sorted by path.
	Changes []Change `json:"changes,omitempty"`
	// Title and Commit are the pull request's title and commit message.
	Title  string `json:"title,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Body is the pull request's body; Truncated says it points to the
	// full Report, which must then be committed at Request.ReportPath.
	Body      string `json:"body,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	Report    string `json:"report,omitempty"`
	// Check is the check run, when the request asked for a verdict.
	Check *Check `json:"check,omitempty"`
	// Fingerprints are the findings as a later push is judged against them.
	Fingerprints []string `json:"fingerprints,omitempty"`
	// Review holds the comments for the lines a pull request changes.
	Review *Review `json:"review,omitempty"`

	// Elapsed and PeakRSSKiB are measured by the parent of a child.
	Elapsed    time.Duration `json:"-"`
	PeakRSSKiB int64         `json:"-"`
	// MemoryLimit says what bounded the child's memory (cgroup.go).
	MemoryLimit string `json:"-"`
}

// Change is one file to create or modify.
type Change struct {
	Path    string `json:"path"`
	Content []byte `json:"content"`
}

// Check is a check run's conclusion and output.
type Check struct {
	Conclusion  string                       `json:"conclusion"`
	Output      templates.CheckOutput        `json:"output"`
	Annotations []*github.CheckRunAnnotation `json:"annotations,omitempty"`
}

// Review is what a pull request's review says.
type Review struct {
	Comments []review.Comment `json:"comments,omitempty"`
	// Elsewhere counts the findings outside the lines the diff shows.
	Elsewhere int `json:"elsewhere"`
}

// Analyze analyzes, patches and (with a builder) builds the folder dir,
// read through fsys, as req says, and renders what the worker publishes.
// It runs in the child (Main) and, when the worker has no sandbox, in
// process: the two cannot differ.
func Analyze(ctx context.Context, dir string, fsys fs.FS, req *Request) (*Result, error) {
	if req.Version != Version {
		return nil, fmt.Errorf("request version %d, want %d", req.Version, Version)
	}
	cfg := req.Config
	if cfg == nil {
		cfg = analyzer.DefaultConfig()
	}
	a := analyzer.New(rules.All())
	if req.Discover {
		targets, err := analyzer.Discover(ctx, fsys, ".", cfg)
		if err != nil {
			return nil, fmt.Errorf("finding Dockerfiles: %w", err)
		}
		return &Result{Version: Version, Targets: targets}, nil
	}
	opts := pipeline.FixOptions(cfg)
	pr := pipeline.Request{Analyzer: a, FS: fsys, Dir: dir, Config: cfg, Fix: &opts, Title: req.Title}
	if req.BuildKitAddr != "" {
		pr.Builder = &build.Builder{Addr: req.BuildKitAddr, Timeout: req.BuildTimeout}
	}
	out, err := pipeline.Run(ctx, pr)
	if err != nil {
		return nil, fmt.Errorf("analyzing: %w", err)
	}
	out.Report.Waived = cfg.Ignore
	res := &Result{Version: Version, Dockerfiles: len(out.Result.Files), Priority: priority(out.Result),
		Title: prTitle(out.Patch), Commit: commitMessage(out.Patch)}
	for _, f := range out.Result.Files {
		res.Findings += len(f.Findings)
	}
	for _, c := range out.Patch.Changes {
		res.Changes = append(res.Changes, Change{Path: c.Path, Content: c.Content})
	}
	var judged *verdict.Judgement
	switch {
	case req.Push != nil:
		j := verdict.Judge(out.Result, *req.Push, verdict.Push, cfg)
		judged = &j
		res.Fingerprints = verdict.Fingerprints(out.Result, nil)
	case req.PullRequest != nil:
		p := req.PullRequest
		base := prbase.Rebuild(fsys, p.Changes)
		baseRes, err := a.Analyze(ctx, base, ".", cfg)
		if err != nil {
			return nil, fmt.Errorf("analyzing the base of #%d: %w", p.Number, err)
		}
		j := verdict.Judge(out.Result, verdict.Baseline{Known: true, Fingerprints: verdict.Fingerprints(baseRes, base.Renamed),
			Against: "its base branch `" + p.BaseRef + "` where it branched off", Unknown: base.Unknown}, verdict.PullRequest, cfg)
		judged = &j
		comments, elsewhere := review.Build(out.Result, p.Diff, cfg.Fixes.Apply)
		res.Review = &Review{Comments: comments, Elsewhere: elsewhere}
	}
	if judged != nil {
		annotations, left := judged.Annotations()
		out.Report.Judged = judged.Summary(cfg.Warnings, left)
		checkOut, err := templates.CheckRun(out.Report)
		if err != nil {
			return nil, err
		}
		res.Check = &Check{Conclusion: judged.Conclusion, Output: checkOut, Annotations: annotations}
	}
	in := out.Report
	in.ReportURL = req.ReportURL
	if res.Body, res.Truncated, err = templates.PullRequestBody(in, req.ReportPath); err != nil {
		return nil, err
	}
	if res.Truncated {
		if res.Report, err = templates.Report(in); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// priority ranks a repository in the line of waiting pull requests: the
// findings its pull request would fix, errors far above warnings far
// above the rest.
func priority(res *analyzer.Result) int {
	n := 0
	for _, f := range res.Files {
		for _, fd := range f.Findings {
			if fd.Fix == nil {
				continue
			}
			switch fd.Severity {
			case analyzer.SeverityError:
				n += 100
			case analyzer.SeverityWarning:
				n += 10
			default:
				n++
			}
		}
	}
	return n
}

func prTitle(p *patcher.Result) string {
	n := 0
	for _, f := range p.Files {
		if f.Changed() {
			n++
		}
	}
	if n == 1 {
		for _, f := range p.Files {
			if f.Changed() {
				return "Optimize " + f.Path + " for production"
			}
		}
	}
	return fmt.Sprintf("Optimize %d Dockerfiles for production", n)
}

func commitMessage(p *patcher.Result) string {
	var b strings.Builder
	b.WriteString(prTitle(p) + "\n\n")
	for _, f := range p.Files {
		if !f.Changed() {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", f.Path)
		for _, a := range f.Applied {
			fmt.Fprintf(&b, "- %s (%s)\n", a.Message, a.Rule)
		}
	}
	return b.String()
}
