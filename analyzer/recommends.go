package analyzer

import (
	"regexp"
	"strings"
)

// neededRecommends are Debian packages that a requested package only
// recommends, yet its everyday use needs: without ca-certificates, curl,
// wget and git fail every HTTPS request; gcc without libc6-dev finds no C
// headers. apt-get install --no-install-recommends leaves them out, so
// whoever adds that flag must name them.
var neededRecommends = map[string]struct {
	packages []string
	why      string
}{
	"curl":     {[]string{"ca-certificates"}, "HTTPS needs"},
	"wget":     {[]string{"ca-certificates"}, "HTTPS needs"},
	"git":      {[]string{"ca-certificates"}, "HTTPS needs"},
	"libcurl4": {[]string{"ca-certificates"}, "HTTPS needs"},
	"gcc":      {[]string{"libc6-dev"}, "compiling needs"},
}

// NeededRecommends returns the recommended packages a Debian package
// needs for its everyday use, and what needs them ("HTTPS needs"); nil
// for a package that needs none. A versioned gcc (gcc-12) is gcc.
func NeededRecommends(pkg string) ([]string, string) {
	if len(pkg) > 4 && pkg[:4] == "gcc-" && pkg[4] >= '0' && pkg[4] <= '9' {
		pkg = "gcc"
	}
	n, ok := neededRecommends[pkg]
	if !ok {
		return nil, ""
	}
	return n.packages, n.why
}

// impliedRecommends are needed recommends that other packages bring as
// dependencies of their own: build-essential and g++ depend on libc6-dev.
var impliedRecommends = map[string][]string{"libc6-dev": {"build-essential", "g++"}}

// MissingRecommend is a recommended package an install with
// --no-install-recommends must name: NeededBy, one of the install's
// package words as written, needs it for Why ("HTTPS needs").
type MissingRecommend struct {
	Package, NeededBy, Why string
}

// MissingRecommends returns, in the order of the words that need them,
// the needed recommends (NeededRecommends) an install of words (package
// names as written, versions allowed: curl=8.5.0-2) does not name and no
// named package brings; each once, for the first word that needs it.
func MissingRecommends(words []string) []MissingRecommend {
	have := map[string]bool{}
	for _, w := range words {
		have[PackageName(w)] = true
	}
	for pkg, by := range impliedRecommends {
		for _, b := range by {
			if have[b] {
				have[pkg] = true
			}
		}
	}
	var out []MissingRecommend
	for _, w := range words {
		needed, why := NeededRecommends(PackageName(w))
		for _, pkg := range needed {
			if !have[pkg] {
				have[pkg] = true
				out = append(out, MissingRecommend{Package: pkg, NeededBy: w, Why: why})
			}
		}
	}
	return out
}

// golangGo is Debian's Go toolchain: golang-go, golang (which depends on
// it) and the versioned golang-1.NN-go and golang-1.NN.
var golangGo = regexp.MustCompile(`^golang(-go|-1\.[0-9]+(-go)?)?$`)

// RecommendsAreTheFeature says why a Debian package's recommended
// packages are much of what it is installed for, "" when they are not:
// installing it without them is a different install, not a smaller one,
// and nothing short of naming them all keeps it working as installed.
func RecommendsAreTheFeature(pkg string) string {
	switch {
	case pkg == "python3-pip":
		return "python3-pip recommends the compilers and headers (build-essential, python3-dev) pip uses to build packages that ship no wheel"
	case pkg == "imagemagick" || strings.HasPrefix(pkg, "imagemagick-"):
		return "imagemagick recommends the extra coders (libmagickcore-*-extra) that read SVG, WMF and other formats"
	case golangGo.MatchString(pkg):
		// Debian bookworm's golang-1.19-go (and every golang-1.NN-go)
		// Recommends: g++, gcc, libc6-dev, pkg-config.
		return pkg + " recommends gcc, g++, libc6-dev and pkg-config, which cgo needs: without them go build turns cgo off (CGO_ENABLED=0) and builds differently, or fails on packages that need cgo"
	}
	return ""
}
