package rules

import (
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
		for in := range p.File.Each("USER") {
			if len(in.Args) == 0 {
				continue
			}
			user, _, _ := strings.Cut(in.Args[0], ":")
			if user == "" || user == "root" || strings.Contains(user, "$") || strings.Trim(user, "0123456789") == "" {
				continue
			}
			msg := "USER " + user + " is a name; the runtime cannot tell whether it is root without the image's /etc/passwd, use its numeric UID"
			if runtimeChangeRefused(p, stageOf(in), in, msg) {
				continue
			}
			var fix *analyzer.Fix
			if uid, ok := createdUID(in, user); ok && string(p.File.Source[in.ArgsStart:min(in.ArgsStart+len(user), in.End)]) == user {
				fix = &analyzer.Fix{
					Message: "use " + user + "'s UID " + uid + ", which this Dockerfile gives it",
					Edits:   []analyzer.TextEdit{{Start: in.ArgsStart, End: in.ArgsStart + len(user), New: uid}},
				}
			}
			p.Report(in, msg, fix)
		}
	},
}

// userCreateValued are options of useradd and adduser (shadow, Debian and
// BusyBox) that take a separate value.
var userCreateValued = []string{"-u", "--uid", "-g", "--gid", "-G", "--groups", "-d", "--home-dir", "--home", "-h",
	"-s", "--shell", "-c", "--comment", "--gecos", "-e", "--expiredate", "-f", "--inactive", "-k", "--skel",
	"-K", "--key", "-p", "--password", "-R", "--root", "-Z", "--selinux-user", "--ingroup", "--firstuid", "--lastuid"}

// createdUID finds the static UID a RUN earlier in the stage lineage gives
// the user with useradd or adduser.
func createdUID(user *analyzer.Instruction, name string) (string, bool) {
	s := user.Stage
	if user.Onbuild != nil || s == nil {
		return "", false
	}
	uid, found := "", false
	for _, st := range s.Lineage() {
		for _, in := range st.Instructions {
			if in == user {
				return uid, found
			}
			if in.Keyword != "RUN" || in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("useradd", "adduser") {
				pos := c.Positional(userCreateValued...)
				if len(pos) == 0 || pos[0].Value != name {
					continue
				}
				if v, ok := useraddUID(c); ok && v != "" && strings.Trim(v, "0123456789") == "" {
					uid, found = v, true
				}
			}
		}
	}
	return uid, found
}
