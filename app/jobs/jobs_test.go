package jobs_test

import (
	"encoding/json"
	"testing"

	"github.com/dockopt/dockopt/app/jobs"
)

// TestStableJSON pins the stored form of every job: jobs written by one
// release are read by the next, so a renamed field would lose data.
func TestStableJSON(t *testing.T) {
	cases := []struct {
		job  jobs.Args
		kind string
		want string
	}{
		{jobs.AnalyzePush{InstallationID: 1, Owner: "o", Repo: "r", Branch: "main", SHA: "abc", DefaultBranch: "main", DeliveryID: "d"},
			"analyze_push",
			`{"installation_id":1,"owner":"o","repo":"r","branch":"main","sha":"abc","default_branch":"main","delivery_id":"d"}`},
		{jobs.AnalyzeRepo{InstallationID: 1, Owner: "o", Repo: "r", DeliveryID: "d"},
			"analyze_repo",
			`{"installation_id":1,"owner":"o","repo":"r","delivery_id":"d"}`},
		{jobs.AnalyzePR{InstallationID: 1, Owner: "o", Repo: "r", Number: 2, HeadSHA: "abc", HeadRef: "f", BaseRef: "main", HeadRepoFullName: "x/r", Fork: true, Action: "opened", DeliveryID: "d"},
			"analyze_pr",
			`{"installation_id":1,"owner":"o","repo":"r","number":2,"head_sha":"abc","head_ref":"f","base_ref":"main","head_repo_full_name":"x/r","fork":true,"action":"opened","delivery_id":"d"}`},
		{jobs.Command{InstallationID: 1, Owner: "o", Repo: "r", IssueNumber: 3, IsPR: true, CommentID: 9, CommentKind: jobs.CommentReview, Author: "a", AuthorType: "User", Body: "/dockopt rerun", DeliveryID: "d"},
			"command",
			`{"installation_id":1,"owner":"o","repo":"r","issue_number":3,"is_pr":true,"comment_id":9,"comment_kind":"review","author":"a","author_type":"User","body":"/dockopt rerun","delivery_id":"d"}`},
		{jobs.Rerun{InstallationID: 1, Owner: "o", Repo: "r", HeadSHA: "abc", HeadBranch: "main", CheckRunID: 5, RequestedAction: "fix", PRNumbers: []int{2}, DeliveryID: "d"},
			"rerun",
			`{"installation_id":1,"owner":"o","repo":"r","head_sha":"abc","head_branch":"main","check_run_id":5,"requested_action":"fix","pr_numbers":[2],"delivery_id":"d"}`},
		{jobs.Pace{InstallationID: 1, DeliveryID: "d"}, "pace", `{"installation_id":1,"delivery_id":"d"}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.job)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%T stored as\n %s\nwant\n %s", c.job, got, c.want)
		}
		if c.job.Kind() != c.kind {
			t.Errorf("%T kind %q, want %q", c.job, c.job.Kind(), c.kind)
		}
	}
}

// TestCoalesceKeys pins the keys under which the queue keeps the newest
// arguments of a branch or pull request: a changed form would orphan the
// heads stored by the previous release.
func TestCoalesceKeys(t *testing.T) {
	cases := []struct {
		job  jobs.Coalescing
		want string
	}{
		{jobs.AnalyzePush{Owner: "o", Repo: "r", Branch: "main", SHA: "abc"}, "push:o/r:main"},
		{jobs.AnalyzePR{Owner: "o", Repo: "r", Number: 2, HeadSHA: "abc"}, "pr:o/r#2"},
		{jobs.Pace{InstallationID: 42}, "pace:42"},
	}
	for _, c := range cases {
		if got := c.job.CoalesceKey(); got != c.want {
			t.Errorf("%T key %q, want %q", c.job, got, c.want)
		}
	}
	for _, j := range []jobs.Args{jobs.AnalyzeRepo{}, jobs.Command{}, jobs.Rerun{}} {
		if _, ok := j.(jobs.Coalescing); ok {
			t.Errorf("%T coalesces; every request of its kind must run", j)
		}
	}
}
