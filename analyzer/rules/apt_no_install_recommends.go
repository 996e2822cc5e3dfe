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
		`review: a program may rely on a recommended package, so what is installed changes. It names the ones ` +
		`everyday use needs (ca-certificates with curl, wget or git, which fail every HTTPS request without ` +
		`it; libc6-dev with gcc), and proposes nothing for python3-pip, imagemagick or golang-go, whose recommended ` +
		`packages (compilers, extra image formats, the C toolchain cgo needs) are much of what they are installed for. Nothing is reported where the author already decided, in any spelling ` +
		`(--no-install-recommends, --install-recommends, -o APT::Install-Recommends=…, an APT configuration ` +
		`written or copied earlier), nor for a dry run (-s, --simulate) or a download only; and no fix is ` +
		`offered where a comment right above the install says the recommended packages are wanted.`,
	Bad:         "RUN apt-get update && apt-get install -y curl\n",
	Good:        "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl\n",
	Equivalents: []string{"hadolint:DL3015", "trivy:DS029"},
	Fix:         analyzer.Review,
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		aptConfig := newChainFirst(func(in *analyzer.Instruction) bool { return mayConfigureApt(p.File, in) })
		earlier := newEarlierInstalls()
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
				pkgs := aptInstallPackages(c)
				if why := recommendsAreTheFeature(pkgs); why != "" {
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: %s", msg, why), analyzer.PreconditionTool)
					continue
				}
				if line, comment := recommendsWanted(p.File, in, c); comment != "" {
					p.ReportWithheld(in, fmt.Sprintf("%s; no fix: the comment on line %d says the recommended packages are wanted: %q", msg, line, comment), analyzer.PreconditionTool)
					continue
				}
				var fix *analyzer.Fix
				if in.Script.Exact() && len(pkgs) > 0 {
					sub := installWord(c)
					fix = &analyzer.Fix{
						Message: "add --no-install-recommends (check that nothing needs a recommended package)",
						Edits:   []analyzer.TextEdit{{Start: sub.End, End: sub.End, New: " --no-install-recommends"}},
					}
					if add, forWhat := recommendsStillNeeded(pkgs, in, earlier); len(add) > 0 {
						// The canonical pattern names them: apt-get install
						// --no-install-recommends ca-certificates curl.
						fix.Edits = append(fix.Edits, analyzer.TextEdit{Start: pkgs[0].Start, End: pkgs[0].Start, New: strings.Join(add, " ") + " "})
						fix.Message = fmt.Sprintf("add --no-install-recommends, and %s, which %s", strings.Join(add, " and "), forWhat)
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

// aptInstallPackages returns the package words of an apt-get install, in
// order, and nothing for another subcommand.
func aptInstallPackages(c analyzer.Command) []analyzer.Word {
	if c.Subcommand(aptGetValued...) != "install" {
		return nil
	}
	return afterSubcommand(c, aptGetValued...)
}

// recommendsStillNeeded returns the recommended packages the fix must name
// for the requested ones to keep working, and for what, unless the same
// command or an earlier instruction of the stage installs them already
// (build-essential brings libc6-dev).
func recommendsStillNeeded(pkgs []analyzer.Word, in *analyzer.Instruction, earlier *earlierInstalls) (add []string, forWhat string) {
	words := make([]string, len(pkgs))
	for i, w := range pkgs {
		words[i] = w.Value
	}
	var users []string
	why := ""
	for _, m := range analyzer.MissingRecommends(words) {
		if earlier.installed(in, m.Package) {
			continue
		}
		add = append(add, m.Package)
		users = append(users, m.NeededBy)
		why = m.Why
	}
	if len(add) == 0 {
		return nil, ""
	}
	return add, strings.Join(users, " and ") + " only recommend" + map[bool]string{true: "s", false: ""}[len(users) == 1] + " and " + why
}

// earlierInstalls answers whether an earlier RUN of a stage's lineage
// names a package (installed before, or deliberately left out). Each
// stage's own RUNs are read once, and what its ancestors install is
// remembered per package: a file of thousands of installs, or of
// thousands of chained stages, would otherwise read the lineage again
// for every install.
type earlierInstalls struct {
	own       map[*analyzer.Stage]map[string]int // package → index of the first RUN naming it
	ancestors map[stagePackage]bool
}

type stagePackage struct {
	stage *analyzer.Stage
	pkg   string
}

func newEarlierInstalls() *earlierInstalls {
	return &earlierInstalls{own: map[*analyzer.Stage]map[string]int{}, ancestors: map[stagePackage]bool{}}
}

func (e *earlierInstalls) installed(in *analyzer.Instruction, pkg string) bool {
	if in.Stage == nil {
		return false
	}
	if at, ok := e.ownFirst(in.Stage)[pkg]; ok && at < in.Index {
		return true
	}
	return e.inAncestors(in.Stage, pkg)
}

func (e *earlierInstalls) ownFirst(s *analyzer.Stage) map[string]int {
	first, ok := e.own[s]
	if ok {
		return first
	}
	first = map[string]int{}
	for _, in := range s.Instructions {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		for _, c := range in.Script.CommandsNamed("apt-get") {
			for _, w := range aptInstallPackages(c) {
				name := analyzer.PackageName(w.Value)
				if !hasKey(first, name) {
					first[name] = in.Index
				}
				if recommendsChosen(c) {
					continue
				}
				// Installed with its recommends, or named by this rule's
				// fix of that install: either way they are there after.
				needed, _ := analyzer.NeededRecommends(name)
				for _, n := range needed {
					if !hasKey(first, n) {
						first[n] = in.Index
					}
				}
			}
		}
	}
	e.own[s] = first
	return first
}

// inAncestors reports whether a stage s is built on names pkg, walking
// up only as far as the first answer already known.
func (e *earlierInstalls) inAncestors(s *analyzer.Stage, pkg string) bool {
	var chain []*analyzer.Stage
	answer := false
	for a := s; a.BaseStage != nil; a = a.BaseStage {
		if v, ok := e.ancestors[stagePackage{a, pkg}]; ok {
			answer = v
			break
		}
		chain = append(chain, a)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		base := chain[i].BaseStage
		answer = answer || hasKey(e.ownFirst(base), pkg)
		e.ancestors[stagePackage{chain[i], pkg}] = answer
	}
	return answer
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// recommendsAgainst is a comment that asks for no recommended packages
// ("no recommends", "we don't want recommends"): the flag is what it
// asks for.
var recommendsAgainst = regexp.MustCompile(`\b(no|not|without|skip|skips|skipping|avoid|don't|dont|never)\b[^.;]*recommend`)

// recommendsFlag is the flag named in a comment, "no" included, which
// recommendsAgainst would otherwise read as a negation.
var recommendsFlag = regexp.MustCompile(`-*no-install-recommends`)

// flagNegated is a comment that says the flag is left out on purpose
// ("not using --no-install-recommends", "without --no-install-recommends"),
// read with the flag replaced by flagMark: a decision to keep the
// recommended packages. A comment that only names the flag ("install with
// --no-install-recommends") is none.
// The negation stands at most three words before the flag: "we don't want
// recommends, so use --no-install-recommends" asks for the flag.
var flagNegated = regexp.MustCompile(`\b(no|not|without|don't|dont|never|skip|skips|skipping|avoid|omit|omits|omitted|omitting|drop|dropped|leave out|leaves out|left out)(\s+[a-z']+){0,3}\s+` + flagMark)

const flagMark = "\x00flag\x00"

// flagInsisted is a negated leaving-out before the flag ("do not forget
// --no-install-recommends", "never drop …"): the author asks for the
// flag, which flagNegated would read as a decision against it.
var flagInsisted = regexp.MustCompile(`\b(no|not|don't|dont|never)(\s+[a-z']+){0,2}?\s+(forget|omit|drop|remove|skip|miss|lose)[a-z]*(\s+[a-z']+){0,2}\s+` + flagMark)

// maxRecommendsComment bounds the comment lines read above an install.
const maxRecommendsComment = 8

// recommendsWanted returns the comment right above an apt-get install
// (the comment lines over its line, inside the RUN or above it) that
// speaks of recommended packages without asking for none, and its line:
// "# we DO want recommends this time" is the author's decision. 0, ""
// when there is none.
func recommendsWanted(d *analyzer.Dockerfile, in *analyzer.Instruction, c analyzer.Command) (int, string) {
	line := in.StartLine
	if c.Start >= 0 && in.Script.Exact() {
		line = d.Line(c.Start)
	}
	// The comment block right above, its nearest lines only: a file may
	// hold a long block above a line of many installs.
	for l := line - 1; l >= 1 && l >= line-maxRecommendsComment; l-- {
		raw := lineText(d, l)
		if !strings.HasPrefix(strings.TrimSpace(raw), "#") || wideWaiver(raw) {
			break
		}
		text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "#"))
		t := recommendsFlag.ReplaceAllString(strings.ToLower(text), flagMark)
		if flagNegated.MatchString(t) && !flagInsisted.MatchString(t) {
			return l, text
		}
		if strings.Contains(t, "recommend") && !recommendsAgainst.MatchString(t) {
			return l, text
		}
	}
	return 0, ""
}

// recommendsAreTheFeature says why a requested package's recommended
// packages are much of what it is installed for (analyzer's
// RecommendsAreTheFeature), "" when none's are.
func recommendsAreTheFeature(pkgs []analyzer.Word) string {
	for _, w := range pkgs {
		if why := analyzer.RecommendsAreTheFeature(analyzer.PackageName(w.Value)); why != "" {
			return why
		}
	}
	return ""
}
