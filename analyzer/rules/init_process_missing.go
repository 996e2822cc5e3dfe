package rules

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// InitProcessMissing finds Node and Python processes left to be PID 1.
var InitProcessMissing = &analyzer.Rule{
	ID:       "init-process-missing",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "Node or Python runs as PID 1 without an init process",
	Rationale: `The kernel treats PID 1 specially: signals it has no handler for are dropped. Node and a plain ` +
		`python script install no SIGTERM handler by default, so docker stop and Kubernetes wait out the grace ` +
		`period (10 or 30 seconds) and then SIGKILL the process, cutting open requests on every deploy; npm or ` +
		`yarn as PID 1 make it worse by not passing the signal on. PID 1 must also reap orphaned child ` +
		`processes, which these runtimes do not do. A tiny init (tini, dumb-init) in the image fixes both; so ` +
		`do docker run --init and compose's init: true, which is why the fix is offered for review rather than ` +
		`applied blindly. Kubernetes has no equivalent: shareProcessNamespace: true makes the pod's pause process ` +
		`PID 1, which reaps zombies but does not pass SIGTERM on to the app, so there the init belongs in the image. Servers that handle signals and reap their ` +
		`workers themselves (gunicorn, uvicorn, hypercorn) are not reported. The fix installs tini as root, before ` +
		`any USER, and puts it in front of the ENTRYPOINT the image already runs (node's docker-entrypoint.sh); ` +
		`it is withheld where that ENTRYPOINT is unknown, and only the final stage of an application image is changed.`,
	Bad:       "FROM node:20-alpine\nCMD [\"npm\", \"start\"]\n",
	Good:      "FROM node:20-alpine\nRUN apk add --no-cache tini\nENTRYPOINT [\"tini\", \"--\", \"docker-entrypoint.sh\"]\nCMD [\"node\", \"server.js\"]\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		d := p.File
		final := d.FinalStage()
		start := startInstruction(d)
		if final == nil || start == nil {
			return
		}
		if entry := effectiveEntrypoint(final); entry != nil && !entry.JSON && entry.Onbuild == nil {
			// A shell-form ENTRYPOINT ignores CMD: it alone decides PID 1.
			start = entry
		}
		proc, launcher := pid1Runtime(analyzer.StartCommand(d))
		if proc == "" {
			return
		}
		msg := fmt.Sprintf("%s runs as PID 1 without an init: it ignores SIGTERM unless the app handles it (so every stop waits for the kill timeout) and does not reap zombie processes; add tini or dumb-init, or run the container with docker run --init (compose: init: true; Kubernetes has no such switch, so the init belongs in the image)", proc)
		if !start.JSON {
			msg = fmt.Sprintf("the shell-form %s runs %s through /bin/sh with no init: PID 1 is the shell or %s, which do not handle SIGTERM for the app (so every stop waits for the kill timeout) or reap zombie processes; use the exec form and add tini or dumb-init, or run the container with docker run --init (compose: init: true; Kubernetes has no such switch, so the init belongs in the image)", start.Keyword, proc, firstWord(proc, launcher))
		} else if launcher != "" {
			msg = fmt.Sprintf("%s runs as PID 1 without an init and starts %s as its child: it does not pass SIGTERM on to %s reliably (so every stop waits for the kill timeout) and does not reap zombie processes; add tini or dumb-init (tini -g signals the whole group), or run the container with docker run --init (compose: init: true; Kubernetes has no such switch, so the init belongs in the image)", launcher, proc, proc)
		} else if proc == "npm" || proc == "yarn" || proc == "pnpm" {
			msg = fmt.Sprintf("%s runs as PID 1 without an init: it does not pass SIGTERM on to node reliably (so every stop waits for the kill timeout) and does not reap zombie processes; start node directly and add tini or dumb-init, or run the container with docker run --init (compose: init: true; Kubernetes has no such switch, so the init belongs in the image)", proc)
		}
		if runtimeChangeRefused(p, final, start, msg) {
			return
		}
		if launcher != "" {
			proc = launcher
		}
		fix, w := tiniFix(p, final, start, proc)
		if w != nil {
			w.report(p, start, msg)
			return
		}
		p.Report(start, msg, fix)
	},
}

// launchers stay PID 1 and run the command they are given as a child:
// conda run starts it as a subprocess. (poetry run and pipenv run exec
// it on Linux, so the runtime itself is PID 1 there.)
var launchers = map[string]bool{"conda": true}

// firstWord is the program a shell-form command starts first.
func firstWord(proc, launcher string) string {
	if launcher != "" {
		return launcher
	}
	return proc
}

