package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// PackageInstallNonRoot finds a RUN that installs packages while the build
// runs as a user other than root: the package manager cannot take its lock
// or write the system's folders, and the build fails.
var PackageInstallNonRoot = &analyzer.Rule{
	ID:       "package-install-non-root",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "RUN installs packages as a user other than root",
	Rationale: `apt-get, apk, dnf, yum, microdnf and zypper change files only root may write (the package database, ` +
		`/usr, their lock files), so they fail with "Permission denied" as any other user, and the build stops. ` +
		`It happens after a USER of the Dockerfile's own, and after FROM an image that sets its own USER: ` +
		`grafana/grafana runs as 472, jenkins/jenkins as jenkins, sonarqube as sonarqube, Bitnami's server ` +
		`images as 1001. Switch to root for the install and back to the image's user after it, as those images' ` +
		`own documentation does. When the RUN comes right after the Dockerfile's own USER and the build ran as ` +
		`root before that USER, the fix moves the USER below the RUN instead.`,
	Bad:       "FROM grafana/grafana:10.4.0\nRUN apk add --no-cache curl\n",
	Good:      "FROM grafana/grafana:10.4.0\nUSER root\nRUN apk add --no-cache curl\nUSER 472\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil || in.Stage == nil || in.Onbuild != nil || !plainRun(in) {
				continue
			}
			sf := p.Facts().Stage(in.Stage)
			user := sf.UserAt(in.StartLine)
			if user.Root() != analyzer.Absent {
				continue
			}
			c, ok := rootOnlyInstall(sf, in.Script, in.Start)
			if !ok {
				continue
			}
			msg := fmt.Sprintf("%s %s runs as %s (%s), and only root may install packages: the build fails with \"Permission denied\"",
				c.Name, firstArg(c), user.Name, user.Why)
			fix := moveUserBelow(p.File, sf, in, user)
			if fix == nil {
				fix = asRootFix(p.File, in, user.Name)
			}
			if fix == nil {
				msg += "; switch to USER root before it and back to " + user.Name + " after it"
			}
			p.Report(in, msg, fix)
		}
	},
}

// rootOnlySubcommands are the package manager operations that write what
// only root may.
var rootOnlySubcommands = map[string][]string{
	"apt-get":  {"install", "update", "upgrade", "dist-upgrade", "remove", "purge", "autoremove"},
	"apt":      {"install", "update", "upgrade", "full-upgrade", "remove", "purge", "autoremove"},
	"apk":      {"add", "del", "update", "upgrade"},
	"dnf":      {"install", "update", "upgrade", "remove", "erase", "reinstall"},
	"yum":      {"install", "update", "upgrade", "remove", "erase", "reinstall"},
	"microdnf": {"install", "update", "upgrade", "remove", "reinstall"},
	"tdnf":     {"install", "update", "upgrade", "remove", "erase", "reinstall"},
	"zypper":   {"install", "in", "update", "up", "remove", "rm", "refresh", "ref"},
}

// userModeFlags let a package manager work on a tree of the user's own
// (apk --root, dnf --installroot) or change where it locks (apt-get -o):
// whether that needs root is not known.
var userModeFlags = []string{"--root", "-p", "--usermode", "--installroot", "-o", "--option", "--config", "-c"}

// rootOnlyInstall returns the first package manager call of the script
// that needs root and fails the RUN when it fails: not behind sudo, gosu
// or su-exec, not a shell function, not `|| true`, and of a manager the
// image has (package-manager-missing reports the others).
func rootOnlyInstall(sf *analyzer.StageFacts, s *analyzer.Script, runStart int) (analyzer.Command, bool) {
	failing := s.FailingCalls()
	for _, c := range s.Commands() {
		ops, managed := rootOnlySubcommands[c.Name]
		if !managed || c.Call == nil || !failing[c.Call] || len(c.Prefix) > 0 || s.CallsFunction(c) {
			continue
		}
		if !slices.Contains(ops, firstArg(c)) || slices.ContainsFunc(c.Args, func(w analyzer.Word) bool {
			flag, _, _ := strings.Cut(w.Value, "=")
			return w.Dynamic || slices.Contains(userModeFlags, flag)
		}) {
			continue
		}
		if sf.ToolAtOffset(runStart, c.Name).Presence == analyzer.Absent {
			// Asked where the RUN starts: after apt-get update && on
			// Alpine, the facts take apt-get install as proof apt-get is
			// there.
			continue
		}
		return c, true
	}
	return analyzer.Command{}, false
}

