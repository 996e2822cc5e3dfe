package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
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
		`ENTRYPOINT do not use the user's login shell, but su, runuser -l, sshd (a git account's forced ` +
		`commands) and people do, so the fix is one to review, and none is proposed when the Dockerfile, its ` +
		`entrypoint script or sshd's configuration uses the account that way, nor for a shell the author ` +
		`set explicitly. git-shell, a restricted shell, is left alone.`,
	Bad:       "RUN useradd -m -s /bin/bash app\n",
	Good:      "RUN useradd -m --shell /usr/sbin/nologin app\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		sudoers := sudoersRules(p.File) // read once
		var ships map[*analyzer.Stage]bool
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			if in.Stage != nil {
				if ships == nil {
					ships = stagesShippingAccounts(p)
				}
				if !ships[in.Stage] {
					continue
				}
			}
			for _, c := range in.Script.CommandsNamed("useradd", "adduser") {
				checkLoginShell(p, in, c, sudoers)
			}
		}
	},
}

// stagesShippingAccounts returns the stages whose accounts may reach an
// image someone runs: all but a build stage whose files later stages copy
// out (COPY --from, RUN --mount from=), unless a stage that ships is built
// FROM it. Such a stage's accounts exist while building only, and their
// shell is nobody's door. A stage is built FROM earlier stages only, so
// one pass from the last stage back decides them all.
func stagesShippingAccounts(p *analyzer.Pass) map[*analyzer.Stage]bool {
	d := p.File
	copiedOut := map[*analyzer.Stage]bool{}
	accountsCopied := map[*analyzer.Stage]bool{}
	for in := range d.Each("") {
		if v, ok := in.Flag("from"); ok && in.Keyword == "COPY" {
			if s := d.StageByRef(v); s != nil {
				copiedOut[s] = true
				// COPY --from=build /etc/passwd /etc/passwd ships the
				// stage's accounts, shells included.
				if c, ok := copyOf(in); ok && slices.ContainsFunc(c.sources, func(src string) bool {
					switch path.Clean("/" + src) {
					case "/", "/etc", "/etc/passwd", "/etc/shadow":
						return true
					}
					return false
				}) {
					accountsCopied[s] = true
				}
			}
		}
		for _, m := range in.Mounts() {
			if s := d.StageByRef(m.From); m.From != "" && s != nil {
				copiedOut[s] = true
			}
		}
	}
	ships := map[*analyzer.Stage]bool{}
	for i := len(d.Stages) - 1; i >= 0; i-- {
		s := d.Stages[i]
		if ships[s] || !copiedOut[s] || accountsCopied[s] || p.Facts().StageRole(s).Role != analyzer.RoleBuild {
			ships[s] = true
			if s.BaseStage != nil {
				ships[s.BaseStage] = true
			}
		}
	}
	return ships
}

func noLoginShell(sh string) bool {
	switch path.Base(sh) {
	case "nologin", "false", "true":
		return true
	case "git-shell":
		// A restricted shell that runs git commands only: not a login
		// shell, and what a git-over-ssh account must keep.
		return true
	}
	return false
}

