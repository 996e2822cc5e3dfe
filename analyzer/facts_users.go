package analyzer

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer/imagedata/contents"
	"mvdan.cc/sh/v3/syntax"
)

func contentsAsOf() string { return contents.AsOf() }

// UserFact is the user something runs as.
type UserFact struct {
	// Name is the user as written ("app", "1000:1000", "root"); "" with
	// Known means root by default.
	Name string
	// Known is false when the base image may set a USER dockopt does not
	// know, or the USER names a variable without a static value.
	Known bool
	// Line is the USER instruction, 0 when the base image decides.
	Line int
	Why  string
}

// Root reports whether the user is root: Present, Absent or Unknown.
func (u UserFact) Root() Presence {
	if !u.Known {
		return Unknown
	}
	if u.Name == "" || IsRootUser(u.Name) {
		return Present
	}
	return Absent
}

// Account is the user part of Name ("app" for "app:app").
func (u UserFact) Account() string {
	name, _, _ := strings.Cut(u.Name, ":")
	if name == "" && u.Known {
		return "root"
	}
	return name
}

func (sf *StageFacts) baseUser() UserFact {
	base := sf.chain[0].Base
	switch {
	case BaseImageUser(base) != "":
		return UserFact{Name: BaseImageUser(base), Known: true, Why: "the base image " + base.Raw + " runs as " + BaseImageUser(base)}
	case sf.imageKnown && sf.image.User != "":
		return UserFact{Name: sf.image.User, Known: true, Why: "the base image " + base.Raw + " sets USER " + sf.image.User + " (dockopt's image table, " + imageTableDate() + ")"}
	case sf.imageKnown || base.IsScratch():
		return UserFact{Known: true, Why: "no USER is set, and the base image " + base.Raw + " runs as root"}
	}
	if officialDistributions[base.Official()] {
		return UserFact{Known: true, Why: "no USER is set, and the base image " + base.Raw + ", an official distribution image, runs as root (distribution images set no USER)"}
	}
	if line, cmd := sf.rootOnlyRun(); line > 0 {
		return UserFact{Known: true, Why: fmt.Sprintf("no USER is set, and the base image %s, which dockopt's table does not know, runs as root: line %d runs %s before any USER, which only root can", base.Raw, line, cmd)}
	}
	return UserFact{Why: "no USER is set, and the base image " + base.Raw + " may set its own (dockopt's table does not know it)"}
}

// officialDistributions are Docker Official Images of distributions that
// dockopt's image table does not describe: like every distribution image
// they set no USER, whatever else they ship.
var officialDistributions = map[string]bool{"rockylinux": true, "almalinux": true, "fedora": true, "amazonlinux": true, "oraclelinux": true, "centos": true}

// rootOnlyCommands change the system in ways only root may: a build step
// running one before any USER shows the base image's user is root, or
// the build would fail.
var rootOnlyCommands = []string{"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "useradd", "groupadd", "adduser", "addgroup"}

// rootOnlyRun returns the first line of the lineage, before any USER,
// whose RUN runs a root-only command without sudo, and that command; 0
// when there is none.
func (sf *StageFacts) rootOnlyRun() (int, string) {
	for _, st := range sf.chain {
		for _, in := range st.Instructions {
			switch {
			case in.Keyword == "USER":
				return 0, ""
			case in.Keyword != "RUN" || in.Script == nil || in.Onbuild != nil:
				continue
			}
			for _, c := range in.Script.CommandsNamed(rootOnlyCommands...) {
				if !slices.ContainsFunc(c.Prefix, func(w Word) bool { return escalates[path.Base(w.Value)] }) {
					return in.StartLine, c.Name
				}
			}
		}
	}
	return 0, ""
}

func (sf *StageFacts) userFromInstruction(in *Instruction, value string) UserFact {
	if strings.Contains(value, "$") || value == "" {
		return UserFact{Name: value, Line: in.StartLine, Why: fmt.Sprintf("USER on line %d names a variable without a static value", in.StartLine)}
	}
	return UserFact{Name: value, Known: true, Line: in.StartLine, Why: fmt.Sprintf("USER %s on line %d", value, in.StartLine)}
}

// UserAt returns the user the instruction at line runs as (0: the user the
// container starts as).
func (sf *StageFacts) UserAt(line int) UserFact {
	return sf.stepAt(sf.offsetOfLine(line)).user
}

// RunUser returns the user the container's process starts as.
func (sf *StageFacts) RunUser() UserFact { return sf.endUser }

// ownerOf is the owner new files get when user creates them.
func ownerOf(u UserFact) string {
	if !u.Known {
		return ""
	}
	return u.Account()
}

// accountEvent is an account created or deleted at an offset.
type accountEvent struct {
	offset, line int
	name         string
	presence     Presence
	// shell is the login shell given explicitly, "" for the default.
	shell string
	why   string
}

// UserExistsAt reports whether an account exists when the instruction at
// line starts (0: in the finished stage), and why.
func (sf *StageFacts) UserExistsAt(line int, name string) (Presence, string) {
	off := sf.offsetOfLine(line)
	name, _, _ = strings.Cut(name, ":")
	p, why := sf.baseAccount(name)
	for _, e := range sf.accounts {
		if e.offset >= off {
			break
		}
		if e.name == name {
			p, why = e.presence, e.why
		}
	}
	return p, why
}

// UsersAt lists the accounts known to exist when the instruction at line
// starts (0: in the finished stage): the base image's and those created.
func (sf *StageFacts) UsersAt(line int) []string {
	var out []string
	seen := map[string]bool{}
	candidates := append([]string{"root"}, sf.image.Users...)
	for _, e := range sf.accounts {
		candidates = append(candidates, e.name)
	}
	for _, n := range candidates {
		if seen[n] {
			continue
		}
		seen[n] = true
		if p, _ := sf.UserExistsAt(line, n); p == Present {
			out = append(out, n)
		}
	}
	return out
}

// numericID reports a user written as a number (the regular expression
// ^\d+$, without its cost: every account question of a stage asks it).
func numericID(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return false
		}
	}
	return name != ""
}