// firstArg is the command's first word that is not a flag: its operation.
func firstArg(c analyzer.Command) string {
	for _, w := range c.Args {
		if !strings.HasPrefix(w.Value, "-") {
			return w.Value
		}
	}
	return ""
}

// plainRun reports a RUN whose flags cannot change who the commands run
// as or what they write: none, or cache mounts and --network.
func plainRun(in *analyzer.Instruction) bool {
	for _, f := range in.Flags {
		f = strings.TrimLeft(f, "-")
		if !strings.HasPrefix(f, "network") && !strings.HasPrefix(f, "mount=type=cache") {
			return false
		}
	}
	return true
}

// asRootFix runs in as root and gives the build back to user after it:
// USER root before, USER user after, spelled as the stage sets it (the
// image's 472, not a name the fix would guess). A USER right after in
// decides the user anyway, so only USER root is added then. nil when user
// names a variable, which the restoring USER could not be sure to match.
func asRootFix(d *analyzer.Dockerfile, in *analyzer.Instruction, user string) *analyzer.Fix {
	if user == "" || strings.ContainsAny(user, "$ \t") {
		return nil
	}
	keyword := "USER"
	if in.Written != "" && in.Written == strings.ToLower(in.Written) {
		keyword = "user"
	}
	edits := []analyzer.TextEdit{insertLinesBefore(d, in, keyword+" root")}
	msg := "install as root: USER root before the RUN, and back to " + user + " after it"
	if next := nextInStage(in); next == nil || next.Keyword != "USER" {
		edits = append(edits, insertLinesAfter(d, in, keyword+" "+user))
	} else {
		msg = "install as root: USER root before the RUN; the USER on line " + fmt.Sprint(next.StartLine) + " sets the user after it"
	}
	return &analyzer.Fix{Message: msg, Edits: edits}
}

// moveUserBelow is the smaller fix when the RUN comes right after the
// stage's own USER: that USER moves below the RUN, which then runs as the
// user before it. Only when that user is root with its own group (so the
// install writes files as USER root would), nothing but the USER line
// sits between (no comment over it that would stay behind), and no USER
// follows the RUN (then adding USER root alone is smaller); nil otherwise.
func moveUserBelow(d *analyzer.Dockerfile, sf *analyzer.StageFacts, in *analyzer.Instruction, user analyzer.UserFact) *analyzer.Fix {
	prev := prevInStage(in)
	if prev == nil || prev.Keyword != "USER" || prev.StartLine != user.Line || prev.EndLine != prev.StartLine ||
		prev.StartLine+1 != in.StartLine || commentsAbove(d, prev.StartLine) != prev.StartLine {
		return nil
	}
	if next := nextInStage(in); next != nil && next.Keyword == "USER" {
		return nil
	}
	before := sf.UserAt(prev.StartLine)
	if before.Root() != analyzer.Present || strings.Contains(before.Name, ":") {
		return nil
	}
	line := string(d.Source[prev.KeywordStart:prev.ContentEnd(d.Source)])
	return &analyzer.Fix{
		Message: fmt.Sprintf("install as root: move %s from line %d below the RUN, which then runs as root", line, prev.StartLine),
		Edits:   []analyzer.TextEdit{deleteLines(d, prev.StartLine, prev.EndLine), insertLinesAfter(d, in, line)},
	}
}

// prevInStage is the instruction before in in its stage, nil for the
// first.
func prevInStage(in *analyzer.Instruction) *analyzer.Instruction {
	ins := in.Stage.Instructions
	for i, x := range ins {
		if x == in && i > 0 {
			return ins[i-1]
		}
	}
	return nil
}

// nextInStage is the instruction after in in its stage, nil for the last.
func nextInStage(in *analyzer.Instruction) *analyzer.Instruction {
	ins := in.Stage.Instructions
	for i, x := range ins {
		if x == in && i+1 < len(ins) {
			return ins[i+1]
		}
	}
	return nil
}
