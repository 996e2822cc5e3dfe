package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// WgetAndCurl mirrors hadolint DL4001.
var WgetAndCurl = &analyzer.Rule{
	ID:       "wget-and-curl",
	Category: analyzer.CategorySize,
	Severity: analyzer.SeverityInfo,
	Title:    "Stage uses both wget and curl",
	Rationale: `wget and curl do the same job here. Using both means both must be in the image, with their ` +
		`libraries, and two sets of flags for retries and TLS to get right. Pick one per stage. dockopt ` +
		`reports this at info, where hadolint warns: it costs size, it is not a defect.`,
	Bad:         "FROM debian:12\nRUN wget -q https://example.com/a\nRUN curl -fsSLO https://example.com/b\n",
	Good:        "FROM debian:12\nRUN curl -fsSLO https://example.com/a\nRUN curl -fsSLO https://example.com/b\n",
	Equivalents: []string{"hadolint:DL4001", "trivy:DS014"},
	POSIXOnly:   true,
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			seen := map[string]bool{}
			for _, in := range s.Instructions {
				if in.Keyword != "RUN" || in.Script == nil {
					continue
				}
				uses := false
				for _, c := range in.Script.CommandsNamed("wget", "curl") {
					seen[c.Name], uses = true, true
				}
				if uses && seen["wget"] && seen["curl"] {
					p.Report(in, "this stage downloads with both wget and curl; use one of them", nil)
					break
				}
			}
		}
	},
}
