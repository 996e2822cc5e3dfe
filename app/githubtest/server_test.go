package githubtest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/githubtest"
)

var ctx = context.Background()

const dockerfile = "FROM alpine:3.20\nRUN apk add curl\nCOPY . /app\nCMD [\"/app/run\"]\n"

type fixture struct {
	s      *githubtest.Server
	inst   *githubtest.Installation
	repo   *githubtest.Repo
	client *github.Client
	itr    *ghinstallation.Transport
}

// setup wires the real go-github client through ghinstallation to the fake,
// as the app does.
func setup(t *testing.T, opts ...githubtest.Option) *fixture {
	t.Helper()
	s := githubtest.NewServer(t, opts...)
	inst := s.AddInstallation("acme")
	repo := s.AddRepo(inst, "acme", "web", map[string]string{"Dockerfile": dockerfile, "README.md": "hello\n"})
	atr := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, s.AppID, s.PrivateKey)
	itr := ghinstallation.NewFromAppsTransport(atr, inst.ID)
	itr.BaseURL = strings.TrimSuffix(s.APIURL(), "/")
	client := github.NewClient(&http.Client{Transport: itr})
	base, err := url.Parse(s.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	client.BaseURL = base
	return &fixture{s, inst, repo, client, itr}
}

func status(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Response.StatusCode
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		return ab.Response.StatusCode
	}
	return 0
}

func TestJWTRules(t *testing.T) {
	s := githubtest.NewServer(t)
	inst := s.AddInstallation("acme")
	other, err := jwtKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := func(iss any, iat, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"iss": iss, "iat": iat.Unix(), "exp": exp.Unix()}
	}
	id := strconv.FormatInt(s.AppID, 10)
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"string iss", sign(jwt.SigningMethodRS256, s.PrivateKey, claims(id, now.Add(-30*time.Second), now.Add(2*time.Minute))), 200},
		{"numeric iss", sign(jwt.SigningMethodRS256, s.PrivateKey, claims(s.AppID, now.Add(-60*time.Second), now.Add(9*time.Minute))), 200},
		{"iat within skew", sign(jwt.SigningMethodRS256, s.PrivateKey, claims(id, now.Add(30*time.Second), now.Add(5*time.Minute))), 200},
		{"HS256", sign(jwt.SigningMethodHS256, []byte("secret"), claims(id, now, now.Add(time.Minute))), 401},
		{"other key", sign(jwt.SigningMethodRS256, other, claims(id, now, now.Add(time.Minute))), 401},
		{"wrong iss", sign(jwt.SigningMethodRS256, s.PrivateKey, claims("1", now, now.Add(time.Minute))), 401},
		{"iat in the future", sign(jwt.SigningMethodRS256, s.PrivateKey, claims(id, now.Add(5*time.Minute), now.Add(8*time.Minute))), 401},
		{"expired", sign(jwt.SigningMethodRS256, s.PrivateKey, claims(id, now.Add(-5*time.Minute), now.Add(-time.Second))), 401},
		{"lives over 10 minutes", sign(jwt.SigningMethodRS256, s.PrivateKey, claims(id, now.Add(-time.Minute), now.Add(10*time.Minute))), 401},
		{"no iat", sign(jwt.SigningMethodRS256, s.PrivateKey, jwt.MapClaims{"iss": id, "exp": now.Add(time.Minute).Unix()}), 401},
		{"garbage", "not.a.jwt", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", fmt.Sprintf("%sapp/installations/%d", s.APIURL(), inst.ID), nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == 401 && !strings.Contains(string(body), `"message"`) {
				t.Errorf("401 without a GitHub-shaped error: %s", body)
			}
		})
	}
}

func TestInstallationTokenExpires(t *testing.T) {
	f := setup(t)
	if _, _, err := f.client.Repositories.Get(ctx, "acme", "web"); err != nil {
		t.Fatal(err)
	}
	// ghinstallation caches the token by its own (wall) clock; the fake's
	// clock has moved past expiry, as if the token had been held for an hour.
	f.s.Advance(61 * time.Minute)
	_, _, err := f.client.Repositories.Get(ctx, "acme", "web")
	if status(err) != http.StatusUnauthorized {
		t.Fatalf("expired token: got %v, want 401", err)
	}
	// A fresh transport gets a fresh token and works again.
	itr := ghinstallation.NewFromAppsTransport(ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, f.s.AppID, f.s.PrivateKey), f.inst.ID)
	itr.BaseURL = strings.TrimSuffix(f.s.APIURL(), "/")
	c := github.NewClient(&http.Client{Transport: itr})
	c.BaseURL = f.client.BaseURL
	if _, _, err := c.Repositories.Get(ctx, "acme", "web"); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
}

