package analyzer

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// Distro is a family of Linux distributions (or Windows) whose images
// share a package manager and a userland.
type Distro string

const (
	// DistroDebian covers Debian and Ubuntu.
	DistroDebian Distro = "debian"
	DistroAlpine Distro = "alpine"
	// DistroRHEL covers RHEL, UBI, Fedora, CentOS, Rocky, Alma, Oracle
	// and Amazon Linux.
	DistroRHEL Distro = "rhel"
	DistroSUSE Distro = "suse"
	// DistroWolfi is Chainguard's Wolfi: apk like Alpine, but glibc and a
	// busybox built with other applets (no wget, no nc).
	DistroWolfi      Distro = "wolfi"
	DistroBusybox    Distro = "busybox"
	DistroDistroless Distro = "distroless"
	DistroScratch    Distro = "scratch"
	DistroWindows    Distro = "windows"
)

// Userland kinds: which implementation answers for sed, tar, wget …
const (
	UserlandGNU     = "gnu"
	UserlandBusybox = "busybox"
	// UserlandNone is an image without a shell or core utilities.
	UserlandNone    = "none"
	UserlandWindows = "windows"
)

// DistroFact is a stage's distribution family and userland; Family is ""
// when neither the base image nor the Dockerfile's package manager says.
type DistroFact struct {
	Family   Distro
	Userland string
	Why      string
	// FromImage is set when the base image itself says the family (the
	// image table, or a reference that names a distribution), not a
	// heuristic or the Dockerfile's own package manager: only then can
	// another distribution's package manager be said to be missing.
	FromImage bool
}

// Distro returns the stage's distribution family.
func (sf *StageFacts) Distro() DistroFact { return sf.distro }

func (sf *StageFacts) detectDistro() DistroFact {
	root := sf.chain[0]
	base := root.Base
	// A root built FROM a stage is one past the lineage's bound: its
	// reference is a stage's name, not an image's.
	named := root.BaseStage == nil && !base.Unresolved
	switch {
	case sf.Stage.Windows || base.IsWindows():
		return DistroFact{DistroWindows, UserlandWindows, "the base image " + base.Raw + " is a Windows image", named}
	case sf.imageKnown && sf.image.Distro != "":
		return DistroFact{Distro(sf.image.Distro), sf.image.Userland, "the base image " + base.Raw + " is " + sf.image.Distro + "-based (dockopt's image table, " + imageTableDate() + ")", named}
	case base.Name() == "busybox":
		return DistroFact{DistroBusybox, UserlandBusybox, "the base image is busybox", named && base.Official() == "busybox"}
	}
	if fam := base.Distro(); fam != "" {
		return DistroFact{Distro(fam), userlandOf(Distro(fam)), fmt.Sprintf("the base image %s names a %s-based image", base.Raw, fam), named && base.NamedDistro() == fam}
	}
	for _, st := range sf.chain {
		for _, in := range st.Instructions {
			if in.Keyword != "RUN" {
				continue
			}
			cmds, _, _ := runCommands(sf.facts.file, in)
			for _, c := range cmds {
				if fam := managerDistro(c.Name); fam != "" {
					return DistroFact{Family: fam, Userland: userlandOf(fam), Why: fmt.Sprintf("line %d uses %s, so the base image %s is %s-based", in.StartLine, c.Name, base.Raw, fam)}
				}
			}
		}
	}
	return DistroFact{Why: "the base image " + base.Raw + " is not in dockopt's table and the Dockerfile uses no package manager"}
}

func managerDistro(cmd string) Distro {
	switch cmd {
	case "apt-get", "apt", "dpkg", "apt-mark", "aptitude":
		return DistroDebian
	case "apk":
		return DistroAlpine
	case "dnf", "yum", "microdnf", "rpm", "tdnf":
		return DistroRHEL
	case "zypper":
		return DistroSUSE
	}
	return ""
}

func userlandOf(d Distro) string {
	switch d {
	case DistroDebian, DistroRHEL, DistroSUSE:
		return UserlandGNU
	case DistroAlpine, DistroBusybox, DistroWolfi:
		return UserlandBusybox
	case DistroDistroless, DistroScratch:
		return UserlandNone
	case DistroWindows:
		return UserlandWindows
	}
	return ""
}

// ToolState says whether a command exists in the image at some point.
type ToolState struct {
	Presence Presence
	// Busybox is true when the command is a busybox applet, whose options
	// differ from the GNU tool's (wget --progress, sed -z, tar --exclude-vcs).
	Busybox bool
	// Line is where it was installed or removed, 0 when it comes from
	// the base image (or is unknown).
	Line int
	Why  string
	// Proved is set when only an earlier run of the command itself says
	// it is there: true if the build got that far, which it does not
	// when the command is missing.
	Proved bool
}

// ToolAt reports whether a command (curl, bash, pg_isready, an absolute
// path such as /usr/local/bin/gosu) exists when the instruction at line
// starts, and why; line 0 asks about the finished stage, which is what a
// HEALTHCHECK, CMD or ENTRYPOINT of it sees.
func (sf *StageFacts) ToolAt(line int, name string) (Presence, string) {
	t := sf.Tool(line, name)
	return t.Presence, t.Why
}

// Tool is ToolAt with the implementation and the line that decided it.
func (sf *StageFacts) Tool(line int, name string) ToolState {
	return sf.ToolAtOffset(sf.offsetOfLine(line), name)
}