func (sf *StageFacts) baseAccount(name string) (Presence, string) {
	base := sf.chain[0].Base.Raw
	switch {
	case numericID(name):
		return Present, "a numeric user ID needs no account"
	case sf.distro.Family == DistroScratch:
		return Absent, "scratch has no /etc/passwd: only numeric IDs work"
	case sf.imageKnown && sf.image.HasUser(name):
		return Present, base + " has the account " + name + " (dockopt's image table, " + imageTableDate() + ")"
	case sf.imageKnown:
		return Absent, base + " is not known to have an account " + name + " (dockopt's image table, " + imageTableDate() + ")"
	case name == "root" && sf.distro.Family != "" && sf.distro.Family != DistroWindows:
		return Present, "every Linux image has root"
	}
	return Unknown, "dockopt does not know the accounts of " + base
}

// userLongValued are the long options of useradd, usermod, adduser
// (BusyBox and Debian) and chsh that take a value.
var userLongValued = []string{"--base-dir", "--comment", "--home-dir", "--home", "--expiredate", "--inactive",
	"--gid", "--groups", "--skel", "--key", "--password", "--shell", "--uid", "--root", "--prefix",
	"--selinux-user", "--selinux-range", "--gecos", "--ingroup", "--firstuid", "--lastuid", "--firstgid",
	"--lastgid", "--conf", "--login", "--add-subuids", "--del-subuids", "--add-subgids", "--del-subgids"}

// groupLongValued are the long options of groupadd, groupmod and
// addgroup that take a value.
var groupLongValued = []string{"--gid", "--key", "--password", "--root", "--prefix", "--new-name", "--users", "--firstgid", "--lastgid", "--conf"}

// accountTools are, by command, the options of the account tools that
// take a value: short ones as getopt letters, then long ones. shadow's
// useradd, usermod, groupadd and groupmod; BusyBox's adduser and addgroup
// (Debian's take long options only); chsh.
var accountTools = map[string]struct {
	short string
	long  []string
}{
	"useradd":  {"bcdefgGkKpPRsuZ", userLongValued},
	"usermod":  {"cdefgGlpPRsuvVwWZ", userLongValued},
	"adduser":  {"hgsGuk", userLongValued},
	"chsh":     {"sR", userLongValued},
	"groupadd": {"gKpRP", groupLongValued},
	"groupmod": {"gnpRP", groupLongValued},
	"addgroup": {"g", groupLongValued},
}

// AccountOptions reads the command line of an account tool (useradd,
// adduser, usermod, chsh, groupadd, groupmod, addgroup; another is read
// as useradd) as the tool does, clusters of short options included
// (-ms /bin/bash is -m and -s /bin/bash; -lmu 10 is -l, -m and -u 10;
// -rg 1000 is -r and -g 1000): its options, and its positional arguments,
// whose first is the account or group useradd, adduser and groupadd
// create and whose last the one usermod, chsh and groupmod change.
func AccountOptions(c Command) (opts []Option, positional []Word) {
	t, ok := accountTools[c.Name]
	if !ok {
		t = accountTools["useradd"]
	}
	return c.Options(t.short, t.long...)
}

// CreatedAccount returns the account a useradd/adduser creates and the
// shell it was given explicitly; ok is false when the command creates no
// account whose name is known here.
func CreatedAccount(c Command) (name, shell string, ok bool) {
	opts, pos := AccountOptions(c)
	if len(pos) == 0 || pos[0].Dynamic {
		return "", "", false
	}
	if c.Name == "adduser" && len(pos) == 2 {
		// `adduser [--quiet] user group` adds an existing user to a group,
		// in Debian's adduser and BusyBox's alike.
		return "", "", false
	}
	if o, found := LastOption(opts, "-s", "--shell"); found {
		shell = o.Value.Value
	}
	return pos[0].Value, shell, true
}

// runAccounts records accounts a RUN creates or deletes, and where it
// uses accounts through their login shell.
func (sf *StageFacts) runAccounts(in *Instruction, cmds []Command, script *Script) {
	for _, c := range cmds {
		off := commandEnd(in, c)
		line := in.StartLine
		if c.Start >= 0 {
			line = sf.facts.file.Line(c.Start)
		}
		switch c.Name {
		case "useradd", "adduser":
			name, shell, ok := CreatedAccount(c)
			if !ok {
				continue
			}
			sf.accounts = append(sf.accounts, accountEvent{offset: off, line: line, name: name, presence: Present, shell: shell, why: fmt.Sprintf("line %d creates it with %s", line, c.Name)})
			if shell != "" {
				sf.uses = append(sf.uses, AccountUse{User: name, How: "created with the explicit shell " + shell, Line: line})
			}
		case "userdel", "deluser":
			if pos := c.Positional(); len(pos) > 0 && !pos[0].Dynamic {
				sf.accounts = append(sf.accounts, accountEvent{offset: off, line: line, name: pos[0].Value, presence: Absent, why: fmt.Sprintf("line %d deletes it with %s", line, c.Name)})
			}
		case "usermod", "chsh":
			if name, shell := shellChange(c); name != "" {
				sf.uses = append(sf.uses, AccountUse{User: name, How: c.Name + " sets its shell to " + shell, Line: line})
			}
		}
		for _, u := range loginUses(c) {
			u.Line = line
			sf.uses = append(sf.uses, u)
		}
	}
	for _, a := range passwdAppends(script) {
		off := in.End
		sf.accounts = append(sf.accounts, accountEvent{offset: off, line: in.StartLine, name: a.name, presence: Present, shell: a.shell,
			why: fmt.Sprintf("line %d appends it to /etc/passwd", in.StartLine)})
	}
	if script != nil && script.File != nil {
		sf.scanSSHConfig(script.Src, "", in.StartLine)
	}
}

// shellChange reads `usermod -s SHELL user` and `chsh -s SHELL user`.
func shellChange(c Command) (name, shell string) {
	opts, pos := AccountOptions(c)
	if o, found := LastOption(opts, "-s", "--shell"); found {
		shell = o.Value.Value
	}
	if shell == "" || len(pos) == 0 || pos[len(pos)-1].Dynamic {
		return "", ""
	}
	return pos[len(pos)-1].Value, shell
}

