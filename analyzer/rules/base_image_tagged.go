package rules

import (
	"regexp"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// BaseImageTagged mirrors hadolint DL3006.
var BaseImageTagged = &analyzer.Rule{
	ID:       "base-image-tagged",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityWarning,
	Title:    "FROM image without a tag",
	Rationale: `An image named without a tag means "latest", which is whatever the publisher pushed last: a new ` +
		`major version, another distribution, a different architecture set. The same Dockerfile then builds ` +
		`different images from one day to the next, and a rebuild to ship a small fix can pull in a breaking ` +
		`upgrade. Name the version you tested. References to earlier stages, scratch, digests and images whose ` +
		`name comes from a build argument without a default are not reported.`,
	Bad:         "FROM node\n",
	Good:        "FROM node:20-bookworm-slim\n",
	Equivalents: []string{"hadolint:DL3006", "trivy:DS001"},
	Reads:       []string{"FROM"},
	Check: func(p *analyzer.Pass) {
		for _, s := range p.File.Stages {
			b := s.Base
			if s.BaseStage != nil || b.Unresolved || b.IsScratch() || !b.Untagged() || b.Repository == "" {
				continue
			}
			if unversioned(b) {
				p.Reportf(s.From, "%s has no tag and follows latest; it publishes no version tags, so pin the digest you tested: %s:latest@sha256:<digest>", b.Raw, b.Raw)
				continue
			}
			p.Reportf(s.From, "%s has no tag and follows latest; name the version you tested, e.g. %s:<version>", b.Raw, b.Raw)
		}
	},
}

// unversioned reports an image published under moving tags only
// (latest, nonroot, debug), for which a digest is the only pin: the
// distroless images named for their Debian release, and the older
// static, base and cc. The older distroless/nodejs and distroless/java
// did publish version tags (nodejs:14, java:11).
func unversioned(b analyzer.ImageRef) bool {
	name, ok := strings.CutPrefix(b.Repository, "distroless/")
	if b.Registry != "gcr.io" || !ok {
		return false
	}
	switch name {
	case "static", "base", "base-nossl", "cc":
		return true
	}
	return distrolessDebian.MatchString(name)
}

var distrolessDebian = regexp.MustCompile(`-debian\d+$`)