// ToolAtOffset answers at a file offset: inside a RUN, the commands
// before the offset count (`apk add wget && wget --progress=…` sees GNU
// wget).
func (sf *StageFacts) ToolAtOffset(offset int, name string) ToolState {
	if strings.Contains(name, "/") {
		p := path.Clean(name)
		for i := len(sf.placed) - 1; i >= 0; i-- {
			pf := sf.placed[i]
			if pf.Path == p && pf.Offset < offset {
				return ToolState{Presence: Present, Line: pf.Line, Why: fmt.Sprintf("line %d puts %s there", pf.Line, p)}
			}
		}
		if !sf.binDirs[path.Dir(p)] {
			return ToolState{Why: p + " is not a file the Dockerfile puts in the image, and not on the PATH"}
		}
		name = path.Base(p)
	}
	name = canonicalTool(name)
	if len(sf.tools) <= shortToolHistory {
		return sf.foldTools(name, offset)
	}
	tl := sf.toolTimeline(name)
	// The last change before offset decides; events at offset itself
	// come after the point asked about.
	i := sort.Search(len(tl.changes), func(i int) bool { return tl.changes[i].offset >= offset })
	if i == 0 {
		return tl.base
	}
	return tl.changes[i-1].state
}

// shortToolHistory is the number of tool events up to which a question
// walks them directly: a timeline kept per command costs more (in
// allocations the collector then scans) than walking a short history.
const shortToolHistory = 32

// foldTools walks the stage's tool events before offset.
func (sf *StageFacts) foldTools(name string, offset int) ToolState {
	st := sf.baseTool(name)
	busyboxGone := sf.busyboxRemovedAt()
	for _, e := range sf.tools {
		if e.offset >= offset {
			break
		}
		st = sf.applyToolEvent(st, e, name, busyboxGone)
	}
	return st
}

// toolTimeline is one command's presence through a stage: as the base
// image has it, then each state a tool event changed it to. Built once
// per command and stage, so that asking at every RUN of a long file is
// a binary search and not a walk of every event before it.
type toolTimeline struct {
	base    ToolState
	changes []toolChange
}

type toolChange struct {
	offset int
	state  ToolState
}

func (sf *StageFacts) toolTimeline(name string) *toolTimeline {
	sf.timelinesMu.Lock()
	defer sf.timelinesMu.Unlock()
	if tl, ok := sf.timelines[name]; ok {
		return tl
	}
	tl := &toolTimeline{base: sf.baseTool(name)}
	busyboxGone := sf.busyboxRemovedAt()
	st := tl.base
	for _, e := range sf.tools {
		if next := sf.applyToolEvent(st, e, name, busyboxGone); next != st {
			tl.changes = append(tl.changes, toolChange{e.offset, next})
			st = next
		}
	}
	if sf.timelines == nil {
		sf.timelines = map[string]*toolTimeline{}
	}
	sf.timelines[name] = tl
	return tl
}

// busyboxRemovedAt is the offset of the first removal of the busybox
// package, -1 when there is none.
func (sf *StageFacts) busyboxRemovedAt() int {
	at := -1
	for _, e := range sf.tools {
		if e.tool == "busybox" && e.presence == Absent && (at < 0 || e.offset < at) {
			at = e.offset
		}
	}
	return at
}

// applyToolEvent is the state of command name after event e, from st.
func (sf *StageFacts) applyToolEvent(st ToolState, e toolEvent, name string, busyboxGone int) ToolState {
	switch {
	case e.all:
		if st.Presence == Absent {
			return ToolState{Presence: Unknown, Line: e.line, Why: e.why}
		}
	case e.tool == name && e.proof:
		if st.Presence != Present {
			return ToolState{Presence: Present, Line: e.line, Why: e.why, Proved: true}
		}
	case e.tool == name && e.presence == Unknown && e.managedOnly:
		if st.Presence == Present && st.Line > 0 {
			return ToolState{Presence: Unknown, Line: e.line, Why: e.why}
		}
	case e.tool == name:
		busyboxRemoved := busyboxGone >= 0 && busyboxGone <= e.offset
		if e.presence == Absent && sf.distro.Userland == UserlandBusybox && busyboxApplets[name] && !busyboxRemoved {
			return ToolState{Presence: Present, Busybox: true, Line: e.line, Why: fmt.Sprintf("line %d removes the %s package, which leaves busybox's %s applet", e.line, name, name)}
		}
		return ToolState{Presence: e.presence, Busybox: e.busybox, Line: e.line, Why: e.why}
	}
	return st
}

// toolEvent is a change of a command's presence at a file offset.
type toolEvent struct {
	offset, line int
	tool         string
	presence     Presence
	busybox      bool
	// all marks an opaque change: a tool that was absent may now exist.
	all bool
	// managedOnly marks a removal of unknown packages: only tools a
	// package manager of this Dockerfile installed become unknown.
	managedOnly bool
	// proof marks a command the build ran successfully: it exists there.
	proof bool
	why   string
}

func (sf *StageFacts) toolEvent(e toolEvent) { sf.tools = append(sf.tools, e) }

