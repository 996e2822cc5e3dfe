package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// UserLoginShell finds service users created with an interactive shell.
var UserLoginShell = &analyzer.Rule{
	ID:       "user-login-shell",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityInfo,
	Title:    "Service user is created with a login shell",
	Rationale: `A user that only runs a service never needs to log in. Given a shell (useradd's default ` +
		`/bin/sh or /bin/bash, adduser's /bin/bash, busybox adduser's root shell), the account is one step ` +
		`more useful to an attacker who gets code execution or a leaked credential, and hardening baselines ` +
		`(CIS, the seed report's "explicit user without shell access") ask for nologin. RUN, CMD and ` +
		`ENTRYPOINT do not use the user's login shell, so setting nologin does not change how the image runs; ` +
		`no fix is proposed when the Dockerfile switches users with su or runuser, which do.`,
	Bad:       "RUN useradd -m -s /bin/bash app\n",
	Good:      "RUN useradd -m --shell /usr/sbin/nologin app\n",
	Fix:       analyzer.Safe,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		usesSu := false
		for in := range p.File.Each("RUN") {
			if in.Script != nil && len(in.Script.CommandsNamed("su", "runuser", "login", "chsh")) > 0 {
				usesSu = true
			}
		}
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("useradd", "adduser") {
				checkLoginShell(p, in, c, usesSu)
			}
		}
	},
}

// shellOption finds the shell option of useradd or adduser: the word
// holding its value, and whether the option was given at all.
func shellOption(c analyzer.Command, valued string) (value analyzer.Word, attached, found bool) {
	for i, a := range c.Args {
		v := a.Value
		switch {
		case v == "--shell":
			if i+1 < len(c.Args) {
				return c.Args[i+1], false, true
			}
			return analyzer.Word{}, false, true
		case strings.HasPrefix(v, "--shell="):
			return a, true, true
		case len(v) > 1 && v[0] == '-' && v[1] != '-':
			// A cluster of short options: the letters up to one that
			// takes a value, whose value is the rest or the next word.
			for j := 1; j < len(v); j++ {
				if v[j] == 's' {
					if j+1 < len(v) {
						return a, true, true
					}
					if i+1 < len(c.Args) {
						return c.Args[i+1], false, true
					}
					return analyzer.Word{}, false, true
				}
				if strings.IndexByte(valued, v[j]) >= 0 {
					break
				}
			}
		}
	}
	return analyzer.Word{}, false, false
}

func noLoginShell(sh string) bool {
	base := path.Base(sh)
	return base == "nologin" || base == "false" || base == "true"
}

func checkLoginShell(p *analyzer.Pass, in *analyzer.Instruction, c analyzer.Command, usesSu bool) {
	distro := ""
	if in.Stage != nil {
		distro = in.Stage.Root().Base.Distro()
	}
	busybox := false
	valued := "bcdefgGkKpuUZ" // useradd's short options that take a value
	if c.Name == "adduser" {
		long := false
		for _, a := range c.Args {
			long = long || strings.HasPrefix(a.Value, "--")
		}
		busybox = !long && (distro == "alpine" || c.HasShortFlag('D') || c.HasShortFlag('S'))
		if !busybox && !long && distro != "debian" {
			return // an adduser we cannot identify
		}
		valued = "hgGuk"
	}
	if c.Name == "useradd" && (c.Has("-D", "--defaults") || len(c.Positional()) == 0) {
		return
	}
	nologin := "/usr/sbin/nologin"
	if distro == "alpine" || busybox {
		nologin = "/sbin/nologin"
	}
	val, attached, found := shellOption(c, valued)
	if found {
		if val.Dynamic || val.Value == "" || noLoginShell(strings.TrimPrefix(val.Value, "--shell=")) {
			return
		}
		sh := strings.TrimPrefix(val.Value, "--shell=")
		if attached {
			sh = val.Value[strings.IndexByte(val.Value, 's')+1:]
			if strings.HasPrefix(val.Value, "--shell=") {
				sh = strings.TrimPrefix(val.Value, "--shell=")
			}
			if noLoginShell(sh) {
				return
			}
		}
		var fix *analyzer.Fix
		if !attached && !usesSu && in.Script.Exact() {
			fix = &analyzer.Fix{
				Message: "give the user " + nologin + " as its shell",
				Edits:   []analyzer.TextEdit{{Start: val.Start, End: val.End, New: nologin}},
			}
		}
		p.Report(in, fmt.Sprintf("%s creates a user with the login shell %s; a service account needs %s", c.Name, sh, nologin), fix)
		return
	}
	// No shell given: the default depends on the tool.
	def := "/bin/sh, from /etc/default/useradd"
	opt := "--shell " + nologin
	switch {
	case c.Name == "useradd" && distro == "rhel":
		def = "/bin/bash"
	case c.Name == "adduser" && busybox:
		if c.HasShortFlag('S') {
			return // busybox gives system users /bin/false
		}
		def = "root's shell, /bin/ash"
		opt = "-s " + nologin
	case c.Name == "adduser":
		if c.Has("--system") {
			return // Debian's adduser gives system users nologin
		}
		def = "/bin/bash"
	}
	var fix *analyzer.Fix
	if !usesSu {
		fix = insertAfterCommandName(in.Script, c, " "+opt, "give the user "+nologin+" as its shell")
	}
	p.Report(in, fmt.Sprintf("%s without a shell option gives the user a login shell (%s); add %s", c.Name, def, opt), fix)
}
