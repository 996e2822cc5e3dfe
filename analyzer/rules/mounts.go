package rules

import (
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// Queries on RUN --mount, which decides whether a cache ever reaches a
// layer.

// mountHolds reports whether the RUN mounts a cache or tmpfs at one of the
// directories (or a parent of it): what lands there never reaches the
// layer, so there is nothing to clean up.
func mountHolds(in *analyzer.Instruction, dirs ...string) bool {
	for _, m := range in.Mounts() {
		if m.Type != "cache" && m.Type != "tmpfs" || m.Target == "" {
			continue
		}
		for _, d := range dirs {
			if d == m.Target || strings.HasPrefix(d, m.Target+"/") {
				return true
			}
		}
	}
	return false
}

// layerlessMountTargets returns the targets of the RUN's cache and tmpfs
// mounts: what is written under either never reaches the layer.
func layerlessMountTargets(in *analyzer.Instruction) []string {
	var out []string
	for _, m := range in.Mounts() {
		if (m.Type == "cache" || m.Type == "tmpfs") && m.Target != "" {
			out = append(out, m.Target)
		}
	}
	return out
}

// mountTouches reports a cache or tmpfs mount on one of dirs, inside one
// of them or above it, e.g. /var/cache/dnf for /var/cache/dnf/x86_64.
func mountTouches(in *analyzer.Instruction, dirs ...string) bool {
	for _, t := range layerlessMountTargets(in) {
		for _, d := range dirs {
			if pathsOverlap(t, d) {
				return true
			}
		}
	}
	return false
}

// pathsOverlap reports whether one path is the other or lies inside it.
func pathsOverlap(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// usesBuildKitFeatures reports a Dockerfile that already relies on
// BuildKit features, so that proposing more of them asks nothing new of
// its users.
func usesBuildKitFeatures(d *analyzer.Dockerfile) bool {
	if _, ok := d.Directive("syntax"); ok {
		return true
	}
	for in := range d.Each("") {
		for _, f := range in.Flags {
			if strings.HasPrefix(f, "--mount") {
				return true
			}
		}
		if len(in.Heredocs) > 0 {
			return true
		}
	}
	return false
}