// loginUses finds commands that run something through an account's
// login shell: `su [-] user -c …`, `su -c … user`, `runuser -l user`.
func loginUses(c Command) []AccountUse {
	switch c.Name {
	case "su":
		pos := c.Positional("-c", "--command", "-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w", "--whitelist-environment")
		for _, p := range pos {
			if p.Value != "-" && !p.Dynamic {
				return []AccountUse{{User: p.Value, How: "su runs commands through its login shell"}}
			}
		}
	case "runuser":
		for i, a := range c.Args {
			if (a.Value == "-l" || a.Value == "--login") && i+1 < len(c.Args) && !c.Args[i+1].Dynamic {
				return []AccountUse{{User: c.Args[i+1].Value, How: "runuser -l starts its login shell"}}
			}
		}
	}
	return nil
}

type passwdLine struct{ name, shell string }

// passwdAppends finds `echo 'name:x:…' >> /etc/passwd` lines.
func passwdAppends(s *Script) []passwdLine {
	if s == nil || s.File == nil {
		return nil
	}
	var out []passwdLine
	syntax.Walk(s.File, func(n syntax.Node) bool {
		st, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		toPasswd := false
		for _, r := range st.Redirs {
			if r.Word != nil {
				if v, _ := staticWord(r.Word); v == "/etc/passwd" && (r.Op == syntax.AppOut || r.Op == syntax.RdrOut) {
					toPasswd = true
				}
			}
		}
		call, ok := st.Cmd.(*syntax.CallExpr)
		if !toPasswd || !ok || len(call.Args) < 2 {
			return true
		}
		for _, w := range call.Args[1:] {
			v, _ := staticWord(w)
			for _, l := range strings.Split(strings.ReplaceAll(v, `\n`, "\n"), "\n") {
				f := strings.Split(l, ":")
				if len(f) == 7 && f[0] != "" {
					out = append(out, passwdLine{f[0], f[6]})
				}
			}
		}
		return true
	})
	return out
}

// AccountUse is a place where an account's login shell or existence
// matters beyond USER: su, runuser -l, sshd, an explicitly chosen shell.
type AccountUse struct {
	User string
	How  string
	// Line is the Dockerfile line; in a script or configuration file read
	// from the build context, the line there, with Path naming the file.
	Line int
	Path string
}

// AccountUses lists where the stage uses accounts through their shells,
// including its entrypoint script and sshd configuration.
func (sf *StageFacts) AccountUses() []AccountUse {
	out := append([]AccountUse(nil), sf.uses...)
	ep := sf.Entrypoint()
	out = append(out, ep.uses...)
	if t := sf.Tool(0, "sshd"); t.Presence == Present || ep.runsSSHD {
		if p, _ := sf.UserExistsAt(0, "git"); p == Present {
			out = append(out, AccountUse{User: "git", How: "sshd serves a git account, whose forced commands run through its shell"})
		}
	}
	return out
}

var (
	// The keywords may start a line of a configuration file or sit in a
	// quoted string a RUN echoes into one.
	sshKeysCommandUser = regexp.MustCompile(`(?m)(?:^|[\s'"])AuthorizedKeysCommandUser\s+([^\s'"#]+)`)
	sshKeysCommand     = regexp.MustCompile(`(?m)(?:^|[\s'"])AuthorizedKeysCommand\s+([^\s'"#]+)`)
	sshAllowUsers      = regexp.MustCompile(`(?m)(?:^|[\s'"])(?:AllowUsers|Match\s+User)\s+([^\n#'"]+)`)
)

// scanSSHConfig records accounts an sshd configuration text (a file
// from the build context, or a RUN that writes one) makes sshd use.
func (sf *StageFacts) scanSSHConfig(text, file string, line int) {
	if !strings.Contains(text, "AuthorizedKeysCommand") && !strings.Contains(text, "AllowUsers") && !strings.Contains(text, "Match User") {
		return
	}
	lineOf := func(i int) int {
		if file == "" {
			return line
		}
		return 1 + strings.Count(text[:i], "\n")
	}
	for _, m := range sshKeysCommandUser.FindAllStringSubmatchIndex(text, -1) {
		sf.uses = append(sf.uses, AccountUse{User: text[m[2]:m[3]], How: "sshd runs AuthorizedKeysCommand as this account", Line: lineOf(m[0]), Path: file})
	}
	if m := sshKeysCommand.FindStringSubmatchIndex(text); m != nil && sshKeysCommandUser.FindStringIndex(text) == nil {
		sf.uses = append(sf.uses, AccountUse{User: "nobody", How: "sshd runs AuthorizedKeysCommand (as nobody unless AuthorizedKeysCommandUser says)", Line: lineOf(m[0]), Path: file})
	}
	for _, m := range sshAllowUsers.FindAllStringSubmatchIndex(text, -1) {
		for _, u := range strings.Fields(strings.ReplaceAll(text[m[2]:m[3]], ",", " ")) {
			u, _, _ = strings.Cut(u, "@")
			sf.uses = append(sf.uses, AccountUse{User: u, How: "sshd lets this account log in", Line: lineOf(m[0]), Path: file})
		}
	}
}

// EntrypointFact says how the container starts and whether its start
// switches users by itself.
type EntrypointFact struct {
	// Command is ENTRYPOINT then CMD as the stage sets them; nil when the
	// base image's apply.
	Command []string
	// Script is the entrypoint script's path in the repository when it
	// was read from the build context (or "Dockerfile" for a heredoc).
	Script string
	// SwitchesUser is Present when the start drops root by itself (gosu,
	// su-exec, setpriv, runuser, su -c, chpst, s6-setuidgid, runit or
	// s6-overlay's init, a server's own worker user), Absent when what
	// starts was read and does not, Unknown otherwise.
	SwitchesUser Presence
	// How names the mechanism; Line is where, in Script when set, else in
	// the Dockerfile.
	How  string
	Line int
	// NeedsRoot is Present when the start must run as root for another
	// reason: docker-in-docker's daemon.
	NeedsRoot Presence
	Why       string

	uses     []AccountUse
	runsSSHD bool
}