func TestShortTokenLifetime(t *testing.T) {
	f := setup(t, githubtest.WithTokenLifetime(5*time.Minute))
	tok, err := f.itr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exp, _, _ := f.itr.Expiry()
	if d := time.Until(exp); d > 6*time.Minute || d < 4*time.Minute {
		t.Errorf("token %s… expires in %v, want about 5m", tok[:8], d)
	}
}

func clone(t *testing.T, s *githubtest.Server, auth *githttp.BasicAuth, branch string) (*git.Repository, error) {
	t.Helper()
	opts := &git.CloneOptions{URL: s.GitURL("acme", "web"), Depth: 1, SingleBranch: true, ReferenceName: plumbing.NewBranchReferenceName(branch)}
	if auth != nil {
		opts.Auth = auth
	}
	return git.Clone(memory.NewStorage(), memfs.New(), opts)
}

func readFile(t *testing.T, r *git.Repository, path string) string {
	t.Helper()
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	f, err := wt.Filesystem.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

func TestCloneNeedsInstallationToken(t *testing.T) {
	f := setup(t)
	if _, err := clone(t, f.s, nil, "main"); err == nil {
		t.Fatal("anonymous clone succeeded")
	}
	if _, err := clone(t, f.s, &githttp.BasicAuth{Username: "x-access-token", Password: "ghs_wrong"}, "main"); err == nil {
		t.Fatal("clone with an unknown token succeeded")
	}
	tok, err := f.itr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := clone(t, f.s, &githttp.BasicAuth{Username: "x-access-token", Password: tok}, "main")
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, r, "Dockerfile"); got != dockerfile {
		t.Errorf("Dockerfile = %q", got)
	}
	f.s.Advance(2 * time.Hour)
	if _, err := clone(t, f.s, &githttp.BasicAuth{Username: "x-access-token", Password: tok}, "main"); err == nil {
		t.Fatal("clone with an expired token succeeded")
	}
}