// baseTool is what the root's base image holds, from the contents table
// or, failing that, from what every image of its distribution has.
func (sf *StageFacts) baseTool(name string) ToolState {
	base := sf.chain[0].Base.Raw
	if sf.imageKnown && (name == "mongosh" || name == "mongo") && (sf.image.Entry == "mongo" || strings.HasPrefix(sf.image.Entry, "mongo:")) {
		return mongoShell(sf.chain[0].Base, name)
	}
	if sf.imageKnown {
		if present, known := sf.image.Tool(name); known {
			if !present {
				return ToolState{Presence: Absent, Why: base + " does not ship " + name + " (dockopt's image table, " + imageTableDate() + ")"}
			}
			bb := sf.image.Userland == UserlandBusybox && busyboxApplets[name]
			how := " ships " + name
			if bb {
				how += " as a busybox applet"
			}
			return ToolState{Presence: Present, Busybox: bb, Why: base + how + " (dockopt's image table, " + imageTableDate() + ")"}
		}
	}
	if st, ok := sf.foreignManager(name); ok {
		return st
	}
	switch sf.distro.Family {
	case DistroDebian, DistroRHEL, DistroSUSE:
		if essentialGNU[name] {
			return ToolState{Presence: Present, Why: name + " is part of every " + string(sf.distro.Family) + "-based image"}
		}
	case DistroAlpine, DistroBusybox:
		if busyboxApplets[name] || name == "busybox" {
			return ToolState{Presence: Present, Busybox: name != "busybox", Why: name + " is a busybox applet in " + string(sf.distro.Family) + "-based images"}
		}
	case DistroScratch:
		return ToolState{Presence: Absent, Why: "scratch is empty"}
	case DistroDistroless:
		if name == "sh" || name == "bash" || busyboxApplets[name] {
			return ToolState{Presence: Absent, Why: base + " is a distroless image: no shell and no core utilities"}
		}
	case DistroWindows:
		if name == "sh" || name == "bash" || busyboxApplets[name] {
			return ToolState{Presence: Absent, Why: base + " is a Windows image"}
		}
	}
	return ToolState{Why: "dockopt does not know whether " + base + " ships " + name}
}

// foreignManager answers for another distribution's package manager in
// an image whose family the image itself names: Debian and Ubuntu images
// have no apk, yum or zypper, Alpine has no apt-get. Which of dnf, yum and
// microdnf a RHEL-family image has varies (ubi-minimal and the slim images
// have only microdnf), so those stay unknown there. A family read from the
// Dockerfile's own package manager says nothing about another one.
func (sf *StageFacts) foreignManager(name string) (ToolState, bool) {
	own := managerFamilies[name]
	fam := sf.distro.Family
	if own == "" || !sf.distro.FromImage || own == fam || fam == DistroWolfi && own == DistroAlpine {
		// Wolfi installs with apk too.
		return ToolState{}, false
	}
	switch fam {
	case DistroDebian, DistroAlpine, DistroRHEL, DistroSUSE, DistroWolfi:
	default:
		// Distroless and scratch images say so in the image table;
		// chainguard's -dev images have apk.
		return ToolState{}, false
	}
	return ToolState{Presence: Absent, Why: fmt.Sprintf("%s is %s-based, and %s is %s's package manager", sf.chain[0].Base.Raw, fam, name, own)}, true
}

// managerFamilies are the package managers that install a distribution's
// packages, by the family they belong to.
var managerFamilies = map[string]Distro{
	"apt-get": DistroDebian, "apt": DistroDebian, "aptitude": DistroDebian,
	"apk": DistroAlpine,
	"yum": DistroRHEL, "dnf": DistroRHEL, "microdnf": DistroRHEL, "tdnf": DistroRHEL,
	"zypper": DistroSUSE,
}

// mongoShell answers for the official mongo image's two shells by the
// tag's version: up to 4.4 the image ships only the legacy mongo shell,
// 5.0 ships it and mongosh, and 6.0 removed the legacy shell
// (docker-library/mongo#558, MongoDB's 6.0 compatibility notes). A tag
// without a version (latest, jammy) is the newest release; a digest alone
// or another tag says no version, and both shells are then unknown.
func mongoShell(base ImageRef, name string) ToolState {
	major, versioned := tagMajor(base.Tag)
	switch {
	case !versioned && (base.Tag == "" && base.Digest != "" || base.Tag != "" && base.Tag != "latest" && !latestCodename(base.Tag)):
		return ToolState{Why: fmt.Sprintf("dockopt cannot tell which MongoDB version the tag of %s is, and the image ships mongosh from 5.0 on and the legacy mongo shell up to 5.0", base.Raw)}
	case name == "mongosh" && versioned && major < 5:
		return ToolState{Presence: Absent, Why: fmt.Sprintf("%s ships the legacy mongo shell, not mongosh, which the official image ships from 5.0 on", base.Raw)}
	case name == "mongo" && (!versioned || major >= 6):
		return ToolState{Presence: Absent, Why: fmt.Sprintf("%s ships mongosh, not the legacy mongo shell, which MongoDB removed in 6.0", base.Raw)}
	case name == "mongo":
		return ToolState{Presence: Present, Why: fmt.Sprintf("%s ships the legacy mongo shell (MongoDB before 6.0)", base.Raw)}
	}
	return ToolState{Presence: Present, Why: fmt.Sprintf("%s ships mongosh (MongoDB 5.0 and later)", base.Raw)}
}

// tagMajor returns the major version a tag starts with (4 for 4.4.18,
// 7 for 7.0-jammy), and false when it starts with none.
func tagMajor(tag string) (int, bool) {
	end := 0
	for end < len(tag) && tag[end] >= '0' && tag[end] <= '9' {
		end++
	}
	if end == 0 || end > 4 || end < len(tag) && tag[end] != '.' && tag[end] != '-' {
		return 0, false
	}
	n := 0
	for _, c := range tag[:end] {
		n = n*10 + int(c-'0')
	}
	return n, true
}

// latestCodename reports a tag that names only the Ubuntu release the
// mongo image's current releases are built on; older codename tags
// (bionic, focal) stopped at older releases.
func latestCodename(tag string) bool { return tag == "jammy" || tag == "noble" }

// imageTableDate is "as of" the contents table's date, which does not
// change while the program runs: worked out once, since most facts about
// a base image quote it.
var imageTableDate = sync.OnceValue(func() string { return "as of " + contentsAsOf() })

