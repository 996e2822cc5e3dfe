package rules

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// AptNoInstallRecommends mirrors hadolint DL3015.
var AptNoInstallRecommends = &analyzer.Rule{
	ID:       "apt-no-install-recommends",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityWarning,
	Title:    "apt-get install without --no-install-recommends",
	Rationale: `By default apt also installs every package the requested ones merely recommend: documentation, ` +
		`optional helpers, sometimes whole language runtimes. They are rarely needed in a container, add tens ` +
		`of megabytes and widen the attack surface. Ask for exactly what the image needs. The fix is one to ` +
		`review: a program may rely on a recommended package (ca-certificates for curl's HTTPS, for one), so ` +
		`what is installed changes. Nothing is reported where the author already decided, in any spelling ` +
		`(--no-install-recommends, --install-recommends, -o APT::Install-Recommends=…, an APT configuration ` +
		`written or copied earlier), nor for a dry run (-s, --simulate) or a download only.`,
	Bad:         "RUN apt-get update && apt-get install -y curl\n",
	Good:        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	Equivalents: []string{"hadolint:DL3015", "trivy:DS029"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		aptConfig := newChainFirst(func(in *analyzer.Instruction) bool { return mayConfigureApt(p.File, in) })
		for in := range p.File.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("apt-get") {
				if c.Subcommand(aptGetValued...) != "install" || recommendsChosen(c) || installsNothing(c) {
					continue
				}
				const msg = "apt-get install also pulls in recommended packages; add --no-install-recommends"
				line, decided := 0, analyzer.Absent
				if aptConfig.before(in) {
					line, decided = aptConfigRecommends(p, in)
				}
				if decided == analyzer.Present {
					continue
				}
				if decided == analyzer.Unknown {
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: line %d copies APT configuration dockopt cannot read, which may already decide it", msg, line), analyzer.PreconditionUnknown)
					continue
				}
				var fix *analyzer.Fix
				if in.Script.Exact() {
					sub := installWord(c)
					fix = &analyzer.Fix{
						Message: "add --no-install-recommends (check that nothing needs a recommended package)",
						Edits:   []analyzer.TextEdit{{Start: sub.End, End: sub.End, New: " --no-install-recommends"}},
					}
				}
				p.Report(in, msg, fix)
			}
		}
	},
}

// recommendsChosen reports an apt-get command that says itself whether
// recommended packages are installed: --no-install-recommends,
// --install-recommends (with or without a value), or an -o option naming
// APT::Install-Recommends in any spelling.
func recommendsChosen(c analyzer.Command) bool {
	for _, a := range c.Args {
		v := strings.ToLower(a.Value)
		if strings.HasPrefix(v, "--no-install-recommends") || strings.HasPrefix(v, "--install-recommends") ||
			strings.Contains(v, "install-recommends") {
			return true
		}
	}
	return false
}

var shortCluster = regexp.MustCompile(`^-[a-zA-Z]+$`)

// installsNothing reports a dry run or a download only: nothing the
// flag would change is installed.
func installsNothing(c analyzer.Command) bool {
	if c.Has("--simulate", "--just-print", "--dry-run", "--recon", "--no-act", "--download-only", "--print-uris") {
		return true
	}
	for _, a := range c.Args {
		if shortCluster.MatchString(a.Value) && strings.ContainsAny(a.Value[1:], "sd") {
			return true
		}
	}
	return false
}

// aptConfigRecommends looks at what ran before in, along the stage's
// lineage, for APT configuration that sets Install-Recommends: Present
// when a RUN writes it or a copied configuration file holds it, Unknown
// (with the line) when a COPY puts configuration dockopt cannot read into
// /etc/apt, Absent otherwise.
func aptConfigRecommends(p *analyzer.Pass, in *analyzer.Instruction) (int, analyzer.Presence) {
	if in.Stage == nil {
		return 0, analyzer.Absent
	}
	for _, prev := range in.Stage.LineageInstructions() {
		if prev == in {
			break
		}
		if prev.Keyword == "RUN" && strings.Contains(prev.Text(p.File.Source), "Install-Recommends") {
			return prev.StartLine, analyzer.Present
		}
		c, ok := copyOf(prev)
		if !ok || !strings.HasPrefix(path.Clean("/"+c.dest), "/etc/apt") {
			continue
		}
		for _, src := range c.contextSources() {
			b, err := p.Context.ReadFile(strings.TrimPrefix(path.Clean("/"+src), "/"))
			if err != nil {
				return prev.StartLine, analyzer.Unknown
			}
			if strings.Contains(string(b), "Install-Recommends") {
				return prev.StartLine, analyzer.Present
			}
		}
		if c.from != "" {
			return prev.StartLine, analyzer.Unknown
		}
	}
	return 0, analyzer.Absent
}

// mayConfigureApt reports an instruction aptConfigRecommends has to look
// at: a RUN that names Install-Recommends or a COPY into /etc/apt. Most
// files have none, and an index of where the first one is keeps the rule
// linear on long stage chains.
func mayConfigureApt(d *analyzer.Dockerfile, in *analyzer.Instruction) bool {
	if in.Keyword == "RUN" {
		return strings.Contains(in.Text(d.Source), "Install-Recommends")
	}
	c, ok := copyOf(in)
	return ok && strings.HasPrefix(path.Clean("/"+c.dest), "/etc/apt")
}

// installWord returns the "install" argument of a package-manager command.
func installWord(c analyzer.Command) analyzer.Word {
	for _, a := range c.Args {
		if a.Value == "install" {
			return a
		}
	}
	return c.Args[len(c.Args)-1]
}
