package rules

import (
	"fmt"
	"strconv"
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
		`last-user-root check.`,
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
		user, lines, why := nonRootPlan(final)
		notes := rootNotes(final, user)
		anchor := userAnchor(final)
		var fix *analyzer.Fix
		if lowPort(final) != "" && lines != nil {
			notes = append(notes, fmt.Sprintf("it exposes port %s, which a non-root user cannot bind without extra capabilities: move the app to a port above 1023 first", lowPort(final)))
			lines = nil
		}
		if lines != nil {
			fix = &analyzer.Fix{
				Message: "run as the unprivileged user " + user,
				Edits:   []analyzer.TextEdit{insertInstructions(d, final, anchor, lines)},
			}
		}
		msg := "the final image runs as root: no USER is set and " + base.Raw + " does not set one; " + why
		if len(notes) > 0 {
			msg += "; check: " + strings.Join(notes, "; ")
		}
		in := anchor
		if in == nil {
			in = final.From
		}
		p.Report(in, msg, fix)
	},
}

// nonRootPlan chooses the user and the lines that switch to it.
func nonRootPlan(final *analyzer.Stage) (user string, lines []string, why string) {
	if u, line := createdUser(final); u != "" {
		return u, []string{"USER " + u}, fmt.Sprintf("the user %s is created on line %d but never used: add USER %s", u, line, u)
	}
	base := final.Root().Base
	name := base.Name()
	switch {
	case base.IsScratch():
		return "65532:65532", []string{"USER 65532:65532"}, "add USER 65532:65532 (scratch has no user database, a numeric ID works)"
	case base.IsDistroless():
		return "nonroot", []string{"USER nonroot"}, "distroless images ship the user nonroot: add USER nonroot, or use the :nonroot tag"
	case name == "node" || strings.HasPrefix(name, "node-"):
		return "node", []string{"USER node"}, "the node image ships the user node: add USER node"
	case name == "nginx" || name == "httpd" || strings.HasSuffix(name, "-nginx"):
		return "", nil, "nginx needs root to bind port 80 and write its pid file: switch to nginxinc/nginx-unprivileged (port 8080), which runs as nginx"
	case strings.Contains(name, "minimal") || strings.Contains(name, "micro") || name == "busybox":
		return "", nil, "create an unprivileged user and add USER"
	}
	switch final.Root().Base.Distro() {
	case "debian":
		return "app", []string{"RUN groupadd --system app && useradd --system --gid app --no-create-home --shell /usr/sbin/nologin app", "USER app"},
			"create an unprivileged user with groupadd/useradd and add USER"
	case "alpine":
		return "app", []string{"RUN addgroup -S app && adduser -S -G app -H -s /sbin/nologin app", "USER app"},
			"create an unprivileged user with addgroup/adduser and add USER"
	case "rhel":
		return "app", []string{"RUN groupadd -r app && useradd -r -g app -M -s /sbin/nologin app", "USER app"},
			"create an unprivileged user with groupadd/useradd and add USER"
	}
	return "", nil, "create an unprivileged user and add USER"
}

// createdUser returns a user a RUN of the final image creates.
func createdUser(final *analyzer.Stage) (string, int) {
	for _, in := range final.LineageInstructions() {
		if in.Script == nil {
			continue
		}
		for _, c := range in.Script.CommandsNamed("useradd", "adduser") {
			valued := []string{"-s", "--shell", "-g", "--gid", "-G", "--groups", "-u", "--uid", "-d", "--home", "--home-dir",
				"-c", "--comment", "--gecos", "-h", "-k", "--skel", "-K", "-e", "-f", "-p", "--ingroup", "-b", "--base-dir"}
			pos := c.Positional(valued...)
			if c.Name == "adduser" && len(pos) == 2 && !c.HasPrefixArg("-") {
				continue // `adduser user group` adds to a group
			}
			if len(pos) > 0 && !pos[0].Dynamic && pos[len(pos)-1].Value != "" {
				last := pos[len(pos)-1]
				if c.Name == "adduser" && len(pos) == 2 {
					last = pos[0]
				}
				if !last.Dynamic {
					return last.Value, in.StartLine
				}
			}
		}
	}
	return "", 0
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

// lowPort returns the first exposed port below 1024, "" if none.
func lowPort(final *analyzer.Stage) string {
	for _, in := range final.LineageInstructions() {
		if in.Keyword != "EXPOSE" {
			continue
		}
		for _, a := range in.Args {
			port, _, _ := strings.Cut(a, "/")
			if n, err := strconv.Atoi(port); err == nil && n < 1024 {
				return port
			}
		}
	}
	return ""
}

// userAnchor returns the instruction a USER goes before: the first
// CMD or ENTRYPOINT of the stage, moved up over the metadata just above
// it (EXPOSE, HEALTHCHECK, LABEL, STOPSIGNAL); nil to append.
func userAnchor(s *analyzer.Stage) *analyzer.Instruction {
	idx := -1
	for i, in := range s.Instructions {
		if in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT" {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil
	}
	for idx > 0 {
		switch s.Instructions[idx-1].Keyword {
		case "EXPOSE", "HEALTHCHECK", "LABEL", "STOPSIGNAL":
			idx--
			continue
		}
		break
	}
	return s.Instructions[idx]
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