// essentialGNU are commands every Debian, RHEL and SUSE image has (they
// belong to packages the distribution cannot remove).
var essentialGNU = setOf("sh", "bash", "tar", "sed", "grep", "find", "xargs", "awk", "cat", "cp", "mv", "ls", "rm", "mkdir",
	"chown", "chmod", "ln", "id", "env", "sleep", "head", "tail", "sort", "tee", "touch", "date", "timeout", "gzip",
	"su", "useradd", "groupadd", "usermod", "userdel", "printf", "echo", "test", "true", "false", "dirname", "basename")

// busyboxApplets are the commands Alpine's busybox provides.
var busyboxApplets = setOf("sh", "ash", "wget", "tar", "sed", "grep", "egrep", "fgrep", "find", "xargs", "ps", "nc", "unzip", "gzip",
	"gunzip", "bzip2", "ping", "ip", "vi", "less", "head", "tail", "date", "cp", "mv", "ls", "cat", "chown", "chmod",
	"adduser", "addgroup", "deluser", "delgroup", "su", "id", "env", "which", "timeout", "sleep", "sort", "uniq", "wc",
	"cut", "tr", "awk", "diff", "patch", "md5sum", "sha256sum", "sha512sum", "base64", "hostname", "kill", "killall",
	"pgrep", "pkill", "top", "free", "df", "du", "netstat", "nslookup", "install", "ln", "mkdir", "rm", "rmdir",
	"touch", "readlink", "realpath", "stat", "tee", "test", "printf", "echo", "expr", "seq", "dirname", "basename", "xz", "unxz")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// canonicalTool folds spellings of one command together.
func canonicalTool(name string) string {
	switch name {
	case "grpc-health-probe":
		return "grpc_health_probe"
	case "ash", "dash":
		return "sh"
	}
	return name
}

// packageToolTable maps OS packages to the commands they install where
// the names differ; a package not listed installs the command of its name.
var packageToolTable = map[string][]string{
	"ca-certificates-bundle": {"ca-certificates"},
	"busybox-static":         {"busybox"},
	"apk-tools":              {"apk"},
	"apk-tools-static":       {"apk.static"},
	"postgresql-client":      {"pg_isready", "psql"},
	"postgresql":             {"pg_isready", "psql", "postgres"},
	"redis-tools":            {"redis-cli"},
	"redis-server":           {"redis-server", "redis-cli"},
	"redis":                  {"redis-server", "redis-cli"},
	"default-mysql-client":   {"mysql", "mysqladmin"},
	"mysql-client":           {"mysql", "mysqladmin"},
	"mariadb-client":         {"mysql", "mysqladmin", "mariadb", "mariadb-admin"},
	"default-mysql-server":   {"mysqld", "mysqladmin"},
	"mysql-server":           {"mysqld", "mysqladmin"},
	"mariadb-server":         {"mariadbd", "mysqld", "mariadb-admin", "mysqladmin"},
	"mariadb":                {"mariadbd", "mysqld", "mariadb-admin", "mysqladmin"},
	"netcat-openbsd":         {"nc"},
	"netcat-traditional":     {"nc"},
	"netcat":                 {"nc"},
	"nmap-ncat":              {"nc", "ncat"},
	"procps":                 {"ps", "pgrep", "pkill", "top", "free"},
	"procps-ng":              {"ps", "pgrep", "pkill", "top", "free"},
	"openssh-server":         {"sshd"},
	"openssh":                {"ssh", "sshd"},
	"openssh-client":         {"ssh"},
	"openssh-clients":        {"ssh"},
	"runit":                  {"runsv", "runsvdir", "chpst", "sv"},
	"s6":                     {"s6-svscan", "s6-setuidgid"},
	"shadow":                 {"useradd", "groupadd", "usermod", "userdel"},
	"shadow-utils":           {"useradd", "groupadd", "usermod", "userdel"},
	"passwd":                 {"useradd", "groupadd", "usermod", "userdel"},
	"util-linux":             {"setpriv", "runuser"},
	"util-linux-misc":        {"setpriv"},
	"coreutils":              {"date", "ls", "cp", "mv", "head", "tail", "timeout", "env", "sleep", "chown", "chmod", "id", "sort", "uniq", "wc", "cut", "tr", "md5sum", "sha256sum", "base64", "install", "ln", "mkdir", "rm", "stat", "tee", "readlink", "realpath", "seq", "dirname", "basename", "printf", "echo", "cat", "touch", "df", "du"},
	"findutils":              {"find", "xargs"},
	"xz-utils":               {"xz", "unxz"},
	"gnupg":                  {"gpg"},
	"gnupg2":                 {"gpg"},
	"iproute2":               {"ip"},
	"iputils-ping":           {"ping"},
	"iputils":                {"ping"},
	"dnsutils":               {"dig", "nslookup"},
	"bind9-dnsutils":         {"dig", "nslookup"},
	"bind-tools":             {"dig", "nslookup"},
	"mongodb-mongosh":        {"mongosh"},
	"mongodb-org":            {"mongod", "mongosh"},
	"mongodb-org-shell":      {"mongo"},
	"rabbitmq-server":        {"rabbitmq-server", "rabbitmq-diagnostics", "rabbitmqctl"},
	"apache2":                {"apache2", "apachectl"},
	"apache2-utils":          {"ab", "htpasswd"},
	"nodejs":                 {"node"},
	"gawk":                   {"awk"},
	"diffutils":              {"diff"},
	"net-tools":              {"netstat"},
	"supervisor":             {"supervisord", "supervisorctl"},
	"docker-ce":              {"docker", "dockerd"},
	"docker.io":              {"docker", "dockerd"},
}