// pid1Runtime names the runtime a start command leaves as PID 1, "" when
// an init is present or the process copes on its own; launcher is set
// when a launcher (conda run …) is PID 1 and the runtime its child.
func pid1Runtime(words []string) (proc, launcher string) {
	var all []string
	for _, w := range words {
		all = append(all, strings.Fields(w)...)
	}
	proc = pid1Program(all)
	if proc != "" && len(all) > 1 && launchers[path.Base(all[0])] && all[1] == "run" {
		launcher = path.Base(all[0]) + " run"
	}
	return proc, launcher
}

func pid1Program(all []string) string {
	found := ""
	for i, w := range all {
		base := path.Base(w)
		switch base {
		case "tini", "tini-static", "dumb-init", "s6-svscan", "catatonit", "init", "--init", "supervisord", "runsvdir", "pm2-runtime", "s6-overlay", "/init":
			return ""
		case "gunicorn", "uvicorn", "hypercorn", "daphne", "granian", "waitress-serve", "celery", "nginx", "httpd", "caddy":
			return ""
		case "node", "nodejs", "npm", "yarn", "pnpm", "npx", "bun", "ts-node", "tsx":
			if found == "" {
				found = base
			}
		case "python", "python3", "flask":
			if i+2 < len(all) && all[i+1] == "-m" {
				switch all[i+2] {
				case "gunicorn", "uvicorn", "hypercorn", "daphne", "celery", "granian":
					return ""
				}
			}
			if found == "" {
				found = base
			}
		}
		if strings.HasPrefix(base, "python3.") && found == "" {
			found = base
		}
	}
	return found
}

