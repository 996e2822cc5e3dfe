// Package analyzer turns Dockerfiles and their build contexts into findings.
//
// It is pure and deterministic: it reads from an fs.FS and returns values.
// Rules live in analyzer/rules; this package holds the model they inspect,
// the engine that runs them, and the types they report with.
package analyzer

import (
	"fmt"
	"strings"
)

// Severity orders findings; a lower value is more severe.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
	SeverityInfo
	// SeverityOff disables a rule; it only appears in configuration.
	SeverityOff
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	case SeverityInfo:
		return "info"
	case SeverityOff:
		return "off"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity accepts dockopt's names and hadolint's ("style" maps to info,
// "ignore"/"none" to off) so that configurations carry over.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return SeverityError, nil
	case "warning", "warn":
		return SeverityWarning, nil
	case "info", "style", "note":
		return SeverityInfo, nil
	case "off", "none", "ignore", "false":
		return SeverityOff, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning, info or off)", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Category groups rules by what they protect.
type Category string

const (
	CategorySecurity        Category = "security"
	CategorySize            Category = "size"
	CategoryBuildCache      Category = "build-cache"
	CategoryReliability     Category = "reliability"
	CategoryMaintainability Category = "maintainability"
)

// Categories lists every category in report order.
var Categories = []Category{CategorySecurity, CategorySize, CategoryBuildCache, CategoryReliability, CategoryMaintainability}

// Safety says whether a fix can be applied without a person looking at it.
type Safety string

const (
	// Safe fixes are not expected to change what the image does.
	Safe Safety = "safe"
	// Review fixes change behaviour a person should look at: a new USER,
	// a new base image, a multi-stage split.
	Review Safety = "review"
)

// Allows reports whether a policy that applies fixes up to p includes s.
func (p Safety) Allows(s Safety) bool {
	if p == Review {
		return s == Safe || s == Review
	}
	return s == Safe
}

// TextEdit replaces the bytes [Start, End) of the original file with New.
// Offsets are byte offsets into the file as read, like analysis.TextEdit.
type TextEdit struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	New   string `json:"new"`
}

// GeneratedFile is a file a fix creates or replaces, for example a
// .dockerignore or a config file extracted from an inline RUN echo.
// Path is relative to the analyzed root.
type GeneratedFile struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	// Merge says how to combine with an existing file of that path:
	// "" replaces it only if it does not exist, "append-lines" adds the
	// lines that are missing.
	Merge string `json:"merge,omitempty"`
	// Why says what the file is, for the list of files a change writes
	// ("configuration extracted from an inline RUN ..."); "" lets the
	// patcher describe it from its name.
	Why string `json:"why,omitempty"`
}

// Fix is a rule's proposed change: data, never an action.
type Fix struct {
	Message string          `json:"message"`
	Safety  Safety          `json:"safety"`
	Edits   []TextEdit      `json:"edits,omitempty"`
	Files   []GeneratedFile `json:"files,omitempty"`
}

// Finding is one problem a rule found in one file.
type Finding struct {
	Rule        string   `json:"rule"`
	Category    Category `json:"category"`
	Severity    Severity `json:"severity"`
	Path        string   `json:"path"`
	Line        int      `json:"line"`
	EndLine     int      `json:"end_line"`
	Message     string   `json:"message"`
	Equivalents []string `json:"equivalents,omitempty"`
	Fix         *Fix     `json:"fix,omitempty"`
	// Stage is the index of the stage the finding is in, -1 for the
	// global part of the file.
	Stage int `json:"-"`
	// Withheld names the precondition that kept a fix from being offered
	// (see the Precondition constants); the message says why in words.
	Withheld Precondition `json:"withheld,omitempty"`
	// Group is set when files generated from one template share this
	// finding (see Result.Groups); output that shows each finding once
	// shows the group's lead and skips the findings that Repeat it.
	Group *FindingGroup `json:"-"`
	// advisory findings are reported at info at most: the rule's advice
	// does not apply to this image as it stands (a base image, a dev
	// environment), so it must not fail a build.
	advisory bool
	// repeat marks a member of a group other than its lead.
	repeat bool
	// cannotRun marks a finding that the instruction it is on cannot run
	// as written (a package manager the image does not have): no other
	// rule's fix may edit that instruction (see Pass.ReportCannotRun).
	cannotRun bool
	// base is the message as the rule wrote it, before the engine said
	// why the fix is withheld; groups compare it.
	base string
}

// Repeats reports whether the finding repeats its group's lead: the same
// finding in another file generated from the same template. Output that
// shows each finding once skips it.
func (f Finding) Repeats() bool { return f.repeat }

// CannotRun reports whether the finding says its instruction cannot run
// as written, so that no other fix may edit it.
func (f Finding) CannotRun() bool { return f.cannotRun }

// Precondition is something a fix needs that the model could not
// establish. Findings record it when their fix is withheld, so reports and
// measurements can say, per precondition, which fixes were not offered.
type Precondition string

const (
	// PreconditionRole: runtime changes belong to the final stage of an
	// application image only.
	PreconditionRole Precondition = "role"
	// PreconditionGenerated: the file is generated; its template is the
	// place to change.
	PreconditionGenerated Precondition = "generated"
	// PreconditionTool: a tool, shell or flag the fix needs is not known
	// to exist at that line.
	PreconditionTool Precondition = "tool"
	// PreconditionProtocol: the port's protocol is not known to be the one
	// the fix speaks (an HTTP probe of a database port).
	PreconditionProtocol Precondition = "protocol"
	// PreconditionUser: the entrypoint switches users itself, something
	// later needs root, or the user cannot write what the app writes.
	PreconditionUser Precondition = "user"
	// PreconditionPort: the process binds a port below 1024.
	PreconditionPort Precondition = "port"
	// PreconditionAccount: an account's login shell is in use.
	PreconditionAccount Precondition = "account"
	// PreconditionMount: a cache mount would hide files or collide with the
	// author's mounts and cache flags.
	PreconditionMount Precondition = "mount"
	// PreconditionContext: the build reads a path a generated file would
	// exclude or replace, or the fix names context files and the
	// .dockerignore that decides whether the builder sees them could not
	// be read.
	PreconditionContext Precondition = "context"
	// PreconditionUnknown: a fact the fix needs is unknown (a variable, an
	// unread script).
	PreconditionUnknown Precondition = "unknown"
	// PreconditionLater: a later instruction needs what the fix removes
	// (the apt lists a later RUN installs from).
	PreconditionLater Precondition = "later"
	// PreconditionTemplate: the file is a template of Dockerfiles; what its
	// placeholders become is unknown, so no edit of it can be verified.
	PreconditionTemplate Precondition = "template"
	// PreconditionCannotRun: another finding says the instruction cannot
	// run as written (apt-get on Alpine); an edit of it would polish a
	// line that fails, and may not fit what the line becomes once fixed.
	PreconditionCannotRun Precondition = "cannot-run"
)

// Strength is something a Dockerfile already does well.
type Strength struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}
