package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// PackageManagerMissing finds a RUN that calls a package manager the base
// image does not have: apt-get on alpine, apk on Debian, and apt-get on
// mysql:8.0, whose default tags moved from Debian to Oracle Linux.
var PackageManagerMissing = &analyzer.Rule{
	ID:       "package-manager-missing",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityError,
	Title:    "RUN calls a package manager the base image does not have",
	Rationale: `Each distribution has its own package manager: apt-get on Debian and Ubuntu, apk on Alpine, dnf, ` +
		`yum or microdnf on RHEL-like images, zypper on SUSE; distroless and scratch images have none. Calling ` +
		`another one fails the build with "not found". It happens when a floating tag moves to another ` +
		`distribution under a Dockerfile that did not change: mysql:8.0 and mysql:5.7 became Oracle Linux in ` +
		`July 2022, and every ` + "`RUN apt-get`" + ` after ` + "`FROM mysql:8.0`" + ` broke. Use the image's own ` +
		`package manager, or a tag of the distribution the commands are written for (mysql:8.0-debian).`,
	Bad:       "FROM mysql:8.0\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
	Good:      "FROM mysql:8.0\nRUN microdnf install -y curl && microdnf clean all\n",
	Fix:       analyzer.Review,
	POSIXOnly: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil || in.Stage == nil {
				continue
			}
			sf := p.Facts().Stage(in.Stage)
			if !distroNamedByImage(sf) || probesDistro(in.Script) {
				continue
			}
			failing := in.Script.FailingCalls()
			for _, c := range in.Script.Commands() {
				if c.Call == nil || !failing[c.Call] || !packageManagers[c.Name] || in.Script.CallsFunction(c) {
					continue
				}
				t := sf.ToolAtOffset(c.Start, c.Name)
				if t.Presence != analyzer.Absent {
					continue
				}
				p.ReportCannotRun(in, missingManagerMessage(sf, c, t.Why), movedTagFix(p.File, sf, c.Name))
				// The build stops at the first one.
				break
			}
		}
	},
}

// packageManagers are the commands that install a distribution's packages.
var packageManagers = map[string]bool{"apt-get": true, "apt": true, "aptitude": true, "apk": true, "yum": true, "dnf": true,
	"microdnf": true, "tdnf": true, "zypper": true}

// distroNamedByImage reports a stage whose distribution the base image
// itself names (not the Dockerfile's package manager, not a guess), in a
// FROM whose variables cannot change it: `FROM node:${V}-alpine` is
// Alpine whatever V is, `FROM ${BASE}` is whatever the build passes.
func distroNamedByImage(sf *analyzer.StageFacts) bool {
	d := sf.Distro()
	if !d.FromImage || d.Family == analyzer.DistroWindows {
		return false
	}
	raw := sf.Lineage()[0].BaseRaw
	if !strings.Contains(raw, "$") {
		return true
	}
	// Only the tag may hold variables, and what the tag says without them
	// must name the same family.
	repo, tag, ok := strings.Cut(raw, ":")
	if !ok || strings.Contains(repo, "$") || strings.Contains(tag, "@") {
		return false
	}
	static := analyzer.ParseImageRef(repo + ":" + stripVariables(tag))
	return static.NamedDistro() == string(d.Family)
}

// stripVariables removes $VAR and ${VAR…} from a word.
func stripVariables(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return b.String()
			}
			i += end
			continue
		}
		for i+1 < len(s) && (s[i+1] == '_' || s[i+1] >= 'a' && s[i+1] <= 'z' || s[i+1] >= 'A' && s[i+1] <= 'Z' || s[i+1] >= '0' && s[i+1] <= '9') {
			i++
		}
	}
	return b.String()
}

// probesDistro reports a script that looks at which distribution it runs
// on (`command -v apt-get`, `[ -f /etc/alpine-release ]`, `. /etc/os-release`):
// its package manager calls are meant for some images only.
func probesDistro(s *analyzer.Script) bool {
	for _, c := range s.Commands() {
		if packageManagers[c.Name] {
			continue
		}
		for _, w := range c.Args {
			v := strings.ToLower(w.Value)
			if packageManagers[path.Base(v)] || strings.Contains(v, "-release") || strings.Contains(v, "debian_version") {
				return true
			}
		}
	}
	return false
}

