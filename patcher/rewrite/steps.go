package rewrite

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"mvdan.cc/sh/v3/syntax"
)

// step is what one command of an original RUN does, as far as a rewrite
// is concerned. Commands of no known step make the rewrite bail out.
type step int

const (
	stepUnknown step = iota
	// stepNoop: nothing the new file needs (cd, mkdir, apt-get update,
	// list cleanup, `true`): the new file does its own equivalent.
	stepNoop
	// stepPackages: an OS package install (apt-get install, apk add).
	stepPackages
	// stepDeps: a language package install (npm ci, pip install …).
	stepDeps
	// stepBuild: the project's build (npm run build, go build …).
	stepBuild
	// stepChown: ownership changes for the app's folder.
	stepChown
	// stepUser: account creation; the new file brings its own user.
	stepUser
)

// command is one classified command of a RUN.
type command struct {
	step step
	cmd  analyzer.Command
	// in is the RUN the command is part of, whose environment (an ENV
	// before it) can change what the command does.
	in *analyzer.Instruction
	// packages are the OS packages an install names.
	packages []string
	// forPeople is set when the comment above the RUN says its tools are
	// for people to use in the running container (debugging): editors
	// it installs stay.
	forPeople bool
}

// classify sorts the commands of every RUN; ecosystem-specific steps are
// recognised by lang. It reports false when any command is unknown or
// when a word's value depends on the shell.
func classify(o *original, lang func(analyzer.Command) step) ([]command, bool) {
	var out []command
	for _, in := range o.runs {
		for _, m := range in.Mounts() {
			// A mount the new file would drop could hold a secret the
			// step needs.
			if m.Type != "cache" {
				return nil, false
			}
		}
		if writesFiles(in.Script) {
			// A redirect writes a file the new Dockerfile would not.
			return nil, false
		}
		for _, c := range in.Script.Commands() {
			for _, a := range c.Args {
				if a.Dynamic {
					return nil, false
				}
			}
			cc := command{cmd: c, in: in, step: osStep(c)}
			if cc.step == stepPackages {
				cc.packages = packageNames(c)
				cc.forPeople = mentionsDebugging(in.Comments)
			}
			if cc.step == stepUnknown {
				cc.step = lang(c)
			}
			if cc.step == stepUnknown {
				return nil, false
			}
			out = append(out, cc)
		}
	}
	return out, true
}

// writesFiles reports a redirect of output into a file (not /dev/null,
// not another descriptor).
func writesFiles(s *analyzer.Script) bool {
	found := false
	syntax.Walk(s.File, func(n syntax.Node) bool {
		r, ok := n.(*syntax.Redirect)
		if !ok || found {
			return !found
		}
		switch r.Op {
		case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.RdrClob:
			if w, lit := analyzer.Literal(r.Word); !lit || w != "/dev/null" {
				found = true
			}
		}
		return true
	})
	return found
}

// osStep recognises the commands every kind of Dockerfile uses.
func osStep(c analyzer.Command) step {
	switch c.Name {
	case "true", ":", "cd", "mkdir", "echo", "ls", "pwd":
		return stepNoop
	case "chown", "chmod":
		return stepChown
	case "useradd", "adduser", "groupadd", "addgroup", "usermod":
		return stepUser
	case "rm":
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "-") {
				continue
			}
			if !strings.HasPrefix(a.Value, "/var/lib/apt/lists") && !strings.HasPrefix(a.Value, "/var/cache/apk") &&
				!strings.HasPrefix(a.Value, "/tmp/") && !strings.HasPrefix(a.Value, "/root/.cache") && !strings.HasPrefix(a.Value, "/root/.npm") {
				return stepUnknown
			}
		}
		return stepNoop
	case "apt-get", "apt":
		switch c.Subcommand("-o", "-t", "--target-release") {
		case "update", "upgrade", "dist-upgrade", "clean", "autoclean", "autoremove":
			return stepNoop
		case "install":
			return stepPackages
		}
	case "apk":
		switch c.Subcommand("-X", "--repository", "-t", "--virtual") {
		case "update", "upgrade", "cache":
			return stepNoop
		case "add":
			if c.Has("-t", "--virtual") {
				// A virtual package is removed later by name; keep it simple.
				return stepUnknown
			}
			return stepPackages
		}
	}
	return stepUnknown
}

