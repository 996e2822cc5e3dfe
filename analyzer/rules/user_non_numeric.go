package rules

import (
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// UserNonNumeric mirrors hadolint DL3066.
var UserNonNumeric = &analyzer.Rule{
	ID:       "user-non-numeric",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityInfo,
	Title:    "USER names a user instead of a numeric UID",
	Rationale: `A user name is resolved through the image's /etc/passwd, which the host and the orchestrator ` +
		`cannot see. Kubernetes, for one, cannot verify runAsNonRoot for USER app and refuses to start the ` +
		`pod, while USER 10001 can be checked without looking inside the image. root is not reported: it is ` +
		`0 everywhere.`,
	Bad:         "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER app\n",
	Good:        "FROM alpine:3.20\nRUN adduser -D -u 10001 app\nUSER 10001\n",
	Equivalents: []string{"hadolint:DL3066"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		uids := &createdUIDs{}
		lastUser := map[*analyzer.Stage]*analyzer.Instruction{}
		for in := range p.File.Each("USER") {
			if len(in.Args) == 0 {
				continue
			}
			user, group, _ := strings.Cut(in.Args[0], ":")
			if user == "" || user == "root" || strings.Contains(user, "$") || strings.Trim(user, "0123456789") == "" || buildTimeUser(in, lastUser) {
				continue
			}
			msg := "USER " + user + " is a name; the runtime cannot tell whether it is root without the image's /etc/passwd, use its numeric UID"
			if runtimeChangeRefused(p, stageOf(in), in, msg) {
				continue
			}
			var fix *analyzer.Fix
			if strings.Trim(group, "0123456789") != "" {
				// 10001:app would be half numeric: the fix needs the
				// group's GID too, which dockopt does not work out.
				msg += " (no fix: the group " + group + " is a name as well)"
			} else if uid, ok := uids.before(in, user); ok && string(p.File.Source[in.ArgsStart:min(in.ArgsStart+len(user), in.End)]) == user {
				fix = &analyzer.Fix{
					Message: "use " + user + "'s UID " + uid + ", which this Dockerfile gives it",
					Edits:   []analyzer.TextEdit{{Start: in.ArgsStart, End: in.ArgsStart + len(user), New: uid}},
				}
			}
			p.Report(in, msg, fix)
		}
	},
}

// buildTimeUser reports a USER that a later USER of its stage replaces:
// it names the account of the build's RUNs only, never the image's, which
// is what the runtime checks (runAsNonRoot). last holds each stage's last
// USER, found on first use.
func buildTimeUser(in *analyzer.Instruction, last map[*analyzer.Stage]*analyzer.Instruction) bool {
	if in.Stage == nil || in.Onbuild != nil {
		return false
	}
	l, ok := last[in.Stage]
	if !ok {
		for _, x := range in.Stage.Instructions {
			if x.Keyword == "USER" {
				l = x
			}
		}
		last[in.Stage] = l
	}
	return l != in
}

// createdUIDs finds the static UID a RUN earlier in the stage lineage
// gives a user with useradd or adduser: the last one before the USER.
// Each stage is read once, and what a stage's chain ends with is
// remembered, so a file of many USERs and stages stays linear.
type createdUIDs struct {
	own map[*analyzer.Stage]map[string][]createdUIDAt
	end map[*analyzer.Stage]map[string]createdUIDAt
}

// createdUIDAt is a numeric UID given to a user by the instruction at
// Index; found is false for none.
type createdUIDAt struct {
	index int
	uid   string
	found bool
}

func (x *createdUIDs) before(user *analyzer.Instruction, name string) (string, bool) {
	s := user.Stage
	if user.Onbuild != nil || s == nil {
		return "", false
	}
	own := x.stage(s)[name]
	i := sort.Search(len(own), func(i int) bool { return own[i].index >= user.Index })
	if i > 0 {
		return own[i-1].uid, true
	}
	at := x.atEnd(s.BaseStage, name)
	return at.uid, at.found
}

func (x *createdUIDs) atEnd(s *analyzer.Stage, name string) createdUIDAt {
	if s == nil {
		return createdUIDAt{}
	}
	if own := x.stage(s)[name]; len(own) > 0 {
		return own[len(own)-1]
	}
	if at, ok := x.end[s][name]; ok {
		return at
	}
	at := x.atEnd(s.BaseStage, name)
	if x.end == nil {
		x.end = map[*analyzer.Stage]map[string]createdUIDAt{}
	}
	if x.end[s] == nil {
		x.end[s] = map[string]createdUIDAt{}
	}
	x.end[s][name] = at
	return at
}

// stage reads the numeric UIDs a stage's own RUNs give users, in order.
func (x *createdUIDs) stage(s *analyzer.Stage) map[string][]createdUIDAt {
	if m, ok := x.own[s]; ok {
		return m
	}
	m := map[string][]createdUIDAt{}
	for _, in := range s.Instructions {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		for _, c := range in.Script.CommandsNamed("useradd", "adduser") {
			_, pos := analyzer.AccountOptions(c)
			if len(pos) == 0 {
				continue
			}
			if v, ok := useraddUID(c); ok && v != "" && strings.Trim(v, "0123456789") == "" {
				m[pos[0].Value] = append(m[pos[0].Value], createdUIDAt{index: in.Index, uid: v, found: true})
			}
		}
	}
	if x.own == nil {
		x.own = map[*analyzer.Stage]map[string][]createdUIDAt{}
	}
	x.own[s] = m
	return m
}
