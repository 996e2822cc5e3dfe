package analyzer

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