var packageToolPatterns = []struct {
	re    *regexp.Regexp
	tools []string
}{
	{regexp.MustCompile(`^postgresql-?\d*-client(-\d+)?$`), []string{"pg_isready", "psql"}},
	{regexp.MustCompile(`^postgresql-?\d+$`), []string{"pg_isready", "psql", "postgres"}},
	{regexp.MustCompile(`^php\d*(\.\d+)?-fpm$`), []string{"php-fpm"}},
	{regexp.MustCompile(`^python3(\.\d+)?$`), []string{"python3"}},
	{regexp.MustCompile(`^openjdk-\d+-jre(-headless)?$`), []string{"java"}},
}

// packageTools returns the commands an OS package installs.
func packageTools(pkg string) []string {
	if t, ok := packageToolTable[pkg]; ok {
		return t
	}
	for _, p := range packageToolPatterns {
		if p.re.MatchString(pkg) {
			return p.tools
		}
	}
	return []string{pkg}
}

// PackageName strips what package managers accept around a name: a
// version (`=1.2`, `~1.2`, `>=1.2`), an architecture (`:amd64`), a
// release (`/bookworm-backports`) or an apk repository tag (`@edge`).
func PackageName(arg string) string {
	name := strings.ToLower(arg)
	if i := strings.IndexAny(name, "=<>~:/@"); i > 0 {
		name = name[:i]
	}
	return name
}

// pkgOp is what one package-manager command does to the image.
type pkgOp struct {
	manager string
	install bool
	remove  bool
	pkgs    []string
	// dynamic is true when some package names are unknown here.
	dynamic bool
	// virtual is apk's --virtual/-t group name.
	virtual string
	// autoRemove is apt's --auto-remove or autoremove: packages only
	// marked automatic go too.
	autoRemove bool
}

