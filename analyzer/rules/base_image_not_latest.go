package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// BaseImageNotLatest mirrors hadolint DL3007.
var BaseImageNotLatest = &analyzer.Rule{
	ID:       "base-image-not-latest",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "FROM image tagged latest",
	Rationale: `"latest" is not a version: it moves whenever the publisher pushes, so builds of the same commit ` +
		`differ and a routine rebuild can bring a new major release into production. Use a release tag. An ` +
		`image pinned by digest (image:latest@sha256:…) is reproducible and is not reported.`,
	Bad:         "FROM python:latest\n",
	Good:        "FROM python:3.12-slim\n",
	Equivalents: []string{"hadolint:DL3007", "trivy:DS001"},
	Reads:       []string{"FROM"},
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			b := s.Base
			if s.BaseStage != nil || b.Unresolved || b.Tag != "latest" || b.Pinned() {
				continue
			}
			if unversioned(b) {
				p.Reportf(s.From, "%s follows whatever was pushed last; it publishes no release tags, so pin the digest you tested: %s@sha256:<digest>", b.Raw, b.Raw)
				continue
			}
			p.Reportf(s.From, "%s follows whatever was pushed last; use a release tag", b.Raw)
		}
	},
}