// missingManagerMessage says what is missing, why, and what to use.
func missingManagerMessage(sf *analyzer.StageFacts, c analyzer.Command, why string) string {
	name, base := c.Name, sf.Lineage()[0].Base
	msg := fmt.Sprintf("%s is not in the image: %s; the build fails with \"%s: not found\"", name, why, name)
	if sf.ToolAtOffset(c.Start, "sh").Presence == analyzer.Absent {
		msg = fmt.Sprintf("%s is not in the image: %s; the image has no /bin/sh either, so the RUN fails before it starts", name, why)
	}
	img, known := sf.BaseImage()
	if known && img.DistroNote != "" {
		msg += "; " + img.DistroNote
	}
	if base.Official() == "openjdk" && sf.Distro().Family == analyzer.DistroRHEL {
		msg += "; the official openjdk image's tags without a variant are Oracle Linux from Java 12 on (docker-library/openjdk), its -slim and Debian-named tags (-bullseye) Debian"
	}
	use := ownManager(sf)
	if use == "" {
		return msg + "; the image has no package manager: install in a build stage and COPY what the image needs, or build FROM an image that has one"
	}
	msg += "; use " + use
	if tag := movedTag(sf, name); tag != "" && !strings.Contains(sf.Lineage()[0].Platform, "arm") {
		// The -debian builds are amd64 only.
		msg += ", or FROM " + base.WithTag(tag)
		if base.Official() == "" && base.Registry != "docker.io" {
			msg += fmt.Sprintf(" if %s carries that tag", base.Registry)
		}
	}
	return msg
}

// movedTag is the tag of the base image's build on the distribution its
// default tags left (mysql:8.0 → 8.0-debian), when the package manager is
// that distribution's and such a build exists; "" otherwise.
func movedTag(sf *analyzer.StageFacts, manager string) string {
	img, known := sf.BaseImage()
	if !known || img.MovedFrom == "" || string(managerFamily(manager)) != img.MovedFrom {
		return ""
	}
	return img.MovedFromTag(sf.Lineage()[0].Base.Tag)
}

// movedTagFix moves the stage's FROM to the build of the same release on
// the distribution the RUNs were written for, which is what the tag meant
// before it moved. It is withheld when the FROM is pinned, takes a
// variable or a platform, names another registry, when the file also uses the new distribution's
// package managers, or names /etc/my.cnf (where the Oracle Linux build
// keeps the configuration the Debian build reads from /etc/mysql).
func movedTagFix(d *analyzer.Dockerfile, sf *analyzer.StageFacts, manager string) *analyzer.Fix {
	tag := movedTag(sf, manager)
	root := sf.Lineage()[0]
	if tag == "" || root.From == nil || root.Base.Digest != "" || root.Platform != "" || strings.Contains(root.BaseRaw, "$") ||
		root.Base.Official() == "" {
		// Another registry may not carry the -debian tags; the official
		// images' own mirrors carry every tag.
		return nil
	}
	src := string(d.Source)
	if strings.Contains(src, "/etc/my.cnf") {
		return nil
	}
	for _, st := range d.Stages {
		for _, in := range st.Instructions {
			if in.Keyword == "RUN" && in.Script != nil && len(in.Script.CommandsNamed("microdnf", "dnf", "yum", "rpm")) > 0 {
				return nil
			}
		}
	}
	for _, w := range rawWords(d, root.From.ArgsStart, root.From.End) {
		if w.Text != root.BaseRaw || !strings.HasSuffix(w.Text, ":"+root.Base.Tag) {
			continue
		}
		return &analyzer.Fix{
			Message: fmt.Sprintf("build on %s, the Debian build of the same release, which has apt-get; "+
				"it is published for amd64 only (docker-library/mysql#905), so an arm64 build needs --platform=linux/amd64", root.Base.WithTag(tag)),
			Edits: []analyzer.TextEdit{{Start: w.Start, End: w.End, New: strings.TrimSuffix(w.Text, root.Base.Tag) + tag}},
		}
	}
	return nil
}

// ownManager names the package manager of the stage's distribution, ""
// for images that have none.
func ownManager(sf *analyzer.StageFacts) string {
	switch sf.Distro().Family {
	case analyzer.DistroDebian:
		return "apt-get"
	case analyzer.DistroAlpine, analyzer.DistroWolfi:
		return "apk add"
	case analyzer.DistroSUSE:
		return "zypper"
	case analyzer.DistroRHEL:
		var have []string
		absent := 0
		for _, m := range []string{"dnf", "yum", "microdnf"} {
			switch sf.ToolAtOffset(0, m).Presence {
			case analyzer.Present:
				have = append(have, m)
			case analyzer.Absent:
				absent++
			}
		}
		switch {
		case len(have) > 0:
			return strings.Join(have, " or ")
		case absent == 3:
			// ubi-micro: built without one.
			return ""
		}
		return "the image's own package manager (dnf, yum or microdnf)"
	}
	return ""
}

// managerFamily is the distribution family a package manager belongs to.
func managerFamily(name string) analyzer.Distro {
	switch {
	case slices.Contains([]string{"apt-get", "apt", "aptitude"}, name):
		return analyzer.DistroDebian
	case name == "apk":
		return analyzer.DistroAlpine
	case name == "zypper":
		return analyzer.DistroSUSE
	}
	return analyzer.DistroRHEL
}