// packageOp reads a package-manager command; ok is false for anything
// else (and for dry runs, downloads only, and installs into another root).
func packageOp(c Command, vars ...map[string]string) (op pkgOp, ok bool) {
	op.manager = c.Name
	var valued []string
	var installs, removes []string
	switch c.Name {
	case "apt-get", "apt", "aptitude":
		valued = []string{"-o", "-t", "-c", "--option", "--target-release", "--config-file"}
		installs, removes = []string{"install", "reinstall"}, []string{"remove", "purge", "autoremove", "autopurge"}
		if c.Has("-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act", "-d", "--download-only") || c.HasShortFlag('s') {
			return op, false
		}
		op.autoRemove = c.Has("--auto-remove", "--autoremove")
	case "apk":
		valued = []string{"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir", "--repositories-file"}
		installs, removes = []string{"add"}, []string{"del"}
		if c.Has("-s", "--simulate", "-p", "--root") || c.HasPrefixArg("--root=") {
			return op, false
		}
		for i, a := range c.Args {
			switch {
			case (a.Value == "-t" || a.Value == "--virtual") && i+1 < len(c.Args):
				op.virtual = c.Args[i+1].Value
			case strings.HasPrefix(a.Value, "--virtual="):
				op.virtual = strings.TrimPrefix(a.Value, "--virtual=")
			case strings.HasPrefix(a.Value, "-t") && len(a.Value) > 2:
				op.virtual = a.Value[2:] // -t.build-deps
			}
		}
	case "dnf", "yum", "microdnf", "tdnf":
		valued = []string{"-x", "--exclude", "--setopt", "--enablerepo", "--disablerepo", "--releasever", "--repo", "--repofrompath"}
		installs, removes = []string{"install", "reinstall"}, []string{"remove", "erase", "autoremove"}
		if c.Has("--installroot", "--downloadonly") || c.HasPrefixArg("--installroot=") {
			return op, false
		}
	case "zypper":
		valued = []string{"-R", "--root", "--repo", "-r"}
		installs, removes = []string{"install", "in"}, []string{"remove", "rm"}
		if c.Has("-R", "--root", "--download-only", "-d") {
			return op, false
		}
	case "dpkg":
		if c.Has("-r", "--remove", "-P", "--purge") {
			op.remove = true
			op.pkgs, op.dynamic = expandArgs(c.Positional("--root", "--admindir", "--instdir"), vars...)
			return op, true
		}
		return op, false
	default:
		return op, false
	}
	pos := c.Positional(valued...)
	if len(pos) == 0 {
		return op, false
	}
	sub := pos[0].Value
	switch {
	case contains(installs, sub):
		op.install = true
	case contains(removes, sub):
		op.remove = true
		if sub == "autoremove" || sub == "autopurge" {
			op.autoRemove = true
		}
	default:
		return op, false
	}
	names, dynamic := expandArgs(pos[1:], vars...)
	op.dynamic = dynamic
	for _, n := range names {
		if strings.HasSuffix(n, ".deb") || strings.HasSuffix(n, ".rpm") || strings.HasSuffix(n, ".apk") || strings.HasPrefix(n, "http") {
			continue
		}
		if n = PackageName(n); n != "" && !strings.HasPrefix(n, "-") {
			op.pkgs = append(op.pkgs, n)
		}
	}
	return op, true
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// runTools records what a RUN installs, removes and places on the PATH.
func (sf *StageFacts) runTools(in *Instruction, cmds []Command, script *Script, opaque bool, st step) {
	vars := scriptVars(script)
	aptMarkedAuto := false
	var aptInstalled []string
	keepManual := map[string]bool{}
	proven := provenCommands(script, cmds)
	for _, c := range cmds {
		if script.CallsFunction(c) {
			// apt-get() { …; }; apt-get install x neither runs nor
			// installs with apt-get.
			continue
		}
		off := commandEnd(in, c)
		line := in.StartLine
		if c.Start >= 0 {
			line = sf.facts.file.Line(c.Start)
		}
		if c.Call != nil && proven[c.Call] && !strings.HasPrefix(c.Name, ".") && !shellBuiltins[c.Name] {
			sf.toolEvent(toolEvent{offset: off, line: line, tool: canonicalTool(c.Name), presence: Present, proof: true,
				why: "line " + strconv.Itoa(line) + " runs " + c.Name + ", so the build proves it is there"})
		}
		if op, ok := packageOp(c, vars, st.env); ok {
			sf.packageTools(op, in, off, line, &aptInstalled, aptMarkedAuto, keepManual)
			continue
		}
		switch c.Name {
		case "apt-mark":
			pos, dyn := expandArgs(c.Positional(), vars)
			if len(pos) > 0 && pos[0] == "auto" && len(pos) > 1 && !dyn {
				aptMarkedAuto = true
			}
			if len(pos) > 0 && pos[0] == "manual" {
				for _, p := range pos[1:] {
					keepManual[PackageName(p)] = true
				}
			}
		case "rm":
			for _, w := range c.Positional() {
				p := resolveIn(st.workdir, w.Value)
				if w.Dynamic || p == "" || !sf.binDirs[path.Dir(p)] {
					continue
				}
				tool := strings.TrimSuffix(path.Base(p), "*")
				if tool != "" && !strings.ContainsAny(tool, "*?[") {
					sf.toolEvent(toolEvent{offset: off, line: line, tool: canonicalTool(tool), presence: Absent, why: fmt.Sprintf("line %d deletes %s", line, p)})
				}
			}
		case "curl", "wget":
			if out := downloadTarget(c); out != "" {
				sf.placeInRun(in, off, line, resolveIn(st.workdir, out), "downloaded")
			}
		case "cp", "mv", "install", "ln":
			pos := c.Positional("-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory", "-S", "--suffix")
			if len(pos) < 2 || pos[len(pos)-1].Dynamic {
				continue
			}
			dest := resolveIn(st.workdir, pos[len(pos)-1].Value)
			if dest == "" {
				continue
			}
			if sf.binDirs[dest] {
				for _, src := range pos[:len(pos)-1] {
					if !src.Dynamic {
						sf.placeInRun(in, off, line, path.Join(dest, path.Base(src.Value)), c.Name)
						sf.linkLast(c, src.Value, st.workdir)
					}
				}
				continue
			}
			sf.placeInRun(in, off, line, dest, c.Name)
			if len(pos) == 2 && !pos[0].Dynamic {
				sf.linkLast(c, pos[0].Value, st.workdir)
			}
		case "chmod":
			for _, w := range c.Positional() {
				if p := resolveIn(st.workdir, w.Value); p != "" && sf.binDirs[path.Dir(p)] {
					sf.placeInRun(in, off, line, p, "chmod")
				}
			}
		case "tar", "unzip":
			if dir := extractDir(c); dir != "" && sf.binDirs[resolveIn(st.workdir, dir)] {
				sf.toolEvent(toolEvent{offset: off, line: line, all: true, why: fmt.Sprintf("line %d unpacks an archive into %s, whose contents dockopt does not read", line, dir)})
			}
		case "go":
			if len(c.Args) > 1 && c.Args[0].Value == "install" {
				for _, w := range c.Args[1:] {
					if !w.Dynamic && !strings.HasPrefix(w.Value, "-") {
						mod, _, _ := strings.Cut(w.Value, "@")
						sf.toolEvent(toolEvent{offset: off, line: line, tool: canonicalTool(goBinaryName(mod)), presence: Present, why: fmt.Sprintf("line %d installs it with go install", line)})
					}
				}
			}
		case "npm", "pnpm", "yarn":
			for _, pkg := range globalNodePackages(c) {
				sf.toolEvent(toolEvent{offset: off, line: line, tool: pkg, presence: Present, why: fmt.Sprintf("line %d installs it globally with %s", line, c.Name)})
			}
		}
	}
	if opaque {
		sf.toolEvent(toolEvent{offset: in.End, line: in.StartLine, all: true, why: fmt.Sprintf("line %d runs commands dockopt cannot read", in.StartLine)})
	}
}

var shellBuiltins = setOf("cd", "set", "export", "echo", "[", "[[", "test", "true", "false", ":", "exec", "printf", "read",
	"source", "eval", "unset", "shift", "exit", "return", "local", "umask", "ulimit", "trap", "wait", "command", "type", "hash", "alias")

// provenCommands returns the commands of a script whose failure fails
// the RUN, so that a finished build proves they exist: every operand of
// the last statement's && chain, and, under `set -e`, each other
// statement's final command. Commands in conditions, after || and early
// in pipelines prove nothing.
func provenCommands(s *Script, cmds []Command) map[*syntax.CallExpr]bool {
	if s == nil || s.File == nil || len(cmds) == 0 {
		return nil
	}
	out := map[*syntax.CallExpr]bool{}
	setE := false
	stmts := s.File.Stmts
	for i, st := range stmts {
		last := i == len(stmts)-1
		operands := andOperands(st)
		for j, op := range operands {
			if op.Negated || op.Background {
				continue
			}
			call := lastCall(op)
			if call == nil {
				continue
			}
			if last || (setE && j == len(operands)-1) {
				out[call] = true
			}
			if name, _ := staticWord(call.Args[0]); name == "set" {
				for _, a := range call.Args[1:] {
					v, _ := staticWord(a)
					if isShortCluster(v) && strings.Contains(v, "e") || v == "-e" {
						setE = true
					}
				}
			}
		}
	}
	return out
}

// FailingCalls returns the calls of the script whose failure fails the
// RUN (see provenCommands): a command after ||, in a condition or an if
// or case branch, or early in a pipeline is not among them.
func (s *Script) FailingCalls() map[*syntax.CallExpr]bool {
	if s == nil {
		return nil
	}
	return provenCommands(s, s.Commands())
}

// andOperands flattens `a && b && c` into its statements.
func andOperands(st *syntax.Stmt) []*syntax.Stmt {
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && b.Op == syntax.AndStmt && !st.Negated {
		return append(andOperands(b.X), andOperands(b.Y)...)
	}
	return []*syntax.Stmt{st}
}

// lastCall is the call whose status a statement returns: itself, or the
// last command of a pipeline.
func lastCall(st *syntax.Stmt) *syntax.CallExpr {
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		if len(c.Args) > 0 {
			return c
		}
	case *syntax.BinaryCmd:
		if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
			return lastCall(c.Y)
		}
	}
	return nil
}

