package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// WgetProgress mirrors hadolint DL3047.
var WgetProgress = &analyzer.Rule{
	ID:       "wget-progress",
	Category: analyzer.CategoryMaintainability,
	Severity: analyzer.SeverityInfo,
	Title:    "wget without a progress or quiet option",
	Rationale: `Outside a terminal, GNU wget prints a line of dots for every few kilobytes it downloads, so ` +
		`one large download can add thousands of lines to the build log and bury the error a reader is looking ` +
		`for. --progress=dot:giga prints one dot per megabyte instead; -q or -nv are fine too. BusyBox wget ` +
		`(Alpine) has no --progress option, so there the fix uses -q.`,
	Bad:         "FROM debian:12\nRUN wget https://example.com/big.tar.gz\n",
	Good:        "FROM debian:12\nRUN wget --progress=dot:giga https://example.com/big.tar.gz\n",
	Equivalents: []string{"hadolint:DL3047"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		gnuWget := installs("wget")
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("wget") {
				if wgetQuiet(c) {
					continue
				}
				flag := " --progress=dot:giga"
				if busyboxWget(in.Stage, gnuWget) {
					flag = " -q"
				}
				fix := insertAfterCommandName(in.Script, c, flag, "add"+flag)
				p.Report(in, "wget without --progress=dot:giga (or -q/-nv) floods the build log", fix)
			}
		}
	},
}

// busyboxWget reports stages whose wget is BusyBox's: Alpine or BusyBox
// images whose chain does not install GNU wget (gnuWget finds where).
func busyboxWget(s *analyzer.Stage, gnuWget *chainFirst) bool {
	if s == nil {
		return false
	}
	base := s.Root().Base
	return (base.Distro() == "alpine" || base.Name() == "busybox") && !gnuWget.inChain(s)
}

// wgetQuiet reports options that already keep the log short: quiet,
// non-verbose, a progress style, or a log file.
func wgetQuiet(c analyzer.Command) bool {
	for _, a := range c.Args {
		v := a.Value
		switch {
		case v == "--":
			return false
		case strings.HasPrefix(v, "--"):
			name, _, _ := strings.Cut(v[2:], "=")
			switch name {
			case "quiet", "no-verbose", "progress", "output-file", "append-output", "show-progress":
				return true
			}
		case strings.HasPrefix(v, "-n"):
			if v == "-nv" {
				return true
			}
		case strings.HasPrefix(v, "-") && len(v) > 1:
			for _, r := range v[1:] {
				if r == 'q' || r == 'o' || r == 'a' {
					return true
				}
				if strings.ContainsRune("OPTtUeiBwlARDXIQY", r) {
					break // the rest of the word is this option's value
				}
			}
		}
	}
	return false
}