func TestGitDataCommitIsClonedAndReviewed(t *testing.T) {
	f := setup(t)
	gs := f.client.Git
	ref, _, err := gs.GetRef(ctx, "acme", "web", "heads/main")
	if err != nil {
		t.Fatal(err)
	}
	parent, _, err := gs.GetCommit(ctx, "acme", "web", ref.GetObject().GetSHA())
	if err != nil {
		t.Fatal(err)
	}
	optimized := strings.Replace(dockerfile, "apk add curl", "apk add --no-cache curl", 1)
	tree, _, err := gs.CreateTree(ctx, "acme", "web", parent.GetTree().GetSHA(), []*github.TreeEntry{
		{Path: github.String("Dockerfile"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(optimized)},
		{Path: github.String(".dockerignore"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(".git\n")},
		{Path: github.String("README.md"), Mode: github.String("100644"), Type: github.String("blob")}, // sha: null deletes
	})
	if err != nil {
		t.Fatal(err)
	}
	commit, _, err := gs.CreateCommit(ctx, "acme", "web", &github.Commit{
		Message: github.String("dockopt: optimize Dockerfile"), Tree: tree, Parents: []*github.Commit{parent},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !commit.GetVerification().GetVerified() || commit.GetVerification().GetReason() != "valid" {
		t.Errorf("API commit without author not verified: %+v", commit.GetVerification())
	}
	if _, _, err := gs.CreateRef(ctx, "acme", "web", &github.Reference{
		Ref: github.String("refs/heads/dockopt/main"), Object: &github.GitObject{SHA: commit.SHA},
	}); err != nil {
		t.Fatal(err)
	}

	tok, _ := f.itr.Token(ctx)
	r, err := clone(t, f.s, &githttp.BasicAuth{Username: "x-access-token", Password: tok}, "dockopt/main")
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, r, "Dockerfile"); got != optimized {
		t.Errorf("cloned Dockerfile = %q", got)
	}
	if got := readFile(t, r, ".dockerignore"); got != ".git\n" {
		t.Errorf("cloned .dockerignore = %q", got)
	}
	if wt, _ := r.Worktree(); wt != nil {
		if _, err := wt.Filesystem.Stat("README.md"); err == nil {
			t.Error("README.md survived sha: null")
		}
	}
	commits := f.s.CommitsOn(f.repo, "dockopt/main")
	if len(commits) != 2 || !commits[0].Verified || commits[1].Verified {
		t.Errorf("history = %+v", commits)
	}

	pr, _, err := f.client.PullRequests.Create(ctx, "acme", "web", &github.NewPullRequest{
		Title: github.String("Optimize Dockerfiles"), Head: github.String("dockopt/main"), Base: github.String("main"), Body: github.String("report"),
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := f.client.PullRequests.ListFiles(ctx, "acme", "web", pr.GetNumber(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fl := range files {
		got[fl.GetFilename()] = fl.GetStatus()
	}
	want := map[string]string{"Dockerfile": "modified", ".dockerignore": "added", "README.md": "removed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files = %v, want %v", got, want)
	}
	list, _, err := f.client.PullRequests.List(ctx, "acme", "web", &github.PullRequestListOptions{Head: "acme:dockopt/main", Base: "main"})
	if err != nil || len(list) != 1 {
		t.Fatalf("list by head: %d, %v", len(list), err)
	}

	// Line 2 changed; line 2 on the right is in the diff.
	if _, _, err := f.client.PullRequests.CreateComment(ctx, "acme", "web", pr.GetNumber(), &github.PullRequestComment{
		Body: github.String("```suggestion\nRUN apk add --no-cache curl\n```"), CommitID: commit.SHA,
		Path: github.String("Dockerfile"), Line: github.Int(2), Side: github.String("RIGHT"),
	}); err != nil {
		t.Fatalf("comment on a diff line: %v", err)
	}
	f.s.ExpectViolations()
	f.s.Push(f.repo, "main", map[string]string{"docs/a.md": strings.Repeat("x\n", 30)}, "docs", "alice")
	f.s.Push(f.repo, "dockopt/main", map[string]string{"Dockerfile": optimized + strings.Repeat("# pad\n", 20)}, "pad", "alice")
	head := f.s.Branch(f.repo, "dockopt/main")
	_, _, err = f.client.PullRequests.CreateComment(ctx, "acme", "web", pr.GetNumber(), &github.PullRequestComment{
		Body: github.String("no"), CommitID: &head, Path: github.String("Dockerfile"), Line: github.Int(20), Side: github.String("LEFT"),
	})
	if status(err) != http.StatusUnprocessableEntity || len(f.s.Violations()) != 1 {
		t.Errorf("comment outside the diff: %v, violations %q", err, f.s.Violations())
	}
}

func TestInvalidBodyIsRefusedAndRecorded(t *testing.T) {
	f := setup(t)
	f.s.ExpectViolations()
	sha := f.s.Branch(f.repo, "main")
	_, _, err := f.client.Checks.CreateCheckRun(ctx, "acme", "web", github.CreateCheckRunOptions{
		Name: "dockopt", HeadSHA: sha, Status: github.String("bogus"),
	})
	if status(err) != http.StatusUnprocessableEntity {
		t.Fatalf("got %v, want 422", err)
	}
	v := f.s.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "bogus") {
		t.Errorf("violations = %q", v)
	}
	calls := f.s.Calls()
	if last := calls[len(calls)-1]; last.Operation != "checks/create" || last.Status != 422 || last.Violation == "" {
		t.Errorf("last call = %+v", last)
	}
}

func annotations(n int) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for i := range n {
		out = append(out, &github.CheckRunAnnotation{
			Path: github.String("Dockerfile"), StartLine: github.Int(i + 1), EndLine: github.Int(i + 1),
			AnnotationLevel: github.String("warning"), Message: github.String("m"),
		})
	}
	return out
}

func TestAnnotationLimits(t *testing.T) {
	f := setup(t)
	sha := f.s.Branch(f.repo, "main")
	run, _, err := f.client.Checks.CreateCheckRun(ctx, "acme", "web", github.CreateCheckRunOptions{
		Name: "dockopt", HeadSHA: sha, Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s"), Annotations: annotations(50)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client.Checks.UpdateCheckRun(ctx, "acme", "web", run.GetID(), github.UpdateCheckRunOptions{
		Name: "dockopt", Conclusion: github.String("neutral"),
		Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s"), Annotations: annotations(7)},
	}); err != nil {
		t.Fatal(err)
	}
	runs := f.s.CheckRuns(f.repo)
	if len(runs) != 1 || len(runs[0].Annotations) != 57 || runs[0].Status != "completed" {
		t.Fatalf("runs = %+v", runs)
	}
	listed, _, err := f.client.Checks.ListCheckRunAnnotations(ctx, "acme", "web", run.GetID(), &github.ListOptions{PerPage: 100})
	if err != nil || len(listed) != 57 {
		t.Fatalf("listed %d annotations, %v", len(listed), err)
	}

	f.s.ExpectViolations()
	_, _, err = f.client.Checks.UpdateCheckRun(ctx, "acme", "web", run.GetID(), github.UpdateCheckRunOptions{
		Name:   "dockopt",
		Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s"), Annotations: annotations(51)},
	})
	if status(err) != http.StatusUnprocessableEntity {
		t.Fatalf("51 annotations: %v", err)
	}
	_, _, err = f.client.Checks.UpdateCheckRun(ctx, "acme", "web", run.GetID(), github.UpdateCheckRunOptions{
		Name: "dockopt", Output: &github.CheckRunOutput{Summary: github.String("no title")},
	})
	if status(err) != http.StatusUnprocessableEntity {
		t.Fatalf("update without title: %v", err)
	}
	if got := len(f.s.Violations()); got != 2 {
		t.Errorf("%d violations, want 2: %q", got, f.s.Violations())
	}
	if n := len(f.s.CheckRuns(f.repo)[0].Annotations); n != 57 {
		t.Errorf("refused requests changed annotations: %d", n)
	}
}

func TestBodyTooLong(t *testing.T) {
	f := setup(t)
	f.s.ExpectViolations()
	f.s.Push(f.repo, "feature", map[string]string{"x": "y"}, "x", "alice")
	pr := f.s.OpenPullRequest(f.repo, "feature", "main", "feature", "alice")
	_, _, err := f.client.Issues.CreateComment(ctx, "acme", "web", pr.Number, &github.IssueComment{Body: github.String(strings.Repeat("é", githubtest.MaxBodyChars+1))})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 || len(er.Errors) != 1 || !strings.Contains(er.Errors[0].Message, "body is too long (maximum is 65536 characters)") {
		t.Fatalf("got %v", err)
	}
	if _, _, err := f.client.Issues.CreateComment(ctx, "acme", "web", pr.Number, &github.IssueComment{Body: github.String(strings.Repeat("é", githubtest.MaxBodyChars))}); err != nil {
		t.Fatalf("65536 characters refused: %v", err)
	}
}

func TestFaultInjectedThenCleared(t *testing.T) {
	f := setup(t)
	f.s.Fault("repos/get", githubtest.Fault{Status: 502, Times: 2})
	for i := range 2 {
		if _, _, err := f.client.Repositories.Get(ctx, "acme", "web"); status(err) != 502 {
			t.Fatalf("call %d: %v, want 502", i, err)
		}
	}
	if _, _, err := f.client.Repositories.Get(ctx, "acme", "web"); err != nil {
		t.Fatalf("after Times ran out: %v", err)
	}
	h := f.s.Fault("checks/list-for-ref", githubtest.SecondaryRateLimit(30, 0))
	_, _, err := f.client.Checks.ListCheckRunsForRef(ctx, "acme", "web", "main", nil)
	var ab *github.AbuseRateLimitError
	if !errors.As(err, &ab) || ab.GetRetryAfter() != 30*time.Second {
		t.Fatalf("secondary limit: %v", err)
	}
	h.Clear()
	// go-github remembers a secondary limit per client and fails fast, so
	// a new client shows that the server has recovered.
	c := github.NewClient(&http.Client{Transport: f.itr})
	c.BaseURL = f.client.BaseURL
	if _, _, err := c.Checks.ListCheckRunsForRef(ctx, "acme", "web", "main", nil); err != nil {
		t.Fatalf("after Clear: %v", err)
	}
	if h.Hits() != 1 {
		t.Errorf("hits = %d", h.Hits())
	}
}

func TestFaultSkipsTheFirstRequests(t *testing.T) {
	f := setup(t)
	h := f.s.Fault("repos/get", githubtest.Fault{Status: 502, Skip: 2, Times: 1})
	for i := range 2 {
		if _, _, err := f.client.Repositories.Get(ctx, "acme", "web"); err != nil {
			t.Fatalf("call %d, skipped: %v", i, err)
		}
	}
	if _, _, err := f.client.Repositories.Get(ctx, "acme", "web"); status(err) != 502 {
		t.Fatalf("third call: %v, want 502", err)
	}
	if _, _, err := f.client.Repositories.Get(ctx, "acme", "web"); err != nil {
		t.Fatalf("after Times ran out: %v", err)
	}
	if h.Hits() != 1 {
		t.Errorf("hits = %d, want 1 (skipped requests are not hits)", h.Hits())
	}
}

func TestFaultAppliedHoldsTheAnswerNotTheWrite(t *testing.T) {
	f := setup(t)
	h := f.s.Fault("checks/create", githubtest.Fault{Applied: true, Delay: time.Minute})
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, _, err := f.client.Checks.CreateCheckRun(short, "acme", "web", github.CreateCheckRunOptions{Name: "x", HeadSHA: f.s.Branch(f.repo, "main")})
	if err == nil {
		t.Fatal("the held answer arrived")
	}
	if n := len(f.s.CheckRuns(f.repo)); n != 1 || h.Hits() != 1 {
		t.Fatalf("%d check runs after %d hits, want the write applied once", n, h.Hits())
	}
}

func TestContentCreationLimit(t *testing.T) {
	f := setup(t, githubtest.WithContentCreationLimit(2))
	f.s.Push(f.repo, "feature", map[string]string{"x": "y"}, "x", "alice")
	pr := f.s.OpenPullRequest(f.repo, "feature", "main", "feature", "alice")
	for i := range 2 {
		if _, _, err := f.client.Issues.CreateComment(ctx, "acme", "web", pr.Number, &github.IssueComment{Body: github.String("hi")}); err != nil {
			t.Fatalf("comment %d: %v", i, err)
		}
	}
	_, _, err := f.client.Issues.CreateComment(ctx, "acme", "web", pr.Number, &github.IssueComment{Body: github.String("hi")})
	var ab *github.AbuseRateLimitError
	if !errors.As(err, &ab) || ab.GetRetryAfter() <= 0 {
		t.Fatalf("third comment: %v", err)
	}
	f.s.Advance(time.Minute + time.Second)
	c := github.NewClient(&http.Client{Transport: f.itr})
	c.BaseURL = f.client.BaseURL
	if _, _, err := c.Issues.CreateComment(ctx, "acme", "web", pr.Number, &github.IssueComment{Body: github.String("hi")}); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
}

func TestHourlyContentCreationLimit(t *testing.T) {
	// GitHub's defaults: 80 a minute and 500 an hour. Paced at one request
	// a second, the minute budget is never reached, the hour's is after
	// 500 seconds. (Tokens outlive the test's fake hour: ghinstallation
	// judges expiry on the real clock.)
	f := setup(t, githubtest.WithTokenLifetime(3*time.Hour))
	f.s.Push(f.repo, "feature", map[string]string{"x": "y"}, "x", "alice")
	pr := f.s.OpenPullRequest(f.repo, "feature", "main", "feature", "alice")
	comment := func(c *github.Client) error {
		_, _, err := c.Issues.CreateComment(ctx, "acme", "web", pr.Number, &github.IssueComment{Body: github.String("hi")})
		return err
	}
	for i := range githubtest.ContentCreationPerHour {
		if err := comment(f.client); err != nil {
			t.Fatalf("comment %d of %d: %v", i+1, githubtest.ContentCreationPerHour, err)
		}
		f.s.Advance(time.Second)
	}
	err := comment(f.client)
	var ab *github.AbuseRateLimitError
	if !errors.As(err, &ab) || ab.GetRetryAfter() < 50*time.Minute {
		t.Fatalf("comment 501 within the hour: %v, want a secondary limit with Retry-After near the rest of the hour", err)
	}
	if got := f.s.MaxContentWritesInAnyHour(f.inst.ID); got != githubtest.ContentCreationPerHour {
		t.Errorf("MaxContentWritesInAnyHour = %d, want %d", got, githubtest.ContentCreationPerHour)
	}
	// Once the first request of the window is an hour old, one more fits.
	f.s.Advance(ab.GetRetryAfter())
	c := github.NewClient(&http.Client{Transport: f.itr})
	c.BaseURL = f.client.BaseURL
	if err := comment(c); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	if got := f.s.MaxContentWritesInAnyHour(f.inst.ID); got != githubtest.ContentCreationPerHour {
		t.Errorf("after the window moved, MaxContentWritesInAnyHour = %d, want still %d", got, githubtest.ContentCreationPerHour)
	}
}

func TestEnterprisePrefix(t *testing.T) {
	s := githubtest.NewServer(t, githubtest.WithEnterprisePrefix())
	inst := s.AddInstallation("acme")
	s.AddRepo(inst, "acme", "web", map[string]string{"Dockerfile": dockerfile})
	if !strings.HasSuffix(s.APIURL(), "/api/v3/") {
		t.Fatalf("APIURL = %s", s.APIURL())
	}
	itr := ghinstallation.NewFromAppsTransport(ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, s.AppID, s.PrivateKey), inst.ID)
	itr.BaseURL = s.URL() + "/api/v3"
	client, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(s.URL(), s.URL())
	if err != nil {
		t.Fatal(err)
	}
	fc, _, _, err := client.Repositories.GetContents(ctx, "acme", "web", "Dockerfile", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fc.GetContent(); got != dockerfile {
		t.Errorf("content = %q", got)
	}
	tok, _ := itr.Token(ctx)
	if _, err := clone(t, s, &githttp.BasicAuth{Username: "x-access-token", Password: tok}, "main"); err != nil {
		t.Fatalf("GHES clone: %v", err)
	}

	s.ExpectViolations()
	root := github.NewClient(&http.Client{Transport: itr})
	root.BaseURL, _ = url.Parse(s.URL() + "/")
	if _, _, err := root.Repositories.Get(ctx, "acme", "web"); status(err) != 404 {
		t.Fatalf("request outside /api/v3: %v", err)
	}
	if len(s.Violations()) != 1 {
		t.Errorf("violations = %q", s.Violations())
	}
}

func TestSignedWebhook(t *testing.T) {
	f := setup(t)
	before := f.s.Branch(f.repo, "main")
	after := f.s.Push(f.repo, "main", map[string]string{"Dockerfile": "FROM scratch\n"}, "bump", "alice")
	var got *github.PushEvent
	var delivery string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := github.ValidatePayloadFromBody(r.Header.Get("Content-Type"), r.Body, r.Header.Get("X-Hub-Signature-256"), []byte(f.s.WebhookSecret))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		ev, err := github.ParseWebHook(github.WebHookType(r), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got, delivery = ev.(*github.PushEvent), github.DeliveryID(r)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()

	resp, err := f.s.Send(ctx, app.URL, f.s.PushEvent(f.repo, "main", before, after, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got.GetAfter() != after || got.GetBefore() != before || got.GetInstallation().GetID() != f.inst.ID ||
		got.GetRepo().GetFullName() != "acme/web" || got.GetHeadCommit().GetID() != after {
		t.Errorf("push event = after %s before %s inst %d repo %s", got.GetAfter(), got.GetBefore(), got.GetInstallation().GetID(), got.GetRepo().GetFullName())
	}
	// A redelivery keeps the GUID.
	resp, err = f.s.DeliverWithID(ctx, app.URL, "push", delivery, f.s.PushEvent(f.repo, "main", before, after, "alice").Payload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := f.s.Deliveries(); len(d) != 2 || d[0].ID != d[1].ID {
		t.Errorf("deliveries = %+v", d)
	}

	// A wrong secret is refused by the receiver.
	bad := githubtest.NewServer(t)
	resp, err = bad.Deliver(ctx, app.URL, "push", map[string]any{"ref": "refs/heads/main"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("foreign signature accepted: %d", resp.StatusCode)
	}
}

func TestSignatureVector(t *testing.T) {
	// From GitHub's "Validating webhook deliveries".
	got := githubtest.Sign("It's a Secret to Everybody", []byte("Hello, World!"))
	if got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Errorf("Sign = %s", got)
	}
}

func jwtKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }
