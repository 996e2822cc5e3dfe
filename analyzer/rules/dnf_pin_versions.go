package rules

import (
	"strings"
	"unicode"

	"github.com/dockopt/dockopt/analyzer"
)

// DnfPinVersions mirrors hadolint DL3041.
var DnfPinVersions = &analyzer.Rule{
	ID:       "dnf-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "dnf install without package versions",
	Rationale: `Without a version, dnf installs whatever the repositories offer on the day of the build, so ` +
		`two builds of the same commit can differ. Pinning (name-version, or name:stream for modules) makes ` +
		`builds repeatable, but pinned versions vanish from mirrors and break builds months later, which is ` +
		`why dockopt reports this only at info and never invents a version.`,
	Bad:            "FROM fedora:40\nRUN dnf install -y httpd\n",
	Good:           "FROM fedora:40\nRUN dnf install -y httpd-2.4.62\n",
	Equivalents:    []string{"hadolint:DL3041"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("dnf", "microdnf") {
				pos := c.Positional(dnfGlobalValued...)
				if len(pos) < 2 {
					continue
				}
				module := false
				switch {
				case pos[0].Value == "install":
					pos = pos[1:]
				case pos[0].Value == "module" && pos[1].Value == "install":
					module, pos = true, pos[2:]
				default:
					continue
				}
				var unpinned []string
				for _, w := range pos {
					if w.Dynamic || strings.HasPrefix(w.Value, "@") || strings.Contains(w.Value, "/") {
						// Groups, files and URLs name no single package version.
						continue
					}
					if module && strings.Contains(w.Value, ":") || !module && dnfVersioned(w.Value) {
						continue
					}
					unpinned = append(unpinned, w.Value)
				}
				if len(unpinned) > 0 {
					p.Report(in, c.Name+" installs unpinned packages: "+strings.Join(unpinned, ", "), nil)
				}
			}
		}
	},
}

// dnfVersioned reports whether a package spec carries a version: a
// dash-separated tail made of version characters with a digit in it
// (httpd-2.4.62, python3-pip-23.2-1.fc40), or an .rpm file.
func dnfVersioned(spec string) bool {
	if strings.HasSuffix(spec, ".rpm") || strings.ContainsAny(spec, "=<>") {
		return true
	}
	parts := strings.Split(spec, "-")
	for i := 1; i < len(parts); i++ {
		tail := parts[i:]
		ok, digit := true, false
		for _, t := range tail {
			if t == "" {
				ok = false
			}
			for _, r := range t {
				if !(unicode.IsDigit(r) || unicode.IsLetter(r) && r < unicode.MaxASCII || strings.ContainsRune(".~^_:+", r)) {
					ok = false
				}
			}
			if t != "" && unicode.IsDigit(rune(t[0])) {
				digit = true
			}
		}
		if ok && digit && unicode.IsDigit(rune(parts[i][0])) {
			return true
		}
	}
	return false
}
