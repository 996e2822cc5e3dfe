package rewrite

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
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
	// packages are the OS packages an install names.
	packages []string
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
		for _, c := range in.Script.Commands() {
			for _, a := range c.Args {
				if a.Dynamic {
					return nil, false
				}
			}
			cc := command{cmd: c, step: osStep(c)}
			if cc.step == stepPackages {
				cc.packages = packageNames(c)
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

// editors are tools for people, not for the service; a production image
// does not need them and they widen what an intruder can use.
func editor(pkg string) bool {
	switch baseName(pkg) {
	case "vim", "vim-tiny", "nano", "emacs", "emacs-nox", "less":
		return true
	}
	return false
}

// runtimeLib maps a Debian bookworm or Alpine development package to the
// library the built code loads at run time. Only well-known pairs are
// listed; for the rest the development package stays in the runtime, which
// is larger but cannot break.
func runtimeLib(distro, pkg string) (string, bool) {
	n := baseName(pkg)
	if distro == "alpine" {
		m := map[string]string{
			"postgresql-dev": "libpq", "libpq-dev": "libpq", "libffi-dev": "libffi", "openssl-dev": "libssl3",
			"jpeg-dev": "libjpeg-turbo", "zlib-dev": "zlib", "libxml2-dev": "libxml2", "libxslt-dev": "libxslt",
			"mariadb-dev": "mariadb-connector-c", "mariadb-connector-c-dev": "mariadb-connector-c", "yaml-dev": "yaml",
			"musl-dev": "", "linux-headers": "", "python3-dev": "",
		}
		lib, ok := m[n]
		return lib, ok
	}
	m := map[string]string{
		"libpq-dev": "libpq5", "libffi-dev": "libffi8", "libssl-dev": "libssl3", "libjpeg-dev": "libjpeg62-turbo",
		"libjpeg62-turbo-dev": "libjpeg62-turbo", "zlib1g-dev": "zlib1g", "libxml2-dev": "libxml2", "libxslt1-dev": "libxslt1.1",
		"default-libmysqlclient-dev": "libmariadb3", "libmariadb-dev": "libmariadb3", "libyaml-dev": "libyaml-0-2",
		"libc6-dev": "", "libc-dev": "", "python3-dev": "", "linux-headers-amd64": "",
	}
	lib, ok := m[n]
	return lib, ok
}

// splitPackages divides the installs of the original between a build
// stage and the runtime; dropped are the editors left out.
func splitPackages(distro string, cmds []command) (build, runtime, dropped []string) {
	add := func(list []string, p string) []string {
		for _, have := range list {
			if have == p {
				return list
			}
		}
		return append(list, p)
	}
	for _, c := range cmds {
		if c.step != stepPackages {
			continue
		}
		for _, p := range c.packages {
			switch {
			case editor(p):
				dropped = add(dropped, p)
			case buildOnly(p):
				build = add(build, p)
				if strings.HasSuffix(baseName(p), "-dev") || strings.HasSuffix(baseName(p), "-devel") {
					lib, known := runtimeLib(distro, p)
					switch {
					case !known:
						runtime = add(runtime, p)
					case lib != "":
						runtime = add(runtime, lib)
					}
				}
			default:
				runtime = add(runtime, p)
			}
		}
	}
	return build, runtime, dropped
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
		" && apt-get install -y --no-install-recommends " + strings.Join(pkgs, " ") + " \\\n" +
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

// imageWithTag writes an image reference with another tag, dropping a
// digest that belonged to the old tag.
func imageWithTag(r analyzer.ImageRef, tag string) string {
	r.Tag, r.Digest = tag, ""
	return r.String()
}