// switchCommands drop privileges for the command they run.
var switchCommands = map[string]string{
	"gosu": "gosu", "su-exec": "su-exec", "setpriv": "setpriv", "runuser": "runuser", "chpst": "chpst (runit)",
	"s6-setuidgid": "s6-setuidgid", "setuidgid": "setuidgid", "s6-applyuidgid": "s6-applyuidgid",
}

// switchTool reports whether a command switches users, given the words
// after its name: how names the mechanism and tool what the reasons call
// the command. It is one of switchCommands, or chroot with --userspec, which
// changes user (and root directory, often just /) before it runs the
// command. A plain chroot, or one to root (--userspec=0, +0 or root), does
// not drop privileges. drops is Unknown for a --userspec whose user comes
// from an expansion ("${PUID:-0}:${PGID:-0}", "$USER"): it may well be root,
// and user is then the value as written.
func switchTool(name string, args []Word) (how, tool, user string, drops Presence) {
	b := path.Base(name)
	if how, ok := switchCommands[b]; ok {
		return how, b, "", Present
	}
	if b != "chroot" {
		return "", "", "", Absent
	}
	for i := 0; i < len(args) && strings.HasPrefix(args[i].Value, "-"); i++ {
		opt, spec, hasValue := strings.Cut(args[i].Value, "=")
		// getopt_long takes an unambiguous prefix: --u is --userspec.
		if len(opt) < 3 || !strings.HasPrefix("--userspec", opt) {
			continue
		}
		dynamic := args[i].Dynamic
		if !hasValue {
			if i+1 >= len(args) {
				return "", "", "", Absent
			}
			i++
			spec, dynamic = args[i].Value, args[i].Dynamic
		}
		if dynamic || strings.Contains(spec, "$") {
			return "chroot --userspec", "chroot --userspec", spec, Unknown
		}
		u, _, _ := strings.Cut(spec, ":")
		if uid := strings.TrimPrefix(u, "+"); u == "" || u == "root" || uid != "" && strings.Trim(uid, "0") == "" {
			return "", "", "", Absent
		}
		return "chroot --userspec", "chroot --userspec", u, Present
	}
	return "", "", "", Absent
}

// unknownSwitchWhy is the reason for a chroot --userspec whose user comes
// from a variable: whether it drops root is not known, and chroot itself
// needs root, so a USER would break the start either way.
func unknownSwitchWhy(where, user string) string {
	return fmt.Sprintf("%s runs chroot --userspec with the user %s, which comes from a variable that may name root, so dockopt cannot tell whether the start drops privileges; chroot itself needs root", where, user)
}

// literalWords are words as a Dockerfile's exec form passes them: no
// expansion, but a $ in one is a variable a shell form would expand.
func literalWords(words []string) []Word {
	out := make([]Word, len(words))
	for i, w := range words {
		out[i] = Word{Value: w, Dynamic: strings.Contains(w, "$")}
	}
	return out
}

// escalates are the commands that make the rest of a start run as root:
// under a USER they fail unless the image configures them for that user.
var escalates = map[string]bool{"sudo": true, "doas": true}

// initSystems start services under their own users.
var initSystems = map[string]string{
	"my_init": "runit's boot (phusion baseimage's my_init)", "runsvdir": "runit's runsvdir", "init": "s6-overlay's /init",
	"s6-svscan": "s6-svscan", "boot": "runit's boot script",
}

// linuxServerImage reports an image of LinuxServer.io's: their base
// images (ghcr.io/linuxserver/baseimage-*, lsiobase/* before) and the
// application images built on them (lscr.io/linuxserver/*, mirrored on
// ghcr.io and Docker Hub). All start with s6-overlay's /init, as
// linuxserver/docker-baseimage-alpine's Dockerfile sets it, whose service
// scripts run as abc, renumbered from PUID and PGID.
func linuxServerImage(r ImageRef) bool {
	repo := strings.ToLower(r.Repository)
	switch strings.ToLower(r.Registry) {
	case "lscr.io", "ghcr.io":
		return strings.HasPrefix(repo, "linuxserver/")
	case "docker.io":
		return strings.HasPrefix(repo, "linuxserver/") || strings.HasPrefix(repo, "lsiobase/")
	}
	return false
}

func linuxServerStart(base string) string {
	return fmt.Sprintf("the base image %s is a LinuxServer.io image, whose ENTRYPOINT is s6-overlay's /init: it prepares the container as root and starts each service as its own user (abc, from PUID and PGID)", base)
}

// Entrypoint reads the stage's start: the ENTRYPOINT/CMD words, and the
// entrypoint script from the build context when a COPY put it in the image.
func (sf *StageFacts) Entrypoint() EntrypointFact {
	sf.entryOnce.Do(func() { sf.entry = sf.readEntrypoint() })
	return sf.entry
}