// tiniFix runs the start command under tini: it installs tini where the
// stage still runs as root (before its first USER, never after one),
// with the package manager the image has, and makes it the ENTRYPOINT,
// in front of the ENTRYPOINT the stage sets or inherits from its base
// image, so that what starts stays the same.
func tiniFix(p *analyzer.Pass, final *analyzer.Stage, start *analyzer.Instruction, proc string) (*analyzer.Fix, *withheld) {
	d := p.File
	sf := p.Facts().Stage(final)
	if start.Stage != final || start.Onbuild != nil {
		return nil, &withheld{analyzer.PreconditionUnknown, fmt.Sprintf("the start command comes from the stage %s, not the final stage", stageName(start.Stage))}
	}
	tiniArgs := []string{"tini", "--"}
	if !start.JSON || proc == "npm" || proc == "yarn" || proc == "pnpm" || proc == "npx" || strings.HasSuffix(proc, " run") {
		// A shell or a package manager sits between tini and node:
		// signal the whole process group so node gets SIGTERM too.
		tiniArgs = []string{"tini", "-g", "--"}
	}
	var edits []analyzer.TextEdit
	var wraps, entryLine string
	entry := lastEntrypoint(final)
	switch words, set, known, why := sf.InheritedEntrypoint(); {
	case set && (entry == nil || !entry.JSON):
		return nil, &withheld{analyzer.PreconditionUnknown, "the ENTRYPOINT the image runs (" + why + ") is not an exec-form ENTRYPOINT of the final stage that tini could be put in front of"}
	case set:
		edits = append(edits, analyzer.TextEdit{Start: entry.ArgsStart, End: entry.ContentEnd(d.Source), New: jsonArgs(append(tiniArgs, entry.Args...))})
		wraps = fmt.Sprintf("; tini runs the ENTRYPOINT of line %d, which starts the command as before", entry.StartLine)
	case !known:
		return nil, &withheld{analyzer.PreconditionUnknown, why + ", and an ENTRYPOINT for tini would replace it"}
	case start.Keyword != "CMD":
		return nil, &withheld{analyzer.PreconditionUnknown, fmt.Sprintf("the start command is the %s on line %d", start.Keyword, start.StartLine)}
	default:
		entryLine = matchCase("ENTRYPOINT", start.Written) + " " + jsonArgs(append(tiniArgs, words...))
		if len(words) > 0 {
			wraps = "; tini runs the base image's ENTRYPOINT " + strings.Join(words, " ") + ", which starts the command as before"
		}
	}
	// The install runs as root: before the stage's first USER, where the
	// runtime settings go otherwise (see runtimeAnchor), or earlier.
	anchor := runtimeAnchor(final)
	for _, in := range final.Instructions {
		if in == anchor {
			break
		}
		if in.Keyword == "USER" {
			anchor = in
			break
		}
	}
	anchor = earlierInstallAnchor(d, final, anchor)
	line := anchorLine(anchor)
	if has, _ := sf.ToolAt(line, "tini"); has == analyzer.Present {
		if entryLine != "" {
			edits = append(edits, insertLinesBefore(d, start, entryLine))
		}
		return &analyzer.Fix{Message: "run the command under the tini the image already has" + wraps, Edits: edits}, nil
	}
	if u := sf.UserAt(line); u.Root() != analyzer.Present {
		return nil, &withheld{analyzer.PreconditionUser, "tini must be installed as root, and the stage is not known to run as root there (" + u.Why + ")"}
	}
	var install, manager string
	switch sf.Distro().Family {
	case analyzer.DistroAlpine:
		install, manager = "RUN apk add --no-cache tini", "apk"
		if why := apkCommunityDropped(p, final, line); why != "" {
			return nil, &withheld{analyzer.PreconditionTool, why}
		}
	case analyzer.DistroDebian:
		install, manager = "RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*", "apt-get"
		if conf := aptConfiguredUnused(d, final, line); conf != nil {
			return nil, &withheld{analyzer.PreconditionUnknown, fmt.Sprintf("line %d configures apt (%s) and the image never runs apt after it, so whether an install works through that configuration where the image is built is unknown", conf.StartLine, aptConfigKind(conf))}
		}
	default:
		return nil, &withheld{analyzer.PreconditionTool, "dockopt installs tini with apk or apt-get only, and " + sf.Distro().Why}
	}
	if has, why := sf.ToolAt(line, manager); has != analyzer.Present {
		return nil, &withheld{analyzer.PreconditionTool, manager + " is not known to be in the image there (" + why + ")"}
	}
	if merge, ok := installToJoin(d, sf, final, line, manager); ok {
		// The stage installs packages as root already: tini joins that
		// list rather than downloading the package index a second time.
		edits = append(edits, analyzer.TextEdit{Start: merge.End, End: merge.End, New: " tini"})
		if entryLine != "" {
			edits = append(edits, insertLinesBefore(d, start, entryLine))
		}
		return &analyzer.Fix{Message: fmt.Sprintf("add tini to the %s install of line %d and run the command under it", manager, d.Line(merge.Start)) + wraps, Edits: edits}, nil
	}
	install = matchCase("RUN", start.Written) + strings.TrimPrefix(install, "RUN")
	switch {
	case anchor == start && entryLine != "":
		// One insertion before the start command: install, then ENTRYPOINT.
		edits = append(edits, insertLinesBefore(d, start, install, entryLine))
	case anchor == nil:
		edits = append(edits, insertLinesAfter(d, final.Instructions[len(final.Instructions)-1], install))
	default:
		edits = append(edits, insertLinesBefore(d, anchor, install))
	}
	if entryLine != "" && anchor != start {
		edits = append(edits, insertLinesBefore(d, start, entryLine))
	}
	return &analyzer.Fix{Message: "install tini with " + manager + " and run the command under it" + wraps, Edits: edits}, nil
}

// earlierInstallAnchor moves the install before the stage's first copy of
// the project, so that a code change does not download tini again, when
// nothing between there and anchor can change how the package manager
// runs: a copied or written configuration (a mirror in
// /etc/apk/repositories, an apt proxy, a CA certificate) or a proxy
// setting. Otherwise the install stays at anchor.
func earlierInstallAnchor(d *analyzer.Dockerfile, final *analyzer.Stage, anchor *analyzer.Instruction) *analyzer.Instruction {
	var early *analyzer.Instruction
	for _, in := range final.Instructions {
		if in == anchor {
			break
		}
		c, isCopy := copyOf(in)
		if early == nil {
			if isCopy && c.from == "" && !configuresSystem(in, c) {
				early = in
			}
			continue
		}
		switch {
		case isCopy && configuresSystem(in, c):
			return anchor
		case in.Keyword == "RUN":
			// The command only: a secret mounted at /etc/pip.conf
			// configures pip, not the package manager [049].
			text := string(d.Source[in.ArgsStart:in.End])
			for _, s := range []string{"/etc/", "ca-certificates", "apt-key", "gpg"} {
				if strings.Contains(text, s) {
					return anchor
				}
			}
		case in.Keyword == "ENV" || in.Keyword == "ARG":
			if strings.Contains(strings.ToLower(in.Text(d.Source)), "proxy") {
				return anchor
			}
		}
	}
	if early == nil {
		return anchor
	}
	return early
}

