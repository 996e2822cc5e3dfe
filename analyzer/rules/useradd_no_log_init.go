package rules

import (
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
	Bad:            "FROM debian:12\nRUN useradd -u 123456 app\n",
	Good:           "FROM debian:12\nRUN useradd -l -u 123456 app\n",
	Equivalents:    []string{"hadolint:DL3046"},
	Fix:            analyzer.Safe,
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("useradd") {
				if opts, _ := analyzer.AccountOptions(c); hasOption(opts, "-l", "--no-log-init") {
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

// hasOption reports whether one of the named options was given.
func hasOption(opts []analyzer.Option, names ...string) bool {
	_, found := analyzer.LastOption(opts, names...)
	return found
}

// useraddUID returns the static value of -u/--uid in any of its forms
// (-u 10, -u10, -lmu 10, --uid=10); the last one given is the one the tool
// uses.
func useraddUID(c analyzer.Command) (string, bool) {
	opts, _ := analyzer.AccountOptions(c)
	o, found := analyzer.LastOption(opts, "-u", "--uid")
	if !found || !o.HasValue || o.Value.Dynamic {
		return "", false
	}
	return o.Value.Value, true
}
