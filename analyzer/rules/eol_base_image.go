package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/imagedata"
)

// EOLBaseImage finds base images whose upstream stopped security fixes.
var EOLBaseImage = &analyzer.Rule{
	ID:       "eol-base-image",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityWarning,
	Title:    "Base image version past its end of life",
	Rationale: `Once a language runtime or distribution release reaches end of life, its maintainers stop ` +
		`publishing security fixes and the official images stop being rebuilt: every vulnerability found ` +
		`afterwards stays in the image for good, and scanners will keep flagging it. The dates come from a ` +
		`table embedded in dockopt with a fixed "as of" date, so a result never changes between two runs of ` +
		`the same version; upgrade to a supported line (a major upgrade, so no automatic fix).`,
	Bad:   "FROM python:3.8-slim\n",
	Good:  "FROM python:3.12-slim\n",
	Reads: []string{"FROM"},
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			if s.BaseStage != nil || s.Base.Unresolved || s.Base.IsScratch() {
				continue
			}
			var ended []string
			for _, lc := range imagedata.Lookup(s.Base) {
				if lc.Ended {
					ended = append(ended, describeEOL(lc))
				}
			}
			if len(ended) == 0 {
				continue
			}
			name := s.BaseRaw
			if strings.Contains(name, "$") && s.Base.Raw != name {
				// FROM ${RUNNER_IMAGE}: say which image the ARGs make it.
				name += " (" + s.Base.Raw + ")"
			}
			p.Report(s.From, fmt.Sprintf("%s is past end of life (as of %s): %s", name, imagedata.EOLAsOf(), strings.Join(ended, "; ")), nil)
		}
	},
}

func describeEOL(lc imagedata.Lifecycle) string {
	name := productName(lc.Product)
	if lc.Replacement != "" {
		return fmt.Sprintf("the %s image has had no updates since %s; move to %s", lc.Product, lc.EOL.Format(time.DateOnly), lc.Replacement)
	}
	msg := fmt.Sprintf("%s %s stopped receiving security fixes on %s", name, lc.Version, lc.EOL.Format(time.DateOnly))
	if lc.OldestSupported != "" {
		msg += fmt.Sprintf("; the oldest supported line is %s", lc.OldestSupported)
	}
	return msg
}

// productName is how a product is named in prose.
func productName(p string) string {
	switch p {
	case "node":
		return "Node.js"
	case "python":
		return "Python"
	case "golang":
		return "Go"
	case "debian":
		return "Debian"
	case "ubuntu":
		return "Ubuntu"
	case "alpine":
		return "Alpine"
	case "ruby":
		return "Ruby"
	case "php":
		return "PHP"
	case "postgres":
		return "PostgreSQL"
	case "centos":
		return "CentOS"
	case "eclipse-temurin":
		return "Eclipse Temurin"
	case "dotnet":
		return ".NET"
	}
	return p
}