// InstalledPackage is a package a RUN of the stage's lineage installs by
// name, and whether a later command of the lineage removes it again.
type InstalledPackage struct {
	Name    string
	Manager string
	// Virtual is the apk --virtual group it was installed in.
	Virtual string
	In      *Instruction
	Line    int
	Removed bool
	// RemovedWhy says which command removes it.
	RemovedWhy string
}

// Packages returns the packages the lineage installs by name, in order,
// each with whether it is removed by the end of the stage: by name, by
// deleting its apk --virtual group, or by the official images' idiom of
// marking everything automatic (apt-mark auto '.*'), the packages from
// before the RUN manual again, and purging with --auto-remove.
func (sf *StageFacts) Packages() []InstalledPackage { return sf.packages }

// packageRemoved marks the installed packages a removal takes away.
func (sf *StageFacts) packageRemoved(match func(InstalledPackage) bool, why string) {
	for i := range sf.packages {
		if p := &sf.packages[i]; !p.Removed && match(*p) {
			p.Removed, p.RemovedWhy = true, why
		}
	}
}

// packageTools turns one package operation into tool events.
func (sf *StageFacts) packageTools(op pkgOp, in *Instruction, off, line int, aptInstalled *[]string, aptMarkedAuto bool, keepManual map[string]bool) {
	if op.install {
		for _, pkg := range op.pkgs {
			sf.packages = append(sf.packages, InstalledPackage{Name: pkg, Manager: op.manager, Virtual: op.virtual, In: in, Line: line})
		}
		for _, pkg := range op.pkgs {
			for _, t := range packageTools(pkg) {
				sf.toolEvent(toolEvent{offset: off, line: line, tool: canonicalTool(t), presence: Present, why: fmt.Sprintf("line %d installs %s with %s", line, pkg, op.manager)})
			}
		}
		if op.virtual != "" {
			sf.virtuals[op.virtual] = append(sf.virtuals[op.virtual], op.pkgs...)
		} else {
			for _, pkg := range op.pkgs {
				sf.world[pkg] = true
			}
		}
		if op.manager == "apt-get" || op.manager == "apt" {
			*aptInstalled = append(*aptInstalled, op.pkgs...)
		}
		if op.dynamic {
			sf.toolEvent(toolEvent{offset: off, line: line, all: true, why: fmt.Sprintf("line %d installs packages named by a variable dockopt cannot resolve", line)})
		}
		return
	}
	remove := func(pkg, why string) {
		for _, t := range packageTools(pkg) {
			sf.toolEvent(toolEvent{offset: off, line: line, tool: canonicalTool(t), presence: Absent, why: why})
		}
	}
	for _, pkg := range op.pkgs {
		if group, ok := sf.virtuals[pkg]; ok && op.manager == "apk" {
			for _, member := range group {
				if !sf.world[member] {
					why := fmt.Sprintf("line %d removes the virtual package %s, which installed %s", line, pkg, member)
					remove(member, why)
					sf.packageRemoved(func(p InstalledPackage) bool { return p.Name == member && p.Virtual == pkg }, why)
				}
			}
			continue
		}
		why := fmt.Sprintf("line %d removes %s with %s", line, pkg, op.manager)
		remove(pkg, why)
		sf.packageRemoved(func(p InstalledPackage) bool { return p.Name == pkg }, why)
	}
	if op.autoRemove && aptMarkedAuto {
		for _, pkg := range *aptInstalled {
			if !keepManual[pkg] {
				why := fmt.Sprintf("line %d purges %s again: the RUN marks everything it installed automatic (apt-mark auto) and removes it with --auto-remove", line, pkg)
				remove(pkg, why)
				sf.packageRemoved(func(p InstalledPackage) bool {
					return p.Name == pkg && p.In == in && (p.Manager == "apt-get" || p.Manager == "apt")
				}, why)
			}
		}
	}
	if op.dynamic {
		for _, t := range sf.managedTools() {
			sf.toolEvent(toolEvent{offset: off, line: line, tool: t, presence: Unknown, managedOnly: true, why: fmt.Sprintf("line %d removes packages named by a variable dockopt cannot resolve", line)})
		}
	}
}

// managedTools lists the tools package managers of this lineage installed so far.
func (sf *StageFacts) managedTools() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range sf.tools {
		if e.presence == Present && !e.proof && e.tool != "" && !seen[e.tool] {
			seen[e.tool] = true
			out = append(out, e.tool)
		}
	}
	return out
}

// placeInRun records a file a RUN puts at p; on the PATH it is a tool.
func (sf *StageFacts) placeInRun(in *Instruction, off, line int, p, how string) {
	if p == "" {
		return
	}
	sf.placed = append(sf.placed, PlacedFile{Path: p, Line: line, Offset: off, How: how})
	if sf.binDirs[path.Dir(p)] {
		sf.toolEvent(toolEvent{offset: off, line: line, tool: canonicalTool(path.Base(p)), presence: Present, why: fmt.Sprintf("line %d puts %s on the PATH (%s)", line, p, how)})
	}
}