func (sf *StageFacts) readEntrypoint() EntrypointFact {
	words := sf.denoStart(sf.StartCommand())
	ep := EntrypointFact{Command: words}
	entry, cmd, entryLine, cmdLine := sf.startInstructions()
	line := entryLine
	if line == 0 {
		line = cmdLine
	}
	if len(words) == 0 || (entry == nil && cmd == nil) {
		base := sf.chain[0].Base.Raw
		switch {
		case sf.imageKnown && sf.image.DropsPrivileges != "":
			ep.SwitchesUser, ep.How, ep.Why = Present, sf.image.DropsPrivileges, fmt.Sprintf("the base image %s starts as root on purpose: %s (dockopt's image table, %s)", base, sf.image.DropsPrivileges, imageTableDate())
		case sf.imageKnown:
			ep.SwitchesUser, ep.Why = Absent, fmt.Sprintf("the base image %s's own start is used, which does not switch users (dockopt's image table, %s)", base, imageTableDate())
		case linuxServerImage(sf.chain[0].Base):
			ep.SwitchesUser, ep.How, ep.Why = Present, initSystems["init"], linuxServerStart(base)
		default:
			ep.Why = "the base image " + base + " decides how the container starts, and dockopt does not know it"
		}
		if sf.chain[0].Base.Name() == "docker" && strings.Contains(sf.chain[0].Base.Tag, "dind") {
			ep.NeedsRoot = Present
		}
		return ep
	}
	// An ENTRYPOINT kept from the base image with a new CMD still runs.
	if entry == nil && sf.imageKnown && sf.image.DropsPrivileges != "" && !startsDirectly(words) {
		ep.SwitchesUser, ep.How, ep.Line = Present, sf.image.DropsPrivileges, line
		ep.Why = fmt.Sprintf("the base image's entrypoint is kept and %s", sf.image.DropsPrivileges)
		return ep
	}
	if entry == nil && linuxServerImage(sf.chain[0].Base) && !startsDirectly(words) {
		ep.SwitchesUser, ep.How, ep.Line = Present, initSystems["init"], line
		ep.Why = linuxServerStart(sf.chain[0].Base.Raw)
		return ep
	}
	entryWords := 0
	if entry != nil {
		entryWords = len(cmdWords(entry))
	}
	for i, w := range words {
		b := path.Base(w)
		// Name the instruction that holds the word: sudo in the CMD is
		// not on the ENTRYPOINT's line.
		line := line
		if i >= entryWords && cmdLine != 0 {
			line = cmdLine
		}
		if escalates[b] {
			ep.NeedsRoot, ep.Line = Present, line
			ep.Why = fmt.Sprintf("the start command on line %d runs %s, which another user can run only with an entry in %s's configuration", line, b, b)
			return ep
		}
		switch how, tool, user, drops := switchTool(w, literalWords(words[i+1:])); drops {
		case Present:
			ep.SwitchesUser, ep.How, ep.Line, ep.Why = Present, how, line, fmt.Sprintf("the start command on line %d runs %s", line, tool)
			return ep
		case Unknown:
			ep.SwitchesUser, ep.NeedsRoot, ep.How, ep.Line = Unknown, Present, how, line
			ep.Why = unknownSwitchWhy(fmt.Sprintf("the start command on line %d", line), user)
			return ep
		}
		if how, ok := initSystems[b]; ok && (b != "init" || w == "/init") {
			ep.SwitchesUser, ep.How, ep.Line, ep.Why = Present, how, line, fmt.Sprintf("the start command on line %d runs %s, which starts each service as its own user", line, how)
			return ep
		}
		if b == "dockerd-entrypoint.sh" || b == "dockerd" {
			ep.NeedsRoot, ep.SwitchesUser, ep.Line = Present, Absent, line
			ep.Why = fmt.Sprintf("the start command on line %d runs the Docker daemon, which needs root (docker-in-docker)", line)
			return ep
		}
		if b == "sshd" {
			ep.runsSSHD = true
		}
	}
	// The program that starts: the first word, or what a shell runs,
	// behind an init that only forwards signals (tini -- /entrypoint.sh).
	words = withoutInit(words)
	if len(words) == 0 {
		ep.SwitchesUser, ep.Line = Absent, line
		ep.Why = fmt.Sprintf("the start command on line %d runs only an init", line)
		return ep
	}
	prog := words[0]
	if isShellName(path.Base(prog)) && len(words) > 1 {
		if words[1] == "-c" && len(words) > 2 {
			sf.readScript(&ep, "Dockerfile", strings.Join(words[2:], " "))
			if ep.SwitchesUser != Present {
				ep.Line = line
			}
			return ep
		}
		prog = words[1]
	}
	if name, d, ok := rootDaemonOf(prog, words[1:]); ok {
		ep.Line = line
		if slices.ContainsFunc(words, startsAnother) {
			// CMD cron && node server.js: the service starts after the
			// daemon, as root, and the daemon needs root.
			ep.NeedsRoot, ep.SwitchesUser = Present, Absent
			ep.Why = fmt.Sprintf("the start command on line %d starts %s, and then the service as root", line, d.why)
			return ep
		}
		if d.drops {
			ep.SwitchesUser, ep.How = Present, name
		} else {
			ep.NeedsRoot = Present
		}
		ep.Why = fmt.Sprintf("the start command on line %d runs %s", line, d.why)
		return ep
	}
	if src, text, ok := sf.entrypointScript(prog); ok {
		ep.Script = src
		sf.readScript(&ep, src, text)
		return ep
	}
	if looksLikeScript(prog) && !sf.places(prog) && sf.baseScript(prog) {
		// A script the Dockerfile does not put there is the base image's
		// own (catalina.sh, docker-entrypoint.sh), which the table knows.
		base := sf.chain[0].Base.Raw
		ep.Line = line
		if sf.image.DropsPrivileges != "" {
			ep.SwitchesUser, ep.How = Present, sf.image.DropsPrivileges
			ep.Why = fmt.Sprintf("%s is the base image %s's own, and that image starts as root on purpose: %s (dockopt's image table, %s)", prog, base, sf.image.DropsPrivileges, imageTableDate())
		} else {
			ep.SwitchesUser = Absent
			ep.Why = fmt.Sprintf("%s is the base image %s's own, and that image's start does not switch users (dockopt's image table, %s)", prog, base, imageTableDate())
		}
		return ep
	}
	if looksLikeScript(prog) {
		ep.Why = fmt.Sprintf("the start command on line %d runs %s, which dockopt could not read from the build context", line, prog)
		return ep
	}
	if i := slices.IndexFunc(words, func(w string) bool { return path.Base(w) == "httpd" }); i >= 0 && sf.busyboxHTTPD(words, i) {
		// busybox's httpd is not Apache: it has no workers of another
		// user, and leaves root only when -u names the user to become.
		ep.Line = line
		if u := busyboxHTTPDUser(words[i+1:]); u != "" {
			ep.SwitchesUser, ep.How = Present, "busybox httpd -u"
			ep.Why = fmt.Sprintf("the start command on line %d runs busybox httpd -u %s, which binds its port as root and then runs as %s", line, u, u)
		} else {
			ep.SwitchesUser = Absent
			ep.Why = fmt.Sprintf("the start command on line %d runs busybox httpd, which switches users only when -u names one, and no -u is given", line)
		}
		return ep
	}
	if nginxOrApache(words) != "" {
		ep.SwitchesUser, ep.How, ep.Line = Present, nginxOrApache(words), line
		ep.Why = fmt.Sprintf("the start command on line %d runs %s, which starts as root and runs its workers as an unprivileged user", line, nginxOrApache(words))
		return ep
	}
	ep.SwitchesUser, ep.Line = Absent, line
	ep.Why = fmt.Sprintf("the start command on line %d (%s) runs the process directly", line, strings.Join(words, " "))
	return ep
}

