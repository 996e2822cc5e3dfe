package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// UseraddNoLogInit mirrors hadolint DL3046.
var UseraddNoLogInit = &analyzer.Rule{
	ID:       "useradd-no-log-init",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "useradd with a high UID and without -l",
	Rationale: `useradd records every new user in /var/log/lastlog and /var/log/faillog, sparse files indexed ` +
		`by UID. Image layers do not keep files sparse, so a UID such as 100000 or more turns them into ` +
		`hundreds of megabytes, or gigabytes, of zeros in the image. -l (--no-log-init) skips those logs, which ` +
		`a container never needs.`,
	Bad:         "FROM debian:12\nRUN useradd -u 123456 app\n",
	Good:        "FROM debian:12\nRUN useradd -l -u 123456 app\n",
	Equivalents: []string{"hadolint:DL3046"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("useradd") {
				if c.Has("--no-log-init") || c.HasShortFlag('l') {
					continue
				}
				uid, ok := useraddUID(c)
				if !ok || len(uid) <= 5 {
					continue
				}
				fix := insertAfterCommandName(in.Script, c, " -l", "add -l so useradd does not write lastlog and faillog")
				p.Report(in, "useradd -u "+uid+" without -l fills the image with a huge sparse lastlog; add -l", fix)
			}
		}
	},
}

// useraddUID returns the static value of -u/--uid.
func useraddUID(c analyzer.Command) (string, bool) {
	for i, a := range c.Args {
		var v string
		switch {
		case a.Value == "-u" || a.Value == "--uid":
			if i+1 >= len(c.Args) {
				return "", false
			}
			a = c.Args[i+1]
			v = a.Value
		case strings.HasPrefix(a.Value, "--uid="):
			v = strings.TrimPrefix(a.Value, "--uid=")
		case strings.HasPrefix(a.Value, "-u") && len(a.Value) > 2 && a.Value[2] >= '0' && a.Value[2] <= '9':
			v = a.Value[2:]
		default:
			continue
		}
		if a.Dynamic {
			return "", false
		}
		return v, true
	}
	return "", false
}
