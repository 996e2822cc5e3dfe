package rules

import (
	"fmt"
	"mvdan.cc/sh/v3/syntax"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// FinalUserRoot finds final images that run as root because nobody said
// otherwise.
var FinalUserRoot = &analyzer.Rule{
	ID:       "final-user-root",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityWarning,
	Title:    "Final image runs as root because no USER is set",
	Rationale: `Without a USER instruction the container's process runs as root. A bug in the application ` +
		`then gives an attacker root inside the container: write access to every file of the image, the ` +
		`ability to install tools, and root's privileges against the kernel and any mounted volume or socket ` +
		`if another defence fails. Kubernetes' restricted policy refuses such pods outright. Run as an ` +
		`unprivileged user: one the base image ships (node, nonroot), or one the Dockerfile creates. Images ` +
		`whose base already sets a non-root user are not reported; an explicit USER root is left to the ` +
		`last-user-root check. A USER is proposed only for the final stage of an application image, when the ` +
		`start does not switch users itself (gosu, su-exec, a server's own workers), no port below 1024 is bound, ` +
		`the account exists or the fix creates it, and it can write every path the app writes (VOLUMEs, the ` +
		`WORKDIR, a server's data directories); otherwise the finding says which of these failed. A start that ` +
		`drops root by itself (gosu or su-exec in the entrypoint, nginx's, Apache's or PostgreSQL's own switch ` +
		`to an unprivileged user) runs as root by design: that is reported at info, with nothing to change.`,
	Bad:         "FROM node:20-slim\nCOPY . /app\nCMD [\"node\", \"/app/server.js\"]\n",
	Good:        "FROM node:20-slim\nCOPY . /app\nUSER node\nCMD [\"node\", \"/app/server.js\"]\n",
	Equivalents: []string{"hadolint:DL3063", "trivy:DS002"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		d := p.File
		final := d.FinalStage()
		if final == nil || final.Windows {
			return
		}
		for _, in := range final.LineageInstructions() {
			if in.Keyword == "USER" {
				return
			}
		}
		base := final.Root().Base
		if base.Unresolved || analyzer.BaseImageUser(base) != "" {
			return
		}
		sf := p.Facts().Stage(final)
		if sf.RunUser().Root() == analyzer.Absent || sf.Distro().Family == analyzer.DistroWindows {
			return
		}
		anchor := runtimeAnchor(final)
		in := anchor
		if in == nil {
			in = final.From
		}
		if ep := sf.Entrypoint(); ep.SwitchesUser == analyzer.Present {
			// Root by design: the start prepares the container as root
			// and runs the service unprivileged itself, as the official
			// nginx, httpd and postgres images do. Nothing to change, so
			// the finding says so at info rather than warn.
			p.ReportAdvisory(in, rootByDesign(ep), analyzer.PreconditionUser)
			return
		}
		msg := "the final image runs as root: no USER is set and " + base.Raw + " does not set one"
		if _, known := sf.BaseImage(); !known && !base.IsScratch() {
			ru := sf.RunUser()
			if !ru.Known {
				// Whether it runs as root is the base image's to say, and
				// dockopt does not know that image: the message says so and
				// no USER is proposed. It stays a warning, as Trivy's DS002
				// is: most images with no USER of their own run as root, and
				// one named here is what a reader can check.
				unknown := "the final image may run as root: no USER is set here, and dockopt cannot tell whether " + base.Raw +
					" sets one (it is not in dockopt's image table)"
				if runtimeChangeRefused(p, final, in, unknown) {
					// A dev or base image: at info, as over a known base.
					return
				}
				p.ReportWithheld(in, unknown+"; if it runs as root, add a USER naming an unprivileged account", analyzer.PreconditionUnknown)
				return
			}
			msg = "the final image runs as root: " + ru.Why
		}
		if runtimeChangeRefused(p, final, in, msg) {
			return
		}
		plan := planNonRoot(sf, anchor)
		if why := runsFromRootHome(d, sf, final); why != "" && plan.withheld == nil {
			plan.advice = ""
			plan.withheld = &withheld{analyzer.PreconditionUser, why}
		}
		if why := runnerNeedsHome(sf); why != "" && plan.withheld == nil && plan.created {
			plan.advice = ""
			plan.withheld = &withheld{analyzer.PreconditionUser, why}
		}
		if plan.withheld == nil && len(sf.StartCommand()) == 0 {
			// No CMD or ENTRYPOINT of its own: whoever runs the image
			// says what it runs, and may need root for it.
			plan.advice = ""
			plan.withheld = &withheld{analyzer.PreconditionUnknown, noStartCommand(sf)}
		}
		if plan.withheld == nil {
			if tool := commandLineTool(sf, final); tool != "" {
				plan.advice = ""
				plan.withheld = &withheld{analyzer.PreconditionUser, tool + " is a command-line tool (no port, no server): people run it on files they mount from their machine, which an account of the image may not be able to write, so the USER is theirs to choose (docker run --user \"$(id -u):$(id -g)\")"}
			}
		}
		if plan.advice != "" {
			msg += "; " + plan.advice
		}
		if plan.withheld != nil {
			plan.withheld.report(p, in, msg)
			return
		}
		if notes := rootNotes(final, plan.chown()); len(notes) > 0 {
			msg += "; check: " + strings.Join(notes, "; ")
		}
		p.Report(in, msg, &analyzer.Fix{
			Message: "run as the unprivileged user " + plan.describe(),
			Edits:   []analyzer.TextEdit{insertInstructions(d, final, anchor, plan.lines)},
		})
	},
}

// homeInstallers are install scripts, by a part of their URL, that put
// programs in the home of the user running them, and those programs.
var homeInstallers = []struct {
	url      string
	programs []string
	// moveTo are the variables that install elsewhere than the home.
	moveTo []string
}{
	{"install.python-poetry.org", []string{"poetry"}, []string{"POETRY_HOME"}},
	{"sh.rustup.rs", []string{"cargo", "rustc", "rustup"}, []string{"CARGO_HOME", "RUSTUP_HOME"}},
	{"astral.sh/uv", []string{"uv", "uvx"}, []string{"UV_INSTALL_DIR", "XDG_BIN_HOME", "CARGO_HOME"}},
	{"bun.sh/install", []string{"bun", "bunx"}, []string{"BUN_INSTALL"}},
	{"deno.land/install", []string{"deno"}, []string{"DENO_INSTALL"}},
	{"get.pnpm.io", []string{"pnpm", "pnpx"}, []string{"PNPM_HOME"}},
}

// runsFromRootHome says why the container's process needs root's home,
// "" when nothing says so: PATH names a folder under /root, or the start
// command's program was installed there by an installer script run as
// root (poetry's, rustup). /root is mode 700 on Debian and Alpine, so an
// account added by the fix could not even find those programs.
func runsFromRootHome(d *analyzer.Dockerfile, sf *analyzer.StageFacts, final *analyzer.Stage) string {
	if p, ok := sf.EnvAt(0, "PATH"); ok {
		for _, dir := range strings.Split(p, ":") {
			if dir == "/root" || strings.HasPrefix(dir, "/root/") {
				return "PATH includes " + dir + ", in root's home, which another account cannot read (/root is mode 700): programs installed there would not start"
			}
		}
	}
	program, _ := startedProgram(sf)
	if program == "" {
		return ""
	}
	for _, in := range final.LineageInstructions() {
		if in.Keyword != "RUN" {
			continue
		}
		text := in.Text(d.Source)
		for _, h := range homeInstallers {
			if !strings.Contains(text, h.url) || !slices.Contains(h.programs, program) {
				continue
			}
			moved := slices.ContainsFunc(h.moveTo, func(v string) bool {
				_, set := in.EnvBefore(v)
				return set || strings.Contains(text, v)
			})
			if !moved {
				return fmt.Sprintf("%s is installed on line %d by an installer script that puts it in the home of the user running it, root's, which another account cannot read (/root is mode 700)", program, in.StartLine)
			}
			return ""
		}
	}
	return ""
}

// startedProgram returns the program the container starts, past an init
// (tini, dumb-init) that a fix of this file may have put in front of it,
// and the words after it.
func startedProgram(sf *analyzer.StageFacts) (program string, args []string) {
	words := startWords(sf.StartCommand())
	if len(words) == 0 {
		return "", nil
	}
	return path.Base(words[0]), words[1:]
}

// homeRunners are programs that start an application through a project
// environment they manage, and write in the home of the account they run
// as when they start: a cache, a lock, or (uv) a Python to download.
var homeRunners = map[string]string{
	"uv":     "by default writes its cache, and any Python it must download, under the home (UV_CACHE_DIR and UV_PYTHON_INSTALL_DIR move them)",
	"uvx":    "by default writes its cache, and any Python it must download, under the home (UV_CACHE_DIR and UV_PYTHON_INSTALL_DIR move them)",
	"poetry": "by default writes its cache and settings under the home (POETRY_CACHE_DIR moves the cache)",
	"pipenv": "by default keeps its virtualenvs under the home (PIPENV_VENV_IN_PROJECT moves them)",
	"pdm":    "by default writes its cache under the home",
	"hatch":  "by default keeps its environments under the home",
	"deno":   "by default keeps its module cache under the home (DENO_DIR moves it)",
}

// runnerNeedsHome says why the container's start needs a home the account
// can write, "" when nothing says so.
func runnerNeedsHome(sf *analyzer.StageFacts) string {
	program, args := startedProgram(sf)
	if program == "sh" || program == "bash" {
		// sh -c "cd /srv && poetry run app": every command of the string.
		if len(args) == 2 && args[0] == "-c" {
			for _, call := range shellCalls(args[1]) {
				if why := runnerWhy(sf, path.Base(call[0]), call[1:]); why != "" {
					return why
				}
			}
		}
		return ""
	}
	return runnerWhy(sf, program, args)
}

func runnerWhy(sf *analyzer.StageFacts, program string, args []string) string {
	what, ok := homeRunners[program]
	if !ok || (program != "uvx" && (len(args) == 0 || args[0] != "run")) {
		return ""
	}
	if vars := homeRunnerMoves[program]; len(vars) > 0 && !slices.ContainsFunc(vars, func(v string) bool {
		val, set := sf.EnvAt(0, v)
		return !set || val == ""
	}) {
		return "" // told to keep all of it elsewhere
	}
	start := program
	if program != "uvx" {
		start += " run"
	}
	return "the container starts with " + start + ", which " + what + ", and the account the fix would create has no home; create the account with a home it owns (useradd --create-home), or start the application's interpreter directly"
}

// homeRunnerMoves are the variables that, all set, keep a runner out of
// the home.
var homeRunnerMoves = map[string][]string{
	"uv":     {"UV_CACHE_DIR", "UV_PYTHON_INSTALL_DIR"},
	"uvx":    {"UV_CACHE_DIR", "UV_PYTHON_INSTALL_DIR"},
	"poetry": {"POETRY_CACHE_DIR", "POETRY_CONFIG_DIR"},
	"pipenv": {"PIPENV_VENV_IN_PROJECT"},
	"deno":   {"DENO_DIR"},
}

// shellCalls returns the literal words of each simple command of a shell
// string, in order; words that are not literal end a command's list.
func shellCalls(src string) [][]string {
	f, err := syntax.NewParser().Parse(strings.NewReader(src), "")
	if err != nil {
		return nil
	}
	var out [][]string
	syntax.Walk(f, func(n syntax.Node) bool {
		if call, ok := n.(*syntax.CallExpr); ok {
			var words []string
			for _, w := range call.Args {
				lit := w.Lit()
				if lit == "" {
					break
				}
				words = append(words, lit)
			}
			if len(words) > 0 {
				if words[0] == "exec" {
					words = words[1:]
				}
				if len(words) > 0 {
					out = append(out, words)
				}
			}
		}
		return true
	})
	return out
}

// userPlan is the USER a fix would add, the lines that add it, and the
// precondition that keeps it from being offered.
type userPlan struct {
	// user is as written in USER; account is the account's name.
	user, account string
	// created is set when the fix creates the account, with no home.
	created  bool
	lines    []string
	advice   string
	withheld *withheld
}

// describe names the account for a fix's message: app (UID 10001).
func (plan userPlan) describe() string {
	if plan.user == plan.account || strings.Contains(plan.user, ":") {
		return plan.user
	}
	return plan.account + " (UID " + plan.user + ")"
}

// chown is the owner a COPY --chown would name for the account: its name,
// or user:group where it has none (scratch).
func (plan userPlan) chown() string {
	if strings.Contains(plan.user, ":") {
		return plan.user
	}
	return plan.account
}

// rootByDesign is the message for a container that starts as root on
// purpose and drops privileges itself: what runs the service is already
// unprivileged, and a USER would break the start.
func rootByDesign(ep analyzer.EntrypointFact) string {
	msg := "the final image runs as root by design: no USER is set, and the container starts as root on purpose and drops privileges itself (" + ep.Why + ")"
	if strings.Contains(ep.How, "php-fpm") {
		// php-fpm starts under any user: master and workers then run
		// as that user, and it only warns that the pool's user and
		// group settings are ignored. Nothing stops it; the workers
		// change account, away from the one the image gives its paths
		// to.
		return msg + "; php-fpm also starts under a USER: its master and workers then run as that user, and it ignores the pool's user and group settings (with a notice), so a USER takes root from the master only, and that user then needs write access to the paths the image gives www-data"
	}
	msg += "; a USER would stop it from preparing the container as root first"
	if strings.Contains(ep.How, "nginx") {
		msg += "; to run nginx without root at all, build FROM nginxinc/nginx-unprivileged, which listens on 8080"
	}
	return msg
}

// planNonRoot chooses the unprivileged user for the final stage and checks
// what a USER needs: the start does not switch users or need root itself,
// no port below 1024 is bound, the account exists (or the fix creates it
// with a tool the image has), and the account can write every path the
// application writes.
func planNonRoot(sf *analyzer.StageFacts, anchor *analyzer.Instruction) userPlan {
	ep := sf.Entrypoint()
	switch {
	case ep.NeedsRoot == analyzer.Present:
		return userPlan{withheld: &withheld{analyzer.PreconditionUser, ep.Why}}
	case ep.SwitchesUser == analyzer.Unknown:
		return userPlan{withheld: &withheld{analyzer.PreconditionUnknown, "dockopt cannot tell whether the start switches users itself: " + ep.Why}}
	}
	if port, why := sf.PrivilegedPort(); port > 0 {
		return userPlan{withheld: &withheld{analyzer.PreconditionPort, why + ": move the service to a port above 1023 first"}}
	}
	plan := chooseUser(sf, anchorLine(anchor))
	if plan.withheld != nil {
		return plan
	}
	if blocked := unwritable(sf, plan); len(blocked) > 0 {
		more := ""
		if len(blocked) > 2 {
			more = fmt.Sprintf(" and %d more", len(blocked)-2)
			blocked = blocked[:2]
		}
		plan.withheld = &withheld{analyzer.PreconditionUser, fmt.Sprintf("%s could not write %s%s; give them to %s first (COPY --chown=%s, or chown in a RUN before the USER)",
			plan.account, strings.Join(blocked, "; "), more, plan.account, plan.account)}
	}
	return plan
}

// chooseUser picks the account: one the Dockerfile creates and never
// switches to, the one the base image ships for its applications, or a new
// one the fix creates with the distribution's tools.
func chooseUser(sf *analyzer.StageFacts, line int) userPlan {
	img, known := sf.BaseImage()
	for _, u := range sf.UsersAt(line) {
		if u == "root" || (known && img.HasUser(u)) {
			continue
		}
		_, why := sf.UserExistsAt(line, u)
		user := u
		if uid, ok := accountIDsAt(sf, line).uid[u]; ok {
			// user-non-numeric would ask for the number next.
			user = uid
		}
		return userPlan{user: user, account: u, lines: []string{"USER " + user},
			advice: fmt.Sprintf("the user %s exists (%s) but is never used: add USER %s", u, why, user)}
	}
	distro := sf.Distro()
	switch distro.Family {
	case analyzer.DistroScratch:
		return userPlan{user: "65532:65532", account: "65532", lines: []string{"USER 65532:65532"},
			advice: "add USER 65532:65532 (scratch has no user database, a numeric ID works)"}
	case analyzer.DistroDistroless:
		return existingUser(sf, line, "nonroot", nonrootUID, "distroless images ship the user nonroot", ", or use the :nonroot tag")
	case analyzer.DistroWolfi:
		if known && img.HasUser("nonroot") {
			// Chainguard's accounts module gives it, as in the distroless
			// images, but wolfi-base has no :nonroot tag.
			return existingUser(sf, line, "nonroot", nonrootUID, sf.Lineage()[0].Base.Raw+" ships the user nonroot", "")
		}
	}
	if known && img.AppUser != "" {
		// The account the image ships for its applications (node's
		// node, denoland/deno's deno) rather than a new one.
		base := sf.Lineage()[0].Base
		name := base.Official()
		if name == "" {
			name = base.Repository
		}
		return existingUser(sf, line, img.AppUser, img.AppUID, "the "+name+" image ships the user "+img.AppUser, "")
	}
	var create string
	var tools []string
	// The account gets a fixed UID so that USER can name it by number,
	// which the runtime can check (runAsNonRoot) without the image's
	// /etc/passwd; --system alone hands out whichever ID is free.
	switch distro.Family {
	case analyzer.DistroDebian, analyzer.DistroSUSE:
		create, tools = "RUN groupadd --system --gid "+newAccountID+" app && useradd --system --uid "+newAccountID+" --gid app --no-create-home --shell /usr/sbin/nologin app", []string{"groupadd", "useradd"}
	case analyzer.DistroRHEL:
		create, tools = "RUN groupadd -r -g "+newAccountID+" app && useradd -r -u "+newAccountID+" -g app -M -s /sbin/nologin app", []string{"groupadd", "useradd"}
	case analyzer.DistroAlpine, analyzer.DistroBusybox:
		create, tools = "RUN addgroup -S -g "+newAccountID+" app && adduser -S -u "+newAccountID+" -G app -H -s /sbin/nologin app", []string{"addgroup", "adduser"}
	default:
		return userPlan{advice: "create an unprivileged user and add USER", withheld: &withheld{analyzer.PreconditionUnknown,
			"dockopt does not know how to create a user in " + sf.Lineage()[0].Base.Raw + " (" + distro.Why + ")"}}
	}
	plan := userPlan{user: newAccountID, account: "app", created: true, lines: []string{create, "USER " + newAccountID},
		advice: "create an unprivileged user (UID " + newAccountID + ") with " + strings.Join(tools, "/") + " and add USER"}
	if p, why := sf.UserExistsAt(line, "app"); p != analyzer.Absent {
		plan.withheld = &withheld{analyzer.PreconditionUser, "an account app may already exist (" + why + "), and creating it again would fail"}
		return plan
	}
	ids := accountIDsAt(sf, line)
	if l, ok := ids.groups["app"]; ok {
		plan.withheld = &withheld{analyzer.PreconditionUser, fmt.Sprintf("line %d already creates a group app, and creating it again would fail", l)}
		return plan
	}
	for _, taken := range []struct {
		what  string
		lines map[string]int
	}{{"UID", ids.takenUID}, {"GID", ids.takenGID}} {
		if l, ok := taken.lines[newAccountID]; ok {
			plan.withheld = &withheld{analyzer.PreconditionUser, fmt.Sprintf("line %d already gives the %s %s to another account or group, and creating app with it would fail", l, taken.what, newAccountID)}
			return plan
		}
	}
	for _, t := range tools {
		if p, why := sf.ToolAt(line, t); p != analyzer.Present {
			plan.withheld = &withheld{analyzer.PreconditionTool, t + " is not known to be in the image there (" + why + ")"}
			return plan
		}
	}
	return plan
}

// existingUser plans a USER for an account the image should already have
// (with uid, its ID in the image, "" when unknown), withheld unless the
// facts say it exists at that line.
func existingUser(sf *analyzer.StageFacts, line int, account, uid, ships, more string) userPlan {
	user := account
	ids := accountIDsAt(sf, line)
	if id, ok := ids.uid[account]; ok {
		user = id
	} else if uid != "" && !ids.modified[account] {
		// Renumbered (usermod -u to match a host's UID), the image's
		// own number no longer names it: the name stays.
		user = uid
	}
	advice := ships + ": add USER " + user + more
	switch {
	case ids.uidLine[account] > 0:
		advice = fmt.Sprintf("%s, which line %d gives the UID %s: add USER %s%s", ships, ids.uidLine[account], user, user, more)
	case user != account:
		advice = ships + " (UID " + user + "): add USER " + user + more
	}
	plan := userPlan{user: user, account: account, lines: []string{"USER " + user}, advice: advice}
	if p, why := sf.UserExistsAt(line, account); p != analyzer.Present {
		plan.withheld = &withheld{analyzer.PreconditionUser, "no account " + account + " is known to exist there (" + why + ")"}
	}
	return plan
}

// nonrootUID is the ID of the nonroot account of the distroless and
// Chainguard images, so that USER can name it by number, as
// user-non-numeric asks.
const nonrootUID = "65532"

// newAccountID is the UID and GID of the account the fix creates: fixed,
// above the ranges distributions hand out, and the one the rewrites use.
const newAccountID = "10001"

// accountIDs is what the RUNs of a stage's lineage before a line do to
// numeric IDs: the UID each account was last given (useradd/adduser -u,
// usermod -u), the accounts renumbered or edited in a way dockopt does
// not follow, and the UIDs and GIDs already taken, with the line.
type accountIDs struct {
	uid      map[string]string
	uidLine  map[string]int
	modified map[string]bool
	takenUID map[string]int
	takenGID map[string]int
	groups   map[string]int
}

func accountIDsAt(sf *analyzer.StageFacts, line int) accountIDs {
	ids := accountIDs{uid: map[string]string{}, uidLine: map[string]int{}, modified: map[string]bool{}, takenUID: map[string]int{}, takenGID: map[string]int{}, groups: map[string]int{}}
	numeric := func(v string) bool { return v != "" && strings.Trim(v, "0123456789") == "" }
	for _, s := range sf.Lineage() {
		for _, in := range s.Instructions {
			if in.Keyword != "RUN" || in.Script == nil || (line > 0 && in.StartLine >= line) {
				continue
			}
			for _, c := range in.Script.CommandsNamed("useradd", "adduser", "usermod", "groupadd", "addgroup", "groupmod") {
				switch c.Name {
				case "useradd", "adduser", "usermod":
					_, pos := analyzer.AccountOptions(c)
					if len(pos) == 0 {
						continue
					}
					name := pos[0].Value
					if c.Name == "usermod" {
						name = pos[len(pos)-1].Value
						ids.modified[name] = true
					}
					if v, ok := useraddUID(c); ok && numeric(v) {
						ids.uid[name], ids.uidLine[name] = v, in.StartLine
						ids.takenUID[v] = in.StartLine
					} else if ok || hasUIDOption(c) {
						// -u $UID: renumbered to what dockopt cannot tell.
						delete(ids.uid, name)
					}
					if c.Name == "adduser" {
						// busybox adduser -G is a group name; Debian's adduser
						// takes --gid.
						if v, ok := optionValue(c, "--gid"); ok && numeric(v) {
							ids.takenGID[v] = in.StartLine
						}
					}
				default:
					opts, pos := analyzer.AccountOptions(c)
					if o, ok := analyzer.LastOption(opts, "-g", "--gid"); ok && numeric(o.Value.Value) {
						ids.takenGID[o.Value.Value] = in.StartLine
					}
					switch {
					case c.Name == "groupmod" && len(pos) > 0:
						ids.modified[pos[len(pos)-1].Value] = true
					case c.Name != "groupmod" && len(pos) == 1:
						// groupadd NAME; busybox addgroup [USER] GROUP adds a
						// user to a group only with two names.
						ids.groups[pos[0].Value] = in.StartLine
					}
				}
			}
		}
	}
	return ids
}

// hasUIDOption reports -u/--uid in any form, static or not.
func hasUIDOption(c analyzer.Command) bool {
	opts, _ := analyzer.AccountOptions(c)
	_, found := analyzer.LastOption(opts, "-u", "--uid")
	return found
}

// optionValue returns the static value of the first of names given as
// `-g 10` or `--gid=10`.
func optionValue(c analyzer.Command, names ...string) (string, bool) {
	for i, a := range c.Args {
		for _, n := range names {
			switch {
			case a.Value == n && i+1 < len(c.Args) && !c.Args[i+1].Dynamic:
				return c.Args[i+1].Value, true
			case strings.HasPrefix(n, "--") && strings.HasPrefix(a.Value, n+"=") && !a.Dynamic:
				return strings.TrimPrefix(a.Value, n+"="), true
			case len(n) == 2 && len(a.Value) > 2 && strings.HasPrefix(a.Value, n) && !a.Dynamic:
				// -g10001
				return a.Value[2:], true
			}
		}
	}
	return "", false
}

// unwritable describes the paths the application writes that account
// neither owns nor may write because they are world-writable.
func unwritable(sf *analyzer.StageFacts, plan userPlan) []string {
	var out []string
	for _, wp := range sf.WrittenPaths() {
		if wp.WorldWritable || wp.Owner == plan.account || wp.Owner == plan.user {
			continue
		}
		owner := "owned by " + wp.Owner
		if wp.Owner == "" {
			owner = "with an owner dockopt cannot tell"
		}
		out = append(out, fmt.Sprintf("%s (%s), %s (%s)", wp.Path, strings.Join(wp.Why, ", "), owner, wp.OwnerWhy))
	}
	return out
}

// rootNotes lists what the reviewer must check after switching user.
func rootNotes(final *analyzer.Stage, user string) []string {
	var notes []string
	var rootCopies []int
	for _, in := range final.LineageInstructions() {
		if c, ok := copyOf(in); ok && c.chown == "" && !systemDest(analyzer.ResolvePath(in.WorkdirBefore(), c.dest)) {
			rootCopies = append(rootCopies, in.StartLine)
		}
		if c, ok := in.Command.(*instructions.EnvCommand); ok {
			for _, kv := range c.Env {
				if strings.Contains(kv.Value, "/root/") || strings.HasSuffix(kv.Value, "/root") {
					notes = append(notes, fmt.Sprintf("ENV %s on line %d points into /root, which another user cannot read", kv.Key, in.StartLine))
				}
			}
		}
	}
	if len(rootCopies) > 0 && user != "" {
		notes = append(notes, fmt.Sprintf("files copied on line %s stay owned by root: if the app writes to them, copy them with --chown=%s", joinLines(rootCopies), user))
	}
	return notes
}

// insertInstructions inserts lines before anchor, or after the stage's
// last instruction when anchor is nil.
func insertInstructions(d *analyzer.Dockerfile, s *analyzer.Stage, anchor *analyzer.Instruction, lines []string) analyzer.TextEdit {
	if anchor != nil {
		return insertLinesBefore(d, anchor, lines...)
	}
	last := s.From
	if n := len(s.Instructions); n > 0 {
		last = s.Instructions[n-1]
	}
	return insertLinesAfter(d, last, lines...)
}

// systemDest reports destinations an application does not write to.
func systemDest(dest string) bool {
	for _, p := range []string{"/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"} {
		if dest == p || strings.HasPrefix(dest, p+"/") {
			return true
		}
	}
	return false
}

// cliSuffixes and cliTools name command-line tools: programs run on the
// files of whoever starts the container, not services.
var (
	cliSuffixes = []string{"ctl", "cli", "-tool", "_tool", "tool"}
	cliTools    = map[string]bool{"terraform": true, "tofu": true, "terragrunt": true, "packer": true, "kubectl": true, "helm": true,
		"aws": true, "gcloud": true, "az": true, "ansible": true, "ansible-playbook": true, "jq": true, "yq": true, "git": true,
		"curl": true, "wget": true, "sqlite3": true, "psql": true, "mysql": true, "ffmpeg": true, "pandoc": true, "hugo": true,
		"make": true, "shellcheck": true, "hadolint": true, "trivy": true, "semgrep": true, "pre-commit": true, "pulumi": true}
)

// commandLineTool returns the program of an image that runs a
// command-line tool, "" otherwise: its ENTRYPOINT names a known tool, or
// a program whose name says so (kubectl, vendor-tool, deployctl), or its
// CMD asks for --help; and the image exposes no port and runs no known
// server. A USER there is for the people who run it to choose: the
// files they mount in are theirs.
func commandLineTool(sf *analyzer.StageFacts, final *analyzer.Stage) string {
	if len(sf.Ports()) > 0 || len(sf.Servers()) > 0 {
		return ""
	}
	var entry, cmd *analyzer.Instruction
	for _, in := range final.LineageInstructions() {
		switch in.Keyword {
		case "ENTRYPOINT":
			entry, cmd = in, nil
		case "CMD":
			cmd = in
		case "HEALTHCHECK":
			return "" // a probe says it serves
		}
	}
	var words []string
	switch {
	case entry != nil && entry.JSON:
		if c, ok := entry.Command.(*instructions.EntrypointCommand); ok {
			words = c.CmdLine
		}
	case entry == nil && cmd != nil && cmd.JSON:
		// CMD ["curl"]: the tool, with the arguments people pass
		// replacing the CMD.
		if c, ok := cmd.Command.(*instructions.CmdCommand); ok {
			words = c.CmdLine
		}
		cmd = nil
	}
	if len(words) == 0 {
		return ""
	}
	prog := path.Base(words[0])
	if cliTools[prog] {
		return prog
	}
	for _, suffix := range cliSuffixes {
		if strings.HasSuffix(prog, suffix) {
			return prog
		}
	}
	if cmd != nil {
		if cc, ok := cmd.Command.(*instructions.CmdCommand); ok && len(cc.CmdLine) == 1 {
			switch cc.CmdLine[0] {
			case "--help", "-h", "help", "--version", "version":
				return prog
			}
		}
	}
	return ""
}

// noStartCommand says why a final stage with no CMD or ENTRYPOINT of its
// own leaves its user alone. A base image whose own ENTRYPOINT starts
// something (registry's /entrypoint.sh) still runs it, and what that
// needs is the base image's to say; a runtime's or a distribution's runs
// a prompt, so the command comes from whoever runs the container.
func noStartCommand(sf *analyzer.StageFacts) string {
	img, known := sf.BaseImage()
	if known && img.EntrypointKnown && len(img.Entrypoint) > 0 && sf.CommandFromElsewhere() == "" {
		base := sf.Lineage()[0].Base.Raw
		return fmt.Sprintf("the Dockerfile sets no CMD or ENTRYPOINT of its own, so the container runs %s's ENTRYPOINT (%s) with its CMD, and whether that needs root is %s's to say",
			base, strings.Join(img.Entrypoint, " "), base)
	}
	return "the Dockerfile sets no CMD or ENTRYPOINT, so what the container runs, and whether it needs root, is up to whoever runs it"
}