// startsAnother reports whether a word of a shell-form start command
// separates it from a command that runs next (&&, ||, ;, &, |).
func startsAnother(w string) bool {
	switch w {
	case "&&", "||", ";", "&", "|":
		return true
	}
	return strings.HasSuffix(w, ";")
}

// rootDaemon is a system daemon that must be started as root.
type rootDaemon struct {
	// drops is set when it leaves root by itself for the work it does
	// (the start is root by design); otherwise it stays root.
	drops bool
	why   string
}

// rootDaemons are system daemons, by program name, that must be started
// as root: their distribution packages give the logs, spool and pid
// paths to root or to the daemon's own account, and they switch to the
// users they serve themselves. Under a USER they cannot start.
var rootDaemons = map[string]rootDaemon{
	"squid":    {true, "squid, which starts as root and runs as its cache_effective_user (proxy or squid, from its package), the owner of the log, cache and pid paths the package creates"},
	"cron":     {true, "cron, which runs as root to start each crontab's jobs as the crontab's owner"},
	"crond":    {true, "crond, which runs as root to start each crontab's jobs as the crontab's owner"},
	"sshd":     {true, "sshd, which runs as root to start each login as the account that logs in"},
	"postfix":  {true, "postfix, whose master runs as root and starts its daemons as postfix (mail_owner)"},
	"dovecot":  {true, "dovecot, whose master runs as root and starts its login and mail processes as dovenull, dovecot and the mail users"},
	"rsyslogd": {false, "rsyslogd, which must start as root to create /dev/log and write the logs its package owns"},
}

// rootDaemonOf reports whether a command starts one of rootDaemons:
// itself, as a busybox applet (busybox crond -f), or through
// `service NAME start`.
func rootDaemonOf(prog string, args []string) (string, rootDaemon, bool) {
	name := path.Base(prog)
	switch {
	case name == "busybox" && len(args) > 0:
		name = args[0]
	case name == "service" && len(args) > 1 && args[1] == "start":
		name = args[0]
	}
	d, ok := rootDaemons[name]
	return name, d, ok
}

// initWrappers run the rest of the command as their child, as the same
// user: what starts is the command after them.
var initWrappers = map[string]bool{"tini": true, "tini-static": true, "dumb-init": true, "docker-init": true, "catatonit": true}

// withoutInit drops an init wrapper and its options from the front of a
// start command.
func withoutInit(words []string) []string {
	if len(words) == 0 || !initWrappers[path.Base(words[0])] {
		return words
	}
	rest := words[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		if rest[0] == "--" {
			return rest[1:]
		}
		rest = rest[1:]
	}
	return rest
}

// InheritedEntrypoint returns the ENTRYPOINT the stage's CMD runs
// through when its lineage sets none: the base image's own, which an
// ENTRYPOINT added to the stage would replace. set is true when the
// lineage sets one itself (words is then nil); known is false when
// dockopt's table does not say what the base image's is.
func (sf *StageFacts) InheritedEntrypoint() (words []string, set, known bool, why string) {
	if entry, _, line, _ := sf.startInstructions(); entry != nil {
		return nil, true, true, fmt.Sprintf("line %d sets the ENTRYPOINT", line)
	}
	base := sf.chain[0].Base
	switch {
	case base.IsScratch():
		return nil, false, true, "scratch has no ENTRYPOINT"
	case sf.imageKnown && sf.image.EntrypointKnown && len(sf.image.Entrypoint) == 0:
		return nil, false, true, fmt.Sprintf("the base image %s sets no ENTRYPOINT (dockopt's image table, %s)", base.Raw, imageTableDate())
	case sf.imageKnown && sf.image.EntrypointKnown:
		return sf.image.Entrypoint, false, true, fmt.Sprintf("the base image %s runs its CMD through its ENTRYPOINT %s (dockopt's image table, %s)",
			base.Raw, strings.Join(sf.image.Entrypoint, " "), imageTableDate())
	}
	return nil, false, false, fmt.Sprintf("dockopt does not know whether the base image %s sets an ENTRYPOINT", base.Raw)
}

// baseScript reports whether a start script the Dockerfile does not put
// in the image is known to come with the base image: its own ENTRYPOINT
// (docker-entrypoint.sh), or the start script of a server the base image
// runs (tomcat's catalina.sh). A bare distribution ships no such script:
// whatever put it there (a download, an archive) was not read.
func (sf *StageFacts) baseScript(word string) bool {
	if !sf.imageKnown {
		return false
	}
	b := path.Base(word)
	for _, w := range sf.image.Entrypoint {
		if path.Base(w) == b {
			return true
		}
	}
	base := sf.chain[0].Base.Name()
	for _, s := range servers {
		if !contains(s.images, base) {
			continue
		}
		if contains(s.commands, b) {
			return true
		}
	}
	return false
}

func startsDirectly(words []string) bool {
	return len(words) > 0 && strings.HasPrefix(words[0], "/") && !looksLikeScript(words[0])
}

func looksLikeScript(w string) bool {
	b := path.Base(w)
	return strings.HasSuffix(b, ".sh") || strings.Contains(b, "entrypoint") || strings.HasPrefix(b, "start") || strings.HasPrefix(b, "run")
}

// busyboxHTTPD reports whether the httpd at words[i] is busybox's applet
// rather than Apache's: run as `busybox httpd`, in a busybox image, or
// given an option only busybox's has (-p PORT, -u USER, -h DIR; Apache's
// httpd has no -p or -u, and its -h only prints help).
func (sf *StageFacts) busyboxHTTPD(words []string, i int) bool {
	if (i > 0 && path.Base(words[i-1]) == "busybox") || sf.distro.Family == DistroBusybox {
		return true
	}
	for _, w := range words[i+1:] {
		if w == "-p" || w == "-h" || strings.HasPrefix(w, "-u") {
			return true
		}
	}
	return false
}