// linkLast records, when c is ln, where the link just placed points:
// `ln -s usr/local/bin/docker-entrypoint.sh /docker-entrypoint.sh` makes
// the ENTRYPOINT /docker-entrypoint.sh run the script copied to
// /usr/local/bin. A symbolic link's relative target is relative to the
// link's directory, a hard link's to the working directory. GNU ln -sr
// (--relative) takes TARGET from the working directory too and writes the
// link as a path relative to the link's directory, so the file it names
// is TARGET resolved from the working directory.
func (sf *StageFacts) linkLast(c Command, target, workdir string) {
	if c.Name != "ln" || len(sf.placed) == 0 {
		return
	}
	pf := &sf.placed[len(sf.placed)-1]
	symbolic := c.Has("-s", "--symbolic") || c.HasShortFlag('s')
	relative := c.Has("--relative") || c.HasShortFlag('r')
	switch {
	case !symbolic || relative && !strings.HasPrefix(target, "/"):
		pf.Link = resolveIn(workdir, target)
	case strings.HasPrefix(target, "/"):
		pf.Link = path.Clean(target)
	case !strings.Contains(target, "$"):
		pf.Link = path.Join(path.Dir(pf.Path), target)
	}
}

// downloadTarget returns the file curl -o / wget -O writes.
func downloadTarget(c Command) string {
	for i, a := range c.Args {
		v := a.Value
		switch {
		case c.Name == "curl" && (v == "-o" || v == "--output"), c.Name == "wget" && (v == "-O" || v == "--output-document"):
			if i+1 < len(c.Args) && !c.Args[i+1].Dynamic && c.Args[i+1].Value != "-" {
				return c.Args[i+1].Value
			}
		case c.Name == "wget" && strings.HasPrefix(v, "--output-document="):
			return strings.TrimPrefix(v, "--output-document=")
		case c.Name == "curl" && strings.HasPrefix(v, "-o") && len(v) > 2 && !a.Dynamic:
			return v[2:]
		case c.Name == "wget" && strings.HasPrefix(v, "-O") && len(v) > 2 && v != "-O-" && !a.Dynamic:
			return v[2:]
		case isShortCluster(v) && ((c.Name == "curl" && strings.HasSuffix(v, "o")) || (c.Name == "wget" && strings.HasSuffix(v, "O"))):
			// `curl -fsSLo FILE`, `wget -qO FILE`: the last letter takes the value.
			if i+1 < len(c.Args) && !c.Args[i+1].Dynamic && c.Args[i+1].Value != "-" {
				return c.Args[i+1].Value
			}
		}
	}
	return ""
}

// isShortCluster reports a word of combined single-letter options (-qO).
func isShortCluster(v string) bool {
	if len(v) < 3 || v[0] != '-' || v[1] == '-' {
		return false
	}
	for _, r := range v[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// extractDir returns where tar -C / unzip -d unpacks.
func extractDir(c Command) string {
	for i, a := range c.Args {
		switch {
		case (a.Value == "-C" || a.Value == "--directory" || (c.Name == "unzip" && a.Value == "-d")) && i+1 < len(c.Args):
			if !c.Args[i+1].Dynamic {
				return c.Args[i+1].Value
			}
		case strings.HasPrefix(a.Value, "--directory="):
			return strings.TrimPrefix(a.Value, "--directory=")
		}
	}
	return ""
}

// goBinaryName is the file go install writes for a package path.
func goBinaryName(mod string) string {
	base := path.Base(mod)
	if len(base) >= 2 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		return path.Base(path.Dir(mod))
	}
	return base
}

// globalNodePackages returns what `npm install -g`, `pnpm add -g` and
// `yarn global add` install, as command names.
func globalNodePackages(c Command) []string {
	pos := c.Positional()
	global := c.Has("-g", "--global", "--location=global")
	var pkgs []Word
	switch {
	case c.Name == "yarn" && len(pos) > 1 && pos[0].Value == "global" && pos[1].Value == "add":
		pkgs = pos[2:]
	case global && len(pos) > 0 && (pos[0].Value == "install" || pos[0].Value == "i" || pos[0].Value == "add"):
		pkgs = pos[1:]
	}
	var out []string
	for _, p := range pkgs {
		if p.Dynamic {
			continue
		}
		name := p.Value
		if strings.HasPrefix(name, "@") {
			if i := strings.Index(name, "/"); i > 0 {
				name = name[i+1:]
			}
		}
		name, _, _ = strings.Cut(name, "@")
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}

// copyTools records commands a COPY or ADD puts on the PATH.
func (sf *StageFacts) copyTools(in *Instruction, placed []PlacedFile, dirs []string) {
	for _, pf := range placed {
		if sf.binDirs[path.Dir(pf.Path)] {
			sf.toolEvent(toolEvent{offset: in.Start + 1, line: in.StartLine, tool: canonicalTool(path.Base(pf.Path)), presence: Present, why: fmt.Sprintf("line %d copies it to %s", in.StartLine, pf.Path)})
		}
	}
	for _, d := range dirs {
		if sf.binDirs[d] || isParentOfBin(d, sf.binDirs) {
			sf.toolEvent(toolEvent{offset: in.Start + 1, line: in.StartLine, all: true, why: fmt.Sprintf("line %d copies a whole directory into %s", in.StartLine, d)})
			return
		}
	}
}

func isParentOfBin(d string, bins map[string]bool) bool {
	for b := range bins {
		if d == "/" || strings.HasPrefix(b, d+"/") {
			return true
		}
	}
	return false
}
