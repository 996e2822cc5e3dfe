package rules

import (
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// TrustedRegistry mirrors hadolint DL3026.
var TrustedRegistry = &analyzer.Rule{
	ID:       "trusted-registry",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityError,
	Title:    "Image from a registry that is not trusted",
	Rationale: `Organisations often allow base images only from registries they mirror and scan. An image pulled ` +
		`from anywhere else bypasses that review and its availability is outside their control; that holds for ` +
		`FROM, COPY --from and RUN --mount from= alike. The rule is ` +
		`active only when trusted_registries (or hadolint's trustedRegistries) is configured; "docker.io" ` +
		`allows images named without a registry, and entries may use * wildcards ("*.corp.example").`,
	Bad:         "# trusted_registries: [registry.corp.example]\nFROM docker.io/library/alpine:3.20\n",
	Good:        "# trusted_registries: [registry.corp.example]\nFROM registry.corp.example/mirror/alpine:3.20\n",
	Equivalents: []string{"hadolint:DL3026"},
	Check: func(p *analyzer.Pass) {
		if p.Config == nil || len(p.Config.TrustedRegistries) == 0 {
			return
		}
		for _, s := range p.File.Stages {
			b := s.Base
			if s.BaseStage != nil || b.Unresolved || b.IsScratch() || registryTrusted(b.Registry, p.Config.TrustedRegistries) {
				continue
			}
			p.Reportf(s.From, "%s comes from %s, which is not a trusted registry (%s)", b.Raw, b.Registry, strings.Join(p.Config.TrustedRegistries, ", "))
		}
		// COPY --from and RUN --mount from= pull images too when they name
		// no stage.
		for in := range p.File.Each("") {
			var refs []string
			switch in.Keyword {
			case "COPY":
				if v, ok := in.Flag("from"); ok {
					refs = append(refs, v)
				}
			case "RUN":
				for _, m := range in.Mounts() {
					refs = append(refs, m.From)
				}
			}
			for _, ref := range refs {
				if ref == "" || strings.Contains(ref, "$") || p.File.StageByRef(ref) != nil || isStageIndex(ref) {
					continue
				}
				b := analyzer.ParseImageRef(ref)
				if b.IsScratch() || registryTrusted(b.Registry, p.Config.TrustedRegistries) {
					continue
				}
				p.Reportf(in, "%s comes from %s, which is not a trusted registry (%s)", ref, b.Registry, strings.Join(p.Config.TrustedRegistries, ", "))
			}
		}
	},
}

func registryTrusted(registry string, trusted []string) bool {
	registry = strings.ToLower(registry)
	for _, t := range trusted {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "hub.docker.com" || t == "index.docker.io" || t == "registry-1.docker.io" {
			t = "docker.io"
		}
		if t == registry {
			return true
		}
		if ok, err := path.Match(t, registry); err == nil && ok {
			return true
		}
	}
	return false
}

// isStageIndex reports a --from that counts stages (0, 1, …) rather than
// naming an image.
func isStageIndex(ref string) bool {
	return strings.Trim(ref, "0123456789") == ""
}