// busyboxHTTPDUser returns the user busybox httpd's -u USER[:GROUP]
// switches to, "" without one.
func busyboxHTTPDUser(args []string) string {
	for j, a := range args {
		switch {
		case a == "-u" && j+1 < len(args):
			return args[j+1]
		case strings.HasPrefix(a, "-u") && len(a) > 2:
			return a[2:]
		}
	}
	return ""
}

func nginxOrApache(words []string) string {
	for _, w := range words {
		switch path.Base(w) {
		case "nginx", "openresty":
			return "nginx"
		case "httpd", "apache2", "apache2-foreground", "apachectl":
			return "Apache httpd"
		}
	}
	return ""
}

// entrypointScript finds the file a start word names among the files the
// lineage copies from the build context, and reads it (bounded).
func (sf *StageFacts) entrypointScript(word string) (src, text string, ok bool) {
	var target string
	switch {
	case strings.HasPrefix(word, "/"):
		target = path.Clean(word)
	case strings.Contains(word, "/"):
		target = resolveIn(sf.endDir, word)
	}
	src, text, pf, ok := sf.placedText(func(pf PlacedFile) bool {
		if target == "" {
			return path.Base(pf.Path) == word && sf.binDirs[path.Dir(pf.Path)]
		}
		return pf.Path == target
	})
	if !ok && pf.Path == "" && target != "" {
		// No COPY names the file: it may have come with a whole folder
		// (WORKDIR /app, COPY . ., ENTRYPOINT ["./entrypoint.sh"]).
		src, text, ok = sf.copiedDirText(target)
	}
	return src, text, ok
}

// copiedDirText reads the file at target from the build context when the
// last folder the lineage copies whole over it holds it, and the
// .dockerignore lets it through (bounded, like every read).
func (sf *StageFacts) copiedDirText(target string) (src, text string, ok bool) {
	ctx := sf.facts.ctx
	for i := len(sf.copiedDirs) - 1; i >= 0; i-- {
		cd := sf.copiedDirs[i]
		rel, under := strings.CutPrefix(target, strings.TrimSuffix(cd.path, "/")+"/")
		if !under || rel == "" {
			continue
		}
		p := path.Join(cd.context, rel)
		if !ctx.Has(p) || (ctx.DockerIgnore != nil && ctx.DockerIgnore.Excludes(p)) {
			// Not there, or not sent: an earlier folder copy may hold it.
			continue
		}
		src, text, _, ok := sf.readPlaced(PlacedFile{Path: target, Context: p})
		return src, text, ok
	}
	return "", "", false
}

// placedText reads the file the lineage last put where match says: from
// the build context (src is its path there) or a heredoc (src is
// "Dockerfile"). ok is false when that file is not known, came from
// elsewhere (another stage, a download) or is too large to read.
func (sf *StageFacts) placedText(match func(PlacedFile) bool) (src, text string, pf PlacedFile, ok bool) {
	for hops := 0; hops <= maxLinkHops; hops++ {
		found := false
		for i := len(sf.placed) - 1; i >= 0 && !found; i-- {
			// chmod +x changes a file's mode, not what it holds: the
			// file read is the one put there before.
			if match(sf.placed[i]) && sf.placed[i].How != "chmod" {
				pf, found = sf.placed[i], true
			}
		}
		if !found {
			break
		}
		if pf.Link != "" {
			// A link made with ln: what it holds is its target's.
			target := pf.Link
			match = func(q PlacedFile) bool { return q.Path == target }
			continue
		}
		return sf.readPlaced(pf)
	}
	return "", "", PlacedFile{}, false
}

// maxLinkHops bounds the links placedText follows, as the kernel bounds
// symlink chains (a link to itself must end).
const maxLinkHops = 8

// readPlaced reads the content of a placed file, bounded.
func (sf *StageFacts) readPlaced(pf PlacedFile) (src, text string, _ PlacedFile, ok bool) {
	if pf.Inline != nil {
		return "Dockerfile", *pf.Inline, pf, true
	}
	if pf.Context == "" {
		return "", "", pf, false
	}
	b, err := sf.facts.ctx.ReadFile(pf.Context)
	if err != nil || len(b) > maxScriptRead {
		return "", "", pf, false
	}
	return path.Join(sf.facts.ctx.Dir, pf.Context), string(b), pf, true
}

// places reports whether the lineage puts the file a start word names.
func (sf *StageFacts) places(word string) bool {
	for _, pf := range sf.placed {
		if pf.Path == word || (!strings.Contains(word, "/") && path.Base(pf.Path) == word) {
			return true
		}
	}
	return false
}

// sideJobWhy is why an entrypoint that switches users for a side job
// needs root: only root switches without a password, and the service it
// starts afterwards stays root.
func sideJobWhy(src, tool string, line int) string {
	return fmt.Sprintf("%s runs %s on line %d for a job of another user, which only root can do, and then starts the service as root", src, tool, line)
}

// startsService reports whether a user switch in an entrypoint script's
// command is the drop of privileges the service runs under. It is one
// unless it is a side job: a switch that is not exec'd and does not run
// the container's command ("$@", "$*", "$1"), followed at the script's top
// level by `exec "$@"`, which then starts the service as root (su backup
// -c snapshot, then exec "$@"). Branches, functions, a service started in
// the background and waited for, a switch that is the last thing run:
// all stay drops, as they were read before side jobs were told apart.
func startsService(s *Script, c Command) bool {
	for _, w := range c.Prefix {
		if w.Value == "exec" {
			return true
		}
	}
	from, to := int(c.Call.Pos().Offset()), int(c.Call.End().Offset())
	if from < 0 || to > len(s.Src) || from >= to {
		return true
	}
	if passesGivenCommand(s.Src[from:to]) {
		return true
	}
	for _, st := range s.File.Stmts {
		if int(st.Pos().Offset()) <= from {
			continue
		}
		a, b := int(st.Pos().Offset()), int(st.End().Offset())
		if b > len(s.Src) || a >= b {
			continue
		}
		if f := strings.Fields(s.Src[a:b]); len(f) >= 2 && f[0] == "exec" && passesGivenCommand(f[1]) {
			return false
		}
	}
	return true
}

