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
		`(Alpine) has no --progress option, so there the fix uses -q; where dockopt cannot tell which wget ` +
		`runs at that line (an image it does not know), it proposes nothing.`,
	Bad:         "FROM debian:12\nRUN wget https://example.com/big.tar.gz\n",
	Good:        "FROM debian:12\nRUN wget --progress=dot:giga https://example.com/big.tar.gz\n",
	Equivalents: []string{"hadolint:DL3047"},
	Fix:         analyzer.Safe,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			// The first wget the image lacks fails the RUN; a later one
			// that only that wget "proves" present (nothing installs it in
			// between) is withheld for the same reason.
			missing := ""
			for _, c := range in.Script.CommandsNamed("wget") {
				if wgetQuiet(c) {
					continue
				}
				const msg = "wget without --progress=dot:giga (or -q/-nv) floods the build log"
				flag, why := wgetQuietFlag(p, in, c)
				switch {
				case missing != "" && in.Stage != nil && p.Facts().Stage(in.Stage).ToolAtOffset(max(c.Start, in.Start), "wget").Proved:
					flag, why = "", missing
				case flag == "" && strings.HasPrefix(why, wgetAbsent):
					missing = why
				}
				if flag == "" {
					p.ReportWithheld(in, msg+"; no fix: "+why, analyzer.PreconditionTool)
					continue
				}
				p.Report(in, msg, insertAfterCommandName(in.Script, c, flag, "add"+flag))
			}
		}
	},
}

const wgetAbsent = "wget is not in the image at this line"

// wgetQuietFlag chooses the option for the wget that runs at c: GNU
// wget's --progress=dot:giga, or -q for busybox's applet, which rejects
// --progress and fails the build. When the facts cannot tell which wget
// runs there, it returns "" and why.
func wgetQuietFlag(p *analyzer.Pass, in *analyzer.Instruction, c analyzer.Command) (flag, why string) {
	if in.Stage == nil {
		return "", "the RUN is outside a stage"
	}
	off := c.Start
	if off < 0 {
		off = in.Start
	}
	sf := p.Facts().Stage(in.Stage)
	t := sf.ToolAtOffset(off, "wget")
	switch {
	case t.Presence == analyzer.Absent:
		return "", wgetAbsent + " (" + t.Why + "), so it fails here before it logs anything; install wget before it, or fetch with a tool the image has"
	case t.Presence == analyzer.Present && t.Busybox:
		return " -q", ""
	case t.Presence == analyzer.Present, sf.Distro().Userland == analyzer.UserlandGNU:
		// On GNU systems, any wget a build can run is GNU's: their busybox
		// package does not install itself as wget.
		return " --progress=dot:giga", ""
	}
	return "", "dockopt cannot tell GNU wget, which takes --progress, from busybox's, which rejects it, at this line (" + t.Why + ")"
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