// packageNames lists the packages an apt-get install or apk add names,
// without version pins (`curl=7.*` keeps its pin as written).
func packageNames(c analyzer.Command) []string {
	var out []string
	pos := c.Positional("-o", "-t", "--target-release", "-X", "--repository")
	for _, w := range pos[1:] {
		out = append(out, w.Value)
	}
	return out
}

// baseName is a package name without its version pin.
func baseName(pkg string) string {
	for _, sep := range []string{"=", ">", "<", "~"} {
		if i := strings.Index(pkg, sep); i > 0 {
			pkg = pkg[:i]
		}
	}
	return pkg
}

// buildOnly reports packages that only building needs: compilers, headers
// and the tools that drive them.
func buildOnly(pkg string) bool {
	n := baseName(pkg)
	switch n {
	case "gcc", "g++", "make", "cmake", "build-essential", "build-base", "musl-dev", "libc-dev", "libc6-dev",
		"pkg-config", "pkgconf", "autoconf", "automake", "libtool", "git", "cargo", "rustc", "python3-dev":
		return true
	}
	return strings.HasSuffix(n, "-dev") || strings.HasSuffix(n, "-devel")
}

// mentionsDebugging reports comments that say what follows is for
// debugging, which is the author's reason to ship an editor.
func mentionsDebugging(comments []string) bool {
	for _, c := range comments {
		if strings.Contains(strings.ToLower(c), "debug") {
			return true
		}
	}
	return false
}

// editors are tools for people, not for the service; a production image
// does not need them and they widen what an intruder can use.
func editor(pkg string) bool {
	switch baseName(pkg) {
	case "vim", "vim-tiny", "nano", "emacs", "emacs-nox", "less":
		return true
	}
	return false
}

// libraries maps a development package to the shared library package the
// built code loads at run time, per distribution and release ("*": every
// release dockopt knows). "" means nothing is needed at run time. A name
// is listed only where the release is known: a guessed name fails the
// install, so an unlisted one keeps the development package instead.
var libraries = map[string]map[string]map[string]string{
	"debian": {
		"libpq-dev":                  {"*": "libpq5"},
		"libffi-dev":                 {"bullseye": "libffi7", "bookworm": "libffi8", "trixie": "libffi8"},
		"libssl-dev":                 {"bullseye": "libssl1.1", "bookworm": "libssl3", "trixie": "libssl3t64"},
		"libjpeg-dev":                {"*": "libjpeg62-turbo"},
		"libjpeg62-turbo-dev":        {"*": "libjpeg62-turbo"},
		"zlib1g-dev":                 {"*": "zlib1g"},
		"libxml2-dev":                {"bullseye": "libxml2", "bookworm": "libxml2"},
		"libxslt1-dev":               {"bullseye": "libxslt1.1", "bookworm": "libxslt1.1"},
		"default-libmysqlclient-dev": {"*": "libmariadb3"},
		"libmariadb-dev":             {"*": "libmariadb3"},
		"libyaml-dev":                {"*": "libyaml-0-2"},
		"libc6-dev":                  {"*": ""},
		"libc-dev":                   {"*": ""},
		"python3-dev":                {"*": ""},
		"linux-headers-amd64":        {"*": ""},
	},
	"alpine": {
		"postgresql-dev":          {"*": "libpq"},
		"libpq-dev":               {"*": "libpq"},
		"libffi-dev":              {"*": "libffi"},
		"openssl-dev":             {"3.17+": "libssl3"},
		"jpeg-dev":                {"*": "libjpeg-turbo"},
		"zlib-dev":                {"*": "zlib"},
		"libxml2-dev":             {"*": "libxml2"},
		"libxslt-dev":             {"*": "libxslt"},
		"mariadb-dev":             {"*": "mariadb-connector-c"},
		"mariadb-connector-c-dev": {"*": "mariadb-connector-c"},
		"yaml-dev":                {"*": "yaml"},
		"musl-dev":                {"*": ""},
		"linux-headers":           {"*": ""},
		"python3-dev":             {"*": ""},
	},
}

// runtimeLib returns the library package a development package stands for
// in a release ("" for an unknown release), and whether it is known.
func runtimeLib(distro, release, pkg string) (string, bool) {
	byRelease, ok := libraries[distro][baseName(pkg)]
	if !ok {
		return "", false
	}
	if lib, ok := byRelease["*"]; ok {
		return lib, true
	}
	if release == "" {
		return "", false
	}
	if lib, ok := byRelease[release]; ok {
		return lib, true
	}
	if distro == "alpine" {
		// Alpine releases are versions: "3.17+" holds from 3.17 on.
		for since, lib := range byRelease {
			if v, ok := strings.CutSuffix(since, "+"); ok && alpineAtLeast(release, v) {
				return lib, true
			}
		}
	}
	return "", false
}