// aptConfiguredUnused returns the instruction of the final stage, before
// line (0: anywhere), that configures apt (a COPY into /etc/apt, a RUN
// writing a proxy or sources there) when no RUN after it runs apt-get or
// apt: an install
// there would be the first to go through that configuration (a proxy only
// some networks reach), nil otherwise.
func aptConfiguredUnused(d *analyzer.Dockerfile, final *analyzer.Stage, line int) *analyzer.Instruction {
	var conf *analyzer.Instruction
	for _, in := range final.Instructions {
		if line > 0 && in.StartLine >= line {
			break
		}
		if c, ok := copyOf(in); ok && c.from == "" {
			if dest := analyzer.ResolvePath(in.WorkdirBefore(), c.dest); dest == "/etc/apt" || strings.HasPrefix(dest, "/etc/apt/") {
				conf = in
			}
			continue
		}
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		if len(in.Script.CommandsNamed("apt-get", "apt")) > 0 {
			conf = nil
		} else if text := string(d.Source[in.ArgsStart:in.End]); strings.Contains(text, "/etc/apt/") && configuresAptNetwork(text) {
			conf = in
		}
	}
	return conf
}

// aptConfigKind says what aptConfiguredUnused found at in, as much as it
// read: a copied file's content is not.
func aptConfigKind(in *analyzer.Instruction) string {
	if in.Keyword == "RUN" {
		return "it writes a proxy, sources or mirror under /etc/apt"
	}
	return "it copies a file into /etc/apt"
}

// configuresAptNetwork reports a script text that sets where apt fetches
// from: a proxy, a sources list, a mirror. Install-Recommends and other
// behaviour settings do not decide whether an install can reach anything.
func configuresAptNetwork(text string) bool {
	lower := strings.ToLower(text)
	return strings.Contains(lower, "proxy") || strings.Contains(lower, "sources.list") || strings.Contains(lower, "acquire::") ||
		strings.Contains(lower, "deb http") || strings.Contains(lower, "mirror")
}

// installToJoin returns the last package word of the final stage's last
// install by manager before line (0: anywhere) that tini can join: run as
// root, unconditionally (not inside an if, a loop or either side of ||),
// after the index update in the same RUN for apt-get, with -y, every
// package named literally, and in a RUN that removes nothing it installed
// (apt-get purge, autoremove, apt-mark auto, apk del: the official images'
// build-dependency pattern would remove tini with the rest). It reports
// false when there is none.
func installToJoin(d *analyzer.Dockerfile, sf *analyzer.StageFacts, final *analyzer.Stage, line int, manager string) (analyzer.Word, bool) {
	type join struct {
		in   *analyzer.Instruction
		last analyzer.Word
	}
	var joins []join
	for _, in := range final.Instructions {
		if line > 0 && in.StartLine >= line {
			break
		}
		if in.Keyword != "RUN" || in.Script == nil || in.Onbuild != nil || removesPackages(in.Script) {
			continue
		}
		updated := false
		for _, c := range unconditionalCommands(in.Script) {
			if c.Name != manager {
				continue
			}
			var pkgs []analyzer.Word
			switch manager {
			case "apt-get":
				if c.Subcommand(aptGetValued...) == "update" {
					updated = true
				}
				if !updated || !c.Has("-y", "--yes", "-qy", "-yq", "--assume-yes") {
					continue
				}
				pkgs = aptInstallPackages(c)
			case "apk":
				if sub, ok := subcommandWord(c, apkValued...); !ok || sub.Value != "add" || apkGroupOrRoot(c) {
					continue
				}
				pkgs = afterSubcommand(c, apkValued...)
			}
			if len(pkgs) == 0 || slices.ContainsFunc(pkgs, func(w analyzer.Word) bool {
				return w.Dynamic || strings.HasPrefix(w.Value, "-") || w.Value != string(d.Source[w.Start:w.End])
			}) {
				continue
			}
			joins = append(joins, join{in, pkgs[len(pkgs)-1]})
		}
	}
	// The last install that runs as root; asking for the user is linear in
	// the stage, so only the last few are asked.
	for i := len(joins) - 1; i >= 0 && i >= len(joins)-3; i-- {
		if u := sf.UserAt(joins[i].in.StartLine); u.Root() == analyzer.Present {
			return joins[i].last, true
		}
	}
	return analyzer.Word{}, false
}