// runsLast reports whether a command of a script is what it ends in: run
// with exec, or the last command to start (lastStart is the offset of the
// script's last command). cron && node server.js, or cron -f & node
// server.js, start the service after the daemon: the daemon is a side job.
func runsLast(c Command, lastStart int) bool {
	if slices.ContainsFunc(c.Prefix, func(w Word) bool { return w.Value == "exec" }) {
		return true
	}
	return lastStart <= int(c.Call.End().Offset())
}

// passesGivenCommand reports whether shell text refers to the command the
// container was given (the script's arguments).
func passesGivenCommand(text string) bool {
	return strings.Contains(text, "$@") || strings.Contains(text, "$*") || strings.Contains(text, "${@}") || strings.Contains(text, "$1")
}

// maxScriptRead bounds the scripts and configuration files read from a
// build context: entrypoints are small, and hostile input must stay cheap.
const maxScriptRead = 256 << 10

// readScript looks for user switching in an entrypoint script.
func (sf *StageFacts) readScript(ep *EntrypointFact, src, text string) {
	f, err := parseShellText(text, src)
	if err != nil {
		ep.Why = fmt.Sprintf("%s is not a shell script dockopt can read: %v", src, err)
		return
	}
	s := &Script{File: f, Src: text, Offset: 0}
	opaque, unsure := false, false
	rootWhy := ""
	cmds := s.Commands()
	lastStart := 0
	for _, c := range cmds {
		lastStart = max(lastStart, int(c.Call.Pos().Offset()))
	}
	for _, c := range cmds {
		line := int(c.Call.Pos().Line())
		service := startsService(s, c)
		words := append(append([]Word(nil), c.Prefix...), Word{Value: c.Name})
		words = append(words, c.Args...)
		for i, w := range words[:len(c.Prefix)+1] {
			b := path.Base(w.Value)
			if escalates[b] && rootWhy == "" {
				ep.NeedsRoot = Present
				rootWhy = fmt.Sprintf("%s runs %s on line %d, which another user can run only with an entry in %s's configuration", src, b, line, b)
			}
			how, tool, user, drops := switchTool(w.Value, words[i+1:])
			switch {
			case drops == Absent:
			case service && drops == Unknown:
				// Not a drop dockopt can vouch for: what needs root (chroot)
				// is the reason, as for a side job.
				unsure = true
				if rootWhy == "" {
					ep.NeedsRoot = Present
					rootWhy = unknownSwitchWhy(fmt.Sprintf("%s on line %d", src, line), user)
				}
			case service && drops == Present && ep.SwitchesUser != Present:
				ep.SwitchesUser, ep.How, ep.Line = Present, how, line
				ep.Why = fmt.Sprintf("%s runs %s on line %d", src, tool, line)
			case !service && rootWhy == "":
				ep.NeedsRoot = Present
				rootWhy = sideJobWhy(src, tool, line)
			}
		}
		switch c.Name {
		case "set":
			// set -- gosu app "$@", then exec "$@": the official
			// images' way of re-running the command as another user.
			if len(c.Args) >= 2 && c.Args[0].Value == "--" && ep.SwitchesUser != Present {
				switch how, tool, user, drops := switchTool(c.Args[1].Value, c.Args[2:]); drops {
				case Present:
					ep.SwitchesUser, ep.How, ep.Line = Present, how, line
					ep.Why = fmt.Sprintf("%s runs %s on line %d", src, tool, line)
				case Unknown:
					unsure = true
					if rootWhy == "" {
						ep.NeedsRoot = Present
						rootWhy = unknownSwitchWhy(fmt.Sprintf("%s on line %d", src, line), user)
					}
				}
			}
		case "su":
			if len(c.Positional("-c", "-s", "--shell", "--command")) == 0 {
				break
			}
			switch {
			case service && ep.SwitchesUser != Present:
				ep.SwitchesUser, ep.How, ep.Line = Present, "su", line
				ep.Why = fmt.Sprintf("%s runs su on line %d", src, line)
			case !service && rootWhy == "":
				ep.NeedsRoot = Present
				rootWhy = sideJobWhy(src, "su", line)
			}
		case "dockerd", "dockerd-entrypoint.sh":
			ep.NeedsRoot = Present
		case "sshd":
			ep.runsSSHD = true
		case ".", "source", "run-parts":
			opaque = true
		}
		if name, d, ok := rootDaemonOf(c.Name, wordValues(c.Args)); ok {
			switch {
			case d.drops && runsLast(c, lastStart) && ep.SwitchesUser != Present:
				// exec squid -N: the service is the daemon, which
				// leaves root itself.
				ep.SwitchesUser, ep.How, ep.Line = Present, name, line
				ep.Why = fmt.Sprintf("%s runs, on line %d, %s", src, line, d.why)
			case rootWhy == "":
				ep.NeedsRoot = Present
				rootWhy = fmt.Sprintf("%s starts, on line %d, %s", src, line, d.why)
			}
		}
		if runsScriptFile(c) {
			opaque = true
		}
		for _, u := range loginUses(c) {
			u.Line, u.Path = line, src
			ep.uses = append(ep.uses, u)
		}
	}
	if ep.SwitchesUser == Present {
		return
	}
	switch {
	case opaque:
		ep.SwitchesUser, ep.Why = Unknown, src+" runs other scripts dockopt does not read"
	case unsure:
		// rootWhy says why: a chroot --userspec to a user from a variable.
		ep.SwitchesUser = Unknown
	default:
		ep.SwitchesUser, ep.Why = Absent, src+" does not switch users"
	}
	if rootWhy != "" {
		// What needs root is the reason a USER is not offered.
		ep.Why = rootWhy
	}
}

// wordValues returns the values of shell words.
func wordValues(words []Word) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.Value
	}
	return out
}