// alpineAtLeast compares Alpine versions such as "3.20" and "3.17".
func alpineAtLeast(v, min string) bool {
	parse := func(s string) (int, int, bool) {
		a, b, _ := strings.Cut(s, ".")
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		return x, y, err1 == nil && err2 == nil
	}
	x1, y1, ok1 := parse(v)
	x2, y2, ok2 := parse(min)
	return ok1 && ok2 && (x1 > x2 || x1 == x2 && y1 >= y2)
}

// release reads the distribution release an image tag names: a Debian
// codename ("3.12-slim-bookworm") or an Alpine version ("20-alpine3.20");
// "" when the tag names none and the release is whatever the image's
// maintainers made the default at the time of the build.
func release(distro, tag string) string {
	t := strings.ToLower(tag)
	if distro == "alpine" {
		if m := alpineVersion.FindStringSubmatch(t); m != nil {
			return m[1]
		}
		return ""
	}
	for _, code := range []string{"bookworm", "bullseye", "trixie", "buster"} {
		if strings.Contains(t, code) {
			return code
		}
	}
	return ""
}

var alpineVersion = regexp.MustCompile(`alpine(\d+\.\d+)`)

// pythonShips lists the development packages whose libraries the Python
// images keep for the interpreter itself (its ssl, ctypes and zlib
// modules load them), slim and Alpine variants included.
var pythonShips = map[string]bool{"libssl-dev": true, "libffi-dev": true, "zlib1g-dev": true, "openssl-dev": true, "zlib-dev": true}

// packageSplit is how a rewrite divides the OS packages the original
// installs between its build stage and its runtime.
type packageSplit struct {
	// build are compilers, headers and the tools that drive them.
	build []string
	// libs are the libraries the runtime installs for the development
	// packages of the original (libFrom: library → why it is needed).
	libs    []string
	libFrom map[string]string
	// shipped are development packages whose library the runtime image
	// has already.
	shipped []string
	// keptDev are development packages whose library's name is not known
	// for the image's release: they stay in the runtime, larger but sure.
	keptDev []string
	// tools are the other packages, kept as the original installed them:
	// nothing tells that the app does not run them.
	tools []string
	// dropped are editors, which no service runs.
	dropped []string
	// forDebugging are editors that stay because the comment above their
	// install says they are for debugging.
	forDebugging []string
}

// runtime is what the runtime stage installs.
func (ps packageSplit) runtime() []string {
	return slices.Concat(ps.libs, ps.keptDev, ps.tools, ps.forDebugging)
}

// withPackage is pkgs with pkg added at the end unless it is there (the
// original may install tini itself: `apk add tini tini` is noise).
func withPackage(pkgs []string, pkg string) []string {
	if slices.Contains(pkgs, pkg) {
		return pkgs
	}
	return append(pkgs, pkg)
}

// addLib adds a library the runtime needs, and why.
func (ps *packageSplit) addLib(lib, why string) {
	if !slices.Contains(ps.libs, lib) {
		ps.libs = append(ps.libs, lib)
		ps.libFrom[lib] = why
	}
}

// splitPackages divides the installs of the original. ships reports a
// development package whose library the runtime image has already.
func splitPackages(distro, rel string, ships func(string) bool, cmds []command) packageSplit {
	ps := packageSplit{libFrom: map[string]string{}}
	for _, c := range cmds {
		if c.step != stepPackages {
			continue
		}
		for _, p := range c.packages {
			dev := strings.HasSuffix(baseName(p), "-dev") || strings.HasSuffix(baseName(p), "-devel")
			switch {
			case editor(p) && c.forPeople:
				ps.forDebugging = appendNew(ps.forDebugging, p)
			case editor(p):
				ps.dropped = appendNew(ps.dropped, p)
			case !buildOnly(p):
				ps.tools = appendNew(ps.tools, p)
			default:
				ps.build = appendNew(ps.build, p)
				if !dev {
					continue
				}
				lib, known := runtimeLib(distro, rel, p)
				switch {
				case ships != nil && ships(baseName(p)):
					ps.shipped = appendNew(ps.shipped, p)
				case !known:
					ps.keptDev = appendNew(ps.keptDev, p)
				case lib != "":
					ps.addLib(lib, "`"+p+"`")
				}
			}
		}
	}
	return ps
}