// removesPackages reports a script that removes packages again: apt-get
// purge, remove or autoremove, --auto-remove, apt-mark auto, apk del.
func removesPackages(s *analyzer.Script) bool {
	for _, c := range s.Commands() {
		switch c.Name {
		case "apt-get", "apt":
			switch c.Subcommand(aptGetValued...) {
			case "purge", "remove", "autoremove":
				return true
			}
			if c.Has("--auto-remove") {
				return true
			}
		case "apt-mark":
			if sub := c.Subcommand(); sub == "auto" {
				return true
			}
		case "apk":
			if sub, ok := subcommandWord(c, apkValued...); ok && sub.Value == "del" {
				return true
			}
		}
	}
	return false
}

// apkGroupOrRoot reports an apk add into a virtual group (-t, --virtual,
// either with its value attached), which apk del removes as one, or into
// another root (-p, --root).
func apkGroupOrRoot(c analyzer.Command) bool {
	for _, a := range c.Args {
		v := a.Value
		if v == "-t" || v == "--virtual" || v == "-p" || v == "--root" || strings.HasPrefix(v, "--virtual=") || strings.HasPrefix(v, "--root=") ||
			len(v) > 2 && (strings.HasPrefix(v, "-t") || strings.HasPrefix(v, "-p")) && v[1] != '-' {
			return true
		}
	}
	return false
}

// configuresSystem reports a COPY or ADD into the system's configuration
// or certificates rather than the project's folders.
func configuresSystem(in *analyzer.Instruction, c copySpec) bool {
	dest := analyzer.ResolvePath(in.WorkdirBefore(), c.dest)
	return strings.HasPrefix(dest, "/etc/") || dest == "/etc" || strings.Contains(dest, "ca-certificates") || strings.HasPrefix(dest, "/root/")
}

// effectiveEntrypoint returns the ENTRYPOINT the final image runs, from
// its lineage, nil if none is set.
func effectiveEntrypoint(final *analyzer.Stage) *analyzer.Instruction {
	var last *analyzer.Instruction
	for _, in := range final.LineageInstructions() {
		if in.Keyword == "ENTRYPOINT" {
			last = in
		}
	}
	return last
}

// lastEntrypoint returns the stage's own last ENTRYPOINT, nil if it sets
// none.
func lastEntrypoint(s *analyzer.Stage) *analyzer.Instruction {
	var last *analyzer.Instruction
	for _, in := range s.Instructions {
		if in.Keyword == "ENTRYPOINT" {
			last = in
		}
	}
	return last
}

// stageName names a stage for messages.
func stageName(s *analyzer.Stage) string {
	if s == nil {
		return "of an ONBUILD trigger"
	}
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("%d", s.Index)
}

// apkCommunityDropped says why Alpine's community repository, where tini
// is, may not be configured before line, or "": an instruction of the
// lineage replaces /etc/apk/repositories (a mirror of main only is
// common in companies) with content that does not name it.
func apkCommunityDropped(p *analyzer.Pass, final *analyzer.Stage, line int) string {
	for _, in := range final.LineageInstructions() {
		if in.Stage == final && in.StartLine >= line {
			break
		}
		switch c, isCopy := copyOf(in); {
		case isCopy && writesApkRepositories(c):
			if c.from != "" {
				return fmt.Sprintf("line %d copies /etc/apk/repositories from %s, so whether it lists the community repository, where tini is, is not known", in.StartLine, c.from)
			}
			for _, src := range c.contextSources() {
				b, err := p.Context.ReadFile(strings.TrimPrefix(path.Clean("/"+src), "/"))
				if err != nil {
					return fmt.Sprintf("line %d copies /etc/apk/repositories from %s, which dockopt could not read, so whether it lists the community repository, where tini is, is not known", in.StartLine, src)
				}
				if !bytes.Contains(b, []byte("community")) {
					return fmt.Sprintf("line %d replaces /etc/apk/repositories with %s, which does not list the community repository, where tini is", in.StartLine, src)
				}
			}
		case in.Keyword == "RUN":
			text := in.Text(p.File.Source)
			if strings.Contains(text, "/etc/apk/repositories") && strings.Contains(text, ">") && !strings.Contains(text, "community") {
				return fmt.Sprintf("line %d writes /etc/apk/repositories without the community repository, where tini is", in.StartLine)
			}
		}
	}
	return ""
}

// writesApkRepositories reports a COPY to /etc/apk/repositories, or of a
// file named repositories into /etc/apk/.
func writesApkRepositories(c copySpec) bool {
	dest := path.Clean(c.dest)
	if dest == "/etc/apk/repositories" {
		return true
	}
	if dest != "/etc/apk" {
		return false
	}
	for _, src := range c.contextSources() {
		if path.Base(src) == "repositories" {
			return true
		}
	}
	return c.from != ""
}
