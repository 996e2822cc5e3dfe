// Package jobs holds the arguments of every job the app queues. A job is
// one unit of work on one repository; intake (app/webhook) creates them and
// the worker's handler of each kind runs them through the queue. Adding a
// kind means a type here (its Kind, its Subject, and CoalesceKey if only
// its newest arguments matter) and a handler in the worker; the queue
// needs no change.
//
// The values are stored as JSON in the queue's database and may be read by a
// newer binary after an upgrade, so field names are part of a stable format:
// add fields, never rename or repurpose them.
package jobs

import "strconv"

// Kinds, as stored in the queue. They are forever: renaming one orphans the
// jobs of that kind still in a database.
const (
	KindAnalyzePush = "analyze_push"
	KindAnalyzeRepo = "analyze_repo"
	KindAnalyzePR   = "analyze_pr"
	KindCommand     = "command"
	KindRerun       = "rerun"
	KindPace        = "pace"
)

// AnalyzePush analyzes a commit pushed to a repository's default branch.
//
// Jobs for the same repository and branch coalesce: the `river:"unique"`
// fields form the key, and the queue hands the processor the newest push
// received for that key, whatever push created the job.
type AnalyzePush struct {
	InstallationID int64  `json:"installation_id"`
	Owner          string `json:"owner" river:"unique"`
	Repo           string `json:"repo" river:"unique"`
	Branch         string `json:"branch" river:"unique"`
	SHA            string `json:"sha"`
	DefaultBranch  string `json:"default_branch"`
	DeliveryID     string `json:"delivery_id"`
}

func (AnalyzePush) Kind() string { return KindAnalyzePush }

func (j AnalyzePush) Subject() Subject {
	return subject(j.InstallationID, j.Owner, j.Repo, j.DeliveryID)
}

// CoalesceKey is the branch; the queue keeps it in its database, so its
// form is as stable as the JSON.
func (j AnalyzePush) CoalesceKey() string { return "push:" + j.Owner + "/" + j.Repo + ":" + j.Branch }

// AnalyzeRepo analyzes the head of a repository's default branch, for a
// repository the app was just given access to. The webhook does not name a
// commit or the default branch, so the worker resolves both.
type AnalyzeRepo struct {
	InstallationID int64  `json:"installation_id"`
	Owner          string `json:"owner"`
	Repo           string `json:"repo"`
	DeliveryID     string `json:"delivery_id"`
}

func (AnalyzeRepo) Kind() string { return KindAnalyzeRepo }

func (j AnalyzeRepo) Subject() Subject {
	return subject(j.InstallationID, j.Owner, j.Repo, j.DeliveryID)
}

// AnalyzePR reviews a pull request at its head commit. Jobs for the same
// pull request coalesce like AnalyzePush.
type AnalyzePR struct {
	InstallationID   int64  `json:"installation_id"`
	Owner            string `json:"owner" river:"unique"`
	Repo             string `json:"repo" river:"unique"`
	Number           int    `json:"number" river:"unique"`
	HeadSHA          string `json:"head_sha"`
	HeadRef          string `json:"head_ref"`
	BaseRef          string `json:"base_ref"`
	HeadRepoFullName string `json:"head_repo_full_name"`
	Fork             bool   `json:"fork"`
	Action           string `json:"action"`
	DeliveryID       string `json:"delivery_id"`
}

func (AnalyzePR) Kind() string { return KindAnalyzePR }

func (j AnalyzePR) Subject() Subject { return subject(j.InstallationID, j.Owner, j.Repo, j.DeliveryID) }

// CoalesceKey is the pull request, as stable as AnalyzePush's.
func (j AnalyzePR) CoalesceKey() string {
	return "pr:" + j.Owner + "/" + j.Repo + "#" + strconv.Itoa(j.Number)
}

// Comment kinds of Command.CommentKind.
const (
	CommentIssue  = "issue"  // issue_comment: on an issue or a pull request's conversation
	CommentReview = "review" // pull_request_review_comment: on a line of a pull request's diff
)

// Command is a comment that addresses the bot. Intake only notices that the
// bot is addressed; parsing the command and checking the author's
// permission belong to the worker.
type Command struct {
	InstallationID int64  `json:"installation_id"`
	Owner          string `json:"owner"`
	Repo           string `json:"repo"`
	IssueNumber    int    `json:"issue_number"`
	IsPR           bool   `json:"is_pr"`
	CommentID      int64  `json:"comment_id"`
	CommentKind    string `json:"comment_kind"`
	Author         string `json:"author"`
	AuthorType     string `json:"author_type"`
	Body           string `json:"body"`
	DeliveryID     string `json:"delivery_id"`
}

func (Command) Kind() string { return KindCommand }

func (j Command) Subject() Subject { return subject(j.InstallationID, j.Owner, j.Repo, j.DeliveryID) }

// Rerun re-runs dockopt for a commit after someone pressed "Re-run" on a
// check suite or check run, or one of the check run's action buttons (then
// RequestedAction is the button's identifier).
type Rerun struct {
	InstallationID  int64  `json:"installation_id"`
	Owner           string `json:"owner"`
	Repo            string `json:"repo"`
	HeadSHA         string `json:"head_sha"`
	HeadBranch      string `json:"head_branch"`
	CheckRunID      int64  `json:"check_run_id,omitempty"`
	RequestedAction string `json:"requested_action,omitempty"`
	PRNumbers       []int  `json:"pr_numbers,omitempty"`
	DeliveryID      string `json:"delivery_id"`
}

func (Rerun) Kind() string { return KindRerun }

func (j Rerun) Subject() Subject { return subject(j.InstallationID, j.Owner, j.Repo, j.DeliveryID) }

// Pace opens the pull requests whose turn has come on an installation
// (app/pacing) and comes back, snoozed, while others wait in line. One runs
// per installation: jobs for it coalesce.
type Pace struct {
	InstallationID int64  `json:"installation_id" river:"unique"`
	DeliveryID     string `json:"delivery_id"`
}

func (Pace) Kind() string { return KindPace }

func (j Pace) Subject() Subject {
	return Subject{Installation: j.InstallationID, Delivery: j.DeliveryID}
}

// CoalesceKey is the installation, as stable as AnalyzePush's.
func (j Pace) CoalesceKey() string { return "pace:" + strconv.FormatInt(j.InstallationID, 10) }

// Args is what every job value implements: River's JobArgs, and what the
// queue's logs say about the job.
type Args interface {
	Kind() string
	Subject() Subject
}

// Coalescing is implemented by the kinds where only the newest commit
// matters: the jobs of one key run once, on the newest arguments received
// for it. The key is made of the fields tagged `river:"unique"`, which
// River uses to find the job already waiting or running for the key.
type Coalescing interface {
	Args
	CoalesceKey() string
}

// Subject is what logs say a job is about.
type Subject struct {
	Installation int64
	Repository   string // owner/name
	Delivery     string // the delivery that (last) asked for the job
}

func subject(installation int64, owner, repo, delivery string) Subject {
	return Subject{Installation: installation, Repository: owner + "/" + repo, Delivery: delivery}
}