// describe says what the runtime installs and why, a sentence per reason;
// how says how the libraries are installed.
func (ps packageSplit) describe(how string) []string {
	var out []string
	if len(ps.libs) > 0 {
		var pairs []string
		for _, l := range ps.libs {
			pairs = append(pairs, fmt.Sprintf("`%s` (for %s)", l, ps.libFrom[l]))
		}
		out = append(out, fmt.Sprintf("Runtime shared libraries for the compiled dependencies: %s, %s.", strings.Join(pairs, ", "), how))
	}
	if len(ps.shipped) > 0 {
		out = append(out, fmt.Sprintf("The libraries behind %s are in the runtime image already; only the builder installs the headers.", code(ps.shipped)))
	}
	if len(ps.keptDev) > 0 {
		out = append(out, fmt.Sprintf("%s stay%s in the runtime, pulling in the right library: its name differs between releases and the tag names none.", code(ps.keptDev), plural(ps.keptDev, "s", "")))
	}
	if len(ps.tools) > 0 {
		out = append(out, fmt.Sprintf("The runtime keeps %s as the original installed %s: nothing shows the app does not run %s.", code(ps.tools), plural(ps.tools, "it", "them"), plural(ps.tools, "it", "them")))
	}
	if len(ps.forDebugging) > 0 {
		out = append(out, fmt.Sprintf("%s stay%s in the runtime: the comment on the original's install says %s for debugging.", code(ps.forDebugging), plural(ps.forDebugging, "s", ""), plural(ps.forDebugging, "it is", "they are")))
	}
	if len(ps.dropped) > 0 {
		out = append(out, fmt.Sprintf("Editors (%s) are not installed in the runtime.", code(ps.dropped)))
	}
	return out
}

// plural picks an ending by count.
func plural(list []string, one, many string) string {
	if len(list) == 1 {
		return one
	}
	return many
}

// installLine is a RUN that installs OS packages the way the rules want
// it: no recommends, lists removed in the same layer; or apk --no-cache.
func installLine(distro string, pkgs []string) string {
	if len(pkgs) == 0 {
		return ""
	}
	if distro == "alpine" {
		return "RUN apk add --no-cache " + strings.Join(pkgs, " ")
	}
	return "RUN apt-get update \\\n" +
		" && apt-get install -y --no-install-recommends " + strings.Join(withNeededRecommends(pkgs), " ") + " \\\n" +
		" && rm -rf /var/lib/apt/lists/*"
}

// hasStep reports whether any command is of step s.
func hasStep(cmds []command, s step) bool {
	for _, c := range cmds {
		if c.step == s {
			return true
		}
	}
	return false
}

// officialImage reports the official image of that name (python, node),
// on Docker Hub, on the official images' own mirrors
// (public.ecr.aws/docker/library/node) or a registry that keeps its name,
// and not another
// publisher's image of the same name: bitnami/node and bitnami/python push
// no -slim tags, keep the app in WORKDIR /app and have no node account, so
// a runtime stage read off the official image's conventions would not
// build.
func officialImage(r analyzer.ImageRef, name string) bool {
	return r.Repository == name || r.Official() == name
}

// slimTag turns the tag of an official language image into its slim
// variant, keeping the version as precise as it was written: "20" →
// "20-slim", "3.12.4-bookworm" → "3.12.4-slim-bookworm" is not a tag, so
// codenames become "-slim-<codename>" only for Python, which publishes
// them; Alpine and slim tags stay as they are.
func slimTag(name, tag string) string {
	t := strings.ToLower(tag)
	switch {
	case strings.Contains(t, "alpine") || strings.Contains(t, "slim"):
		return tag
	case tag == "" || t == "latest":
		return "slim"
	}
	for _, code := range []string{"bookworm", "bullseye", "trixie", "buster"} {
		if v, ok := strings.CutSuffix(t, "-"+code); ok {
			if name == "python" {
				return v + "-slim-" + code
			}
			return v + "-" + code + "-slim"
		}
		if t == code {
			return code + "-slim"
		}
	}
	return tag + "-slim"
}

// withNeededRecommends puts in front of pkgs the recommended packages
// they need that --no-install-recommends would leave out (ca-certificates
// for curl), unless pkgs name or bring them already.
func withNeededRecommends(pkgs []string) []string {
	var add []string
	for _, m := range analyzer.MissingRecommends(pkgs) {
		add = append(add, m.Package)
	}
	return append(add, pkgs...)
}
