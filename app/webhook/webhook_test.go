package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/webhook"
)

var secret = []byte("test secret")

const bot = "dockopt[bot]"

// fakeQueue records what the handler queues.
type fakeQueue struct {
	mu         sync.Mutex
	deliveries []queue.Delivery
	jobs       []jobs.Args
	err        error
}

func (f *fakeQueue) Accept(_ context.Context, d queue.Delivery, js []jobs.Args) (queue.Accepted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return queue.Accepted{}, f.err
	}
	f.deliveries = append(f.deliveries, d)
	f.jobs = append(f.jobs, js...)
	ids := make([]int64, len(js))
	for i := range ids {
		ids[i] = int64(len(f.jobs) - len(js) + i + 1)
	}
	return queue.Accepted{Outcome: queue.Queued, JobIDs: ids}, nil
}

func newHandler(t *testing.T, q webhook.Queue, m *metrics.Metrics) *webhook.Handler {
	t.Helper()
	h, err := webhook.New(webhook.Config{Secret: secret, BotLogin: bot, Queue: q, Metrics: m, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// payload reads a testdata example and applies edits to its decoded JSON.
func payload(t *testing.T, name string, edits ...func(map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) == 0 {
		return raw
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		e(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// set returns an edit that sets the value at a dotted path.
func set(path string, v any) func(map[string]any) {
	return func(m map[string]any) {
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
}

func deliver(h http.Handler, event, delivery string, body []byte, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func signed(h http.Handler, event, delivery string, body []byte) *httptest.ResponseRecorder {
	return deliver(h, event, delivery, body, webhook.Sign(secret, body))
}

func TestOfficialSignatureVector(t *testing.T) {
	// From GitHub's "Validating webhook deliveries" page.
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	s, body := []byte("It's a Secret to Everybody"), []byte("Hello, World!")
	if got := webhook.Sign(s, body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if !webhook.ValidSignature(s, body, want) {
		t.Error("the official vector does not validate")
	}
	for _, bad := range []string{
		"",
		strings.TrimPrefix(want, "sha256="), // no algorithm
		"sha1=757107ea0eb2509fc211221cce984b8a37570b6d", // legacy header format
		want[:len(want)-1] + "f",                        // one digit off
		want[:len(want)-2],                              // truncated
		"sha256=" + strings.Repeat("zz", 32),            // not hex
	} {
		if webhook.ValidSignature(s, body, bad) {
			t.Errorf("ValidSignature accepted %q", bad)
		}
	}
	if webhook.ValidSignature(nil, body, webhook.Sign(nil, body)) {
		t.Error("an empty secret must match nothing")
	}
}

func TestNewRefusesEmptySecret(t *testing.T) {
	_, err := webhook.New(webhook.Config{BotLogin: bot, Queue: &fakeQueue{}})
	if err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("New with no secret: %v, want an error about the secret", err)
	}
}

func TestSignatureRequired(t *testing.T) {
	body := payload(t, "push.event.4")
	sha1Only := func(r *http.Request) { r.Header.Set("X-Hub-Signature", "sha1=0123") }
	cases := []struct {
		name      string
		signature string
		edit      func(*http.Request)
	}{
		{"missing", "", nil},
		{"wrong secret", webhook.Sign([]byte("other"), body), nil},
		{"other body", webhook.Sign(secret, []byte("{}")), nil},
		{"legacy SHA-1 header only", "", sha1Only},
	}
	queuetest.Databases(t, func(t *testing.T, url string) {
		q, err := queue.Open(context.Background(), url, queue.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		m := metrics.New()
		h := newHandler(t, q, m)
		for _, c := range cases {
			req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", "d-"+c.name)
			if c.signature != "" {
				req.Header.Set("X-Hub-Signature-256", c.signature)
			}
			if c.edit != nil {
				c.edit(req)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", c.name, rec.Code)
			}
		}
		if n, err := q.Depth(context.Background()); err != nil || n != 0 {
			t.Errorf("after refused deliveries Depth = %d, %v; want nothing queued", n, err)
		}
		if got := value(m.Webhooks.WithLabelValues("-", "unauthorized")); got != float64(len(cases)) {
			t.Errorf("webhooks_total{outcome=unauthorized} = %v, want %d", got, len(cases))
		}
		// The same body, signed, is accepted.
		if rec := signed(h, "push", "d-good", body); rec.Code != http.StatusAccepted {
			t.Errorf("signed delivery: %d %s", rec.Code, rec.Body)
		}
		if n, _ := q.Depth(context.Background()); n != 1 {
			t.Errorf("after a signed push Depth = %d, want 1", n)
		}
	})
}

func TestBodyOver25MBIsRefused(t *testing.T) {
	fq := &fakeQueue{}
	h := newHandler(t, fq, nil)
	body := bytes.Repeat([]byte(" "), webhook.MaxBody+1)
	rec := signed(h, "push", "big", body)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
	// Exactly 25 MB is read and judged on its content (here: not JSON).
	rec = signed(h, "push", "limit", bytes.Repeat([]byte(" "), webhook.MaxBody))
	if rec.Code == http.StatusRequestEntityTooLarge {
		t.Error("a body of exactly 25 MB was refused as too large")
	}
	if len(fq.jobs) != 0 {
		t.Errorf("queued %v", fq.jobs)
	}
}

func TestEventsMapToJobs(t *testing.T) {
	const pushSHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
	const prSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	pushJob := jobs.AnalyzePush{InstallationID: 1, Owner: "Codertocat", Repo: "Hello-World", Branch: "master",
		SHA: pushSHA, DefaultBranch: "master", DeliveryID: "d"}
	prJob := func(action string) jobs.AnalyzePR {
		return jobs.AnalyzePR{InstallationID: 1, Owner: "Codertocat", Repo: "Hello-World", Number: 2, HeadSHA: prSHA,
			HeadRef: "changes", BaseRef: "master", HeadRepoFullName: "Codertocat/Hello-World", Action: action, DeliveryID: "d"}
	}
	command := func(body string, isPR bool) jobs.Command {
		return jobs.Command{InstallationID: 1, Owner: "Codertocat", Repo: "Hello-World", IssueNumber: 1, IsPR: isPR,
			CommentID: 492700400, CommentKind: jobs.CommentIssue, Author: "Codertocat", AuthorType: "User", Body: body, DeliveryID: "d"}
	}
	cases := []struct {
		name   string
		event  string
		file   string
		edits  []func(map[string]any)
		want   []jobs.Args
		reason string // when want is empty
	}{
		{name: "push to default branch", event: "push", file: "push.event.4", want: []jobs.Args{pushJob}},
		{name: "push to another branch", event: "push", file: "push.event.4",
			edits: []func(map[string]any){set("ref", "refs/heads/feature")}, reason: "not the default branch"},
		{name: "tag deleted", event: "push", file: "push.event.3", reason: "not a branch"},
		{name: "branch deleted", event: "push", file: "push.event.4",
			edits: []func(map[string]any){set("deleted", true), set("after", strings.Repeat("0", 40))}, reason: "branch deleted"},
		{name: "pushed by the bot", event: "push", file: "push.event.4",
			edits: []func(map[string]any){set("pusher.name", bot)}, reason: "pushed by dockopt"},
		{name: "sent by the bot", event: "push", file: "push.event.4",
			edits: []func(map[string]any){set("sender.login", bot)}, reason: "pushed by dockopt"},
		{name: "bot branch", event: "push", file: "push.event.4",
			edits:  []func(map[string]any){set("ref", "refs/heads/dockopt/master"), set("repository.default_branch", "dockopt/master")},
			reason: "dockopt's own branch"},
		{name: "push without installation", event: "push", file: "push.event.4",
			edits: []func(map[string]any){func(m map[string]any) { delete(m, "installation") }}, reason: "not sent to an installation"},

		{name: "installation created", event: "installation", file: "installation.created.1",
			want: []jobs.Args{jobs.AnalyzeRepo{InstallationID: 957387, Owner: "Codertocat", Repo: "Hello-World", DeliveryID: "d"}}},
		{name: "installation deleted", event: "installation", file: "installation.deleted.0", reason: "installation deleted"},
		{name: "installation suspended", event: "installation", file: "installation.suspend.5", reason: "installation suspend"},
		{name: "repositories added", event: "installation_repositories", file: "installation_repositories.added.0",
			want: []jobs.Args{jobs.AnalyzeRepo{InstallationID: 957387, Owner: "Codertocat", Repo: "Space", DeliveryID: "d"}}},
		{name: "repositories removed", event: "installation_repositories", file: "installation_repositories.removed.2", reason: "repositories removed"},

		{name: "pr opened", event: "pull_request", file: "pull_request.opened.12", want: []jobs.Args{prJob("opened")}},
		{name: "pr reopened", event: "pull_request", file: "pull_request.reopened.18", want: []jobs.Args{prJob("reopened")}},
		{name: "pr synchronize", event: "pull_request", file: "pull_request.synchronize.22", want: []jobs.Args{prJob("synchronize")}},
		{name: "pr ready", event: "pull_request", file: "pull_request.ready_for_review.16", want: []jobs.Args{prJob("ready_for_review")}},
		{name: "pr closed", event: "pull_request", file: "pull_request.closed.3", reason: "pull request closed"},
		{name: "pr from a fork", event: "pull_request", file: "pull_request.opened.12",
			edits: []func(map[string]any){set("pull_request.head.repo.full_name", "someone/Hello-World")},
			want: []jobs.Args{func() jobs.AnalyzePR {
				j := prJob("opened")
				j.HeadRepoFullName, j.Fork = "someone/Hello-World", true
				return j
			}()}},
		{name: "dockopt's own pr", event: "pull_request", file: "pull_request.opened.12",
			edits: []func(map[string]any){set("pull_request.head.ref", "dockopt/master")}, reason: "dockopt's own pull request"},

		{name: "command on an issue", event: "issue_comment", file: "issue_comment.created.3",
			edits: []func(map[string]any){set("comment.body", "/dockopt rerun")}, want: []jobs.Args{command("/dockopt rerun", false)}},
		{name: "mention on a pr", event: "issue_comment", file: "issue_comment.created.3",
			edits: []func(map[string]any){set("comment.body", "@DockOpt help"), set("issue.pull_request.url", "https://api.github.com/repos/Codertocat/Hello-World/pulls/1")},
			want:  []jobs.Args{command("@DockOpt help", true)}},
		{name: "ordinary comment", event: "issue_comment", file: "issue_comment.created.3", reason: "not addressed to dockopt"},
		{name: "command edited in", event: "issue_comment", file: "issue_comment.edited.7",
			edits: []func(map[string]any){set("comment.body", "/dockopt rerun"), set("installation.id", 1)}, reason: "comment edited"},
		{name: "comment deleted", event: "issue_comment", file: "issue_comment.deleted.5",
			edits: []func(map[string]any){set("comment.body", "/dockopt rerun"), set("installation.id", 1)}, reason: "comment deleted"},
		{name: "bot's own comment", event: "issue_comment", file: "issue_comment.created.3",
			edits: []func(map[string]any){set("comment.body", "Try `/dockopt help`"), set("comment.user.login", bot)}, reason: "dockopt's own comment"},

		{name: "review comment command", event: "pull_request_review_comment", file: "pull_request_review_comment.created.1",
			edits: []func(map[string]any){set("comment.body", "/dockopt explain apt-no-install-recommends")},
			want: []jobs.Args{jobs.Command{InstallationID: 1, Owner: "Codertocat", Repo: "Hello-World", IssueNumber: 2, IsPR: true,
				CommentID: 284312630, CommentKind: jobs.CommentReview, Author: "Codertocat", AuthorType: "User",
				Body: "/dockopt explain apt-no-install-recommends", DeliveryID: "d"}}},
		{name: "review comment edited", event: "pull_request_review_comment", file: "pull_request_review_comment.edited.4",
			edits: []func(map[string]any){set("comment.body", "/dockopt rerun")}, reason: "review comment edited"},

		{name: "check suite rerequested", event: "check_suite", file: "check_suite.rerequested.7",
			want: []jobs.Args{jobs.Rerun{InstallationID: 957387, Owner: "Codertocat", Repo: "Hello-World", HeadSHA: prSHA,
				HeadBranch: "changes", PRNumbers: []int{2}, DeliveryID: "d"}}},
		{name: "check suite requested", event: "check_suite", file: "check_suite.requested.4", reason: "check suite requested"},
		{name: "check run rerequested", event: "check_run", file: "check_run.rerequested.7",
			// The example's app timestamps are not RFC 3339, which GitHub
			// always sends and go-github requires.
			edits: []func(map[string]any){
				set("check_run.app.created_at", "2018-04-25T20:42:10Z"), set("check_run.app.updated_at", "2018-04-25T20:42:10Z"),
				set("check_run.check_suite.app.created_at", "2018-04-25T20:42:10Z"), set("check_run.check_suite.app.updated_at", "2018-04-25T20:42:10Z"),
			},
			want: []jobs.Args{jobs.Rerun{InstallationID: 1, Owner: "github", Repo: "hello-world", HeadSHA: "d6fde92930d4715a2b49857d24b940956b26d2d3",
				HeadBranch: "master", CheckRunID: 4, DeliveryID: "d"}}},
		{name: "check run button", event: "check_run", file: "check_run.requested_action.6",
			want: []jobs.Args{jobs.Rerun{InstallationID: 690857, Owner: "electron", Repo: "electron", HeadSHA: "5bd5f196a46b8222fb7484f05faba41a73cf34bd",
				HeadBranch: "miniak/event-process-id", CheckRunID: 1494503112, RequestedAction: "lgtm|26764", PRNumbers: []int{26764}, DeliveryID: "d"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fq := &fakeQueue{}
			h := newHandler(t, fq, nil)
			rec := signed(h, c.event, "d", payload(t, c.file, c.edits...))
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status %d %s, want 202", rec.Code, rec.Body)
			}
			var resp webhook.Response
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if len(c.want) == 0 {
				if len(fq.jobs) != 0 || resp.Status != "ignored" || resp.Reason != c.reason {
					t.Errorf("got %+v and jobs %+v, want ignored because %q", resp, fq.jobs, c.reason)
				}
				return
			}
			if !reflect.DeepEqual(fq.jobs, c.want) {
				t.Errorf("jobs\n got %+v\nwant %+v", fq.jobs, c.want)
			}
			if resp.Status != string(queue.Queued) || len(resp.Jobs) != len(c.want) {
				t.Errorf("response %+v", resp)
			}
			if d := fq.deliveries[0]; d.ID != "d" || d.Event != c.event {
				t.Errorf("delivery recorded as %+v", d)
			}
		})
	}
}

func TestPingAndUnknownEvents(t *testing.T) {
	m := metrics.New()
	fq := &fakeQueue{}
	h := newHandler(t, fq, m)
	if rec := signed(h, "ping", "p", payload(t, "ping.event.0")); rec.Code != http.StatusOK {
		t.Errorf("ping: %d, want 200", rec.Code)
	}
	if rec := signed(h, "star", "s", []byte(`{"action":"created"}`)); rec.Code != http.StatusAccepted {
		t.Errorf("unknown event: %d, want 202", rec.Code)
	}
	if got := value(m.Webhooks.WithLabelValues("star", "ignored")); got != 1 {
		t.Errorf(`webhooks_total{event="star",outcome="ignored"} = %v, want 1`, got)
	}
	if rec := signed(h, "push", "bad", []byte(`{"ref": 12}`)); rec.Code != http.StatusBadRequest {
		t.Errorf("malformed push: %d, want 400", rec.Code)
	}
	req := httptest.NewRequest(http.MethodGet, "/webhook", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", rec.Code)
	}
	if len(fq.jobs) != 0 {
		t.Errorf("queued %v", fq.jobs)
	}
}

func TestQueueFailureIs503(t *testing.T) {
	h := newHandler(t, &fakeQueue{err: errors.New("database is locked")}, nil)
	rec := signed(h, "push", "d", payload(t, "push.event.4"))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503 so that GitHub records a failed delivery", rec.Code)
	}
}

func TestRedeliveryRunsOnce(t *testing.T) {
	queuetest.Databases(t, func(t *testing.T, url string) {
		q, err := queue.Open(context.Background(), url, queue.Options{Logger: slog.New(slog.DiscardHandler), RetryPolicy: queuetest.FastRetry{}})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		ev := queuetest.Subscribe(t, q)
		var mu sync.Mutex
		var runs []any
		q.Start(context.Background(), queue.Handle(func(_ context.Context, job jobs.Command) error {
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, job)
			if len(runs) == 1 {
				return queue.Permanent(errors.New("first run fails"))
			}
			return nil
		}))
		defer q.Stop(context.Background())
		h := newHandler(t, q, nil)
		body := payload(t, "issue_comment.created.3", set("comment.body", "/dockopt rerun"))

		status := func() webhook.Response {
			t.Helper()
			rec := signed(h, "issue_comment", "72d3162e-cc78-11e3-81ab-4c9367dc0958", body)
			var resp webhook.Response
			if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			return resp
		}
		first := status()
		ev.Until(t, "job_cancelled", first.Jobs[0])
		second := status() // failed before: runs again
		if second.Status != string(queue.Requeued) {
			t.Fatalf("redelivery after a failure: %+v", second)
		}
		ev.Until(t, "job_completed", second.Jobs[0])
		third := status() // done: nothing
		if third.Status != string(queue.Done) {
			t.Errorf("redelivery after success: %+v", third)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 2 {
			t.Errorf("ran %d times, want 2", len(runs))
		}
	})
}

// value reads a counter.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestFormEncodedDelivery(t *testing.T) {
	// Repository webhooks may be set to application/x-www-form-urlencoded;
	// the signature covers the encoded body.
	fq := &fakeQueue{}
	h := newHandler(t, fq, nil)
	body := []byte("payload=" + url.QueryEscape(string(payload(t, "push.event.4"))))
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "form")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || len(fq.jobs) != 1 {
		t.Errorf("status %d, jobs %v", rec.Code, fq.jobs)
	}
}