func checkLoginShell(p *analyzer.Pass, in *analyzer.Instruction, c analyzer.Command, sudoers map[string]int) {
	distro := ""
	if in.Stage != nil {
		distro = in.Stage.Root().Base.Distro()
	}
	busybox := false
	opts, pos := analyzer.AccountOptions(c)
	if c.Name == "adduser" {
		long := false
		for _, a := range c.Args {
			long = long || strings.HasPrefix(a.Value, "--")
		}
		busybox = !long && (distro == "alpine" || hasOption(opts, "-D") || hasOption(opts, "-S"))
		if !busybox && !long && distro != "debian" {
			return // an adduser we cannot identify
		}
	}
	if c.Name == "useradd" && (hasOption(opts, "-D", "--defaults") || len(pos) == 0) {
		return
	}
	if c.Name == "adduser" && len(pos) == 2 {
		return // adduser user group: membership, no account, no shell
	}
	nologin := "/usr/sbin/nologin"
	if distro == "alpine" || busybox {
		nologin = "/sbin/nologin"
	}
	if o, found := analyzer.LastOption(opts, "-s", "--shell"); found {
		sh := o.Value.Value
		if !o.HasValue || o.Value.Dynamic || sh == "" || noLoginShell(sh) {
			return
		}
		// The author chose this shell: something (a person, su, sshd, a
		// script) may well log in with it, which dockopt cannot rule out.
		who := "a user"
		if name, _, ok := analyzer.CreatedAccount(c); ok {
			who = name
		}
		p.ReportWithheld(in, fmt.Sprintf("%s creates %s with the login shell %s; a service account needs %s; no fix: the shell was chosen explicitly here, so check that nothing logs in with it before changing it",
			c.Name, who, sh, nologin), analyzer.PreconditionAccount)
		return
	}
	// No shell given: the default depends on the tool.
	def := "/bin/sh, from /etc/default/useradd"
	opt := "--shell " + nologin
	switch {
	case c.Name == "useradd" && distro == "rhel":
		def = "/bin/bash"
	case c.Name == "adduser" && busybox:
		if hasOption(opts, "-S") {
			return // busybox gives system users /bin/false
		}
		def = "root's shell, /bin/ash"
		opt = "-s " + nologin
	case c.Name == "adduser":
		if hasOption(opts, "--system") {
			return // Debian's adduser gives system users nologin
		}
		def = "/bin/bash"
	}
	who := "the user"
	if name, _, ok := analyzer.CreatedAccount(c); ok {
		who = name
	}
	msg := fmt.Sprintf("%s without a shell option gives %s a login shell (%s); add %s", c.Name, who, def, opt)
	if why, pre := loginShellUsed(p, in, c, sudoers); why != "" {
		p.ReportWithheld(in, msg+"; no fix: "+why, pre)
		return
	}
	p.Report(in, msg, insertAfterCommandName(in.Script, c, " "+opt, "give the user "+nologin+" as its shell"))
}

// loginShellUsed says why the account c creates may need its shell: a use
// the facts know of in the stage or in any stage built FROM it (su,
// runuser -l, sshd, a git account, a later usermod -s), read from the
// Dockerfile, the entrypoint script and sshd's configuration.
func loginShellUsed(p *analyzer.Pass, in *analyzer.Instruction, c analyzer.Command, sudoers map[string]int) (string, analyzer.Precondition) {
	name, _, ok := analyzer.CreatedAccount(c)
	if !ok {
		return "dockopt cannot tell which account this creates", analyzer.PreconditionUnknown
	}
	if in.Stage == nil {
		return "", ""
	}
	if line := sudoers[name]; line != 0 {
		// An account given sudo is a person's: sudo -s, su - and
		// terminal sessions read its shell.
		return fmt.Sprintf("%s is given sudo (line %d), an account for a person, whose sudo -s, su - and terminals use its shell", name, line), analyzer.PreconditionAccount
	}
	f := p.Facts()
	for _, s := range p.File.Stages {
		if !builtFrom(s, in.Stage) {
			continue
		}
		for _, u := range f.Stage(s).AccountUses() {
			if u.User != name {
				continue
			}
			where := ""
			switch {
			case u.Path != "" && u.Line > 0:
				where = fmt.Sprintf(" (%s line %d)", u.Path, u.Line)
			case u.Path != "":
				where = " (" + u.Path + ")"
			case u.Line > 0:
				where = fmt.Sprintf(" (line %d)", u.Line)
			}
			return fmt.Sprintf("%s is used through its shell: %s%s", name, u.How, where), analyzer.PreconditionAccount
		}
	}
	return "", ""
}

// sudoersRules maps each account a RUN writes a sudoers rule for
// ("dev ALL=(ALL) NOPASSWD:ALL", "%dev ALL=…") to that RUN's line.
func sudoersRules(d *analyzer.Dockerfile) map[string]int {
	out := map[string]int{}
	for in := range d.Each("RUN") {
		text := in.Text(d.Source)
		if !strings.Contains(text, "sudoers") && !strings.Contains(text, "visudo") {
			continue
		}
		for _, m := range sudoersRule.FindAllStringSubmatch(text, -1) {
			if _, seen := out[m[1]]; !seen {
				out[m[1]] = in.StartLine
			}
		}
	}
	return out
}

var sudoersRule = regexp.MustCompile(`(?:^|[\s"'])%?([A-Za-z0-9_][A-Za-z0-9_.-]*)[ \t]+ALL\b`)
