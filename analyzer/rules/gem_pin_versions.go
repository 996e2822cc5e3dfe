package rules

import (
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// GemPinVersions mirrors hadolint DL3028.
var GemPinVersions = &analyzer.Rule{
	ID:       "gem-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "gem install without versions",
	Rationale: `gem install of a bare name takes the newest release at build time, so rebuilding the same commit ` +
		`can bring in a new major version of a tool such as bundler and break the build or the app. Name the ` +
		`version (bundler:2.5.22, or -v). dockopt never writes a version for you. Local .gem files, and the ` +
		`build options after --, are not reported. Unlike hadolint, dockopt does not skip the word after an ` +
		`option gem does not take a value for: gem install --no-document rails installs an unpinned rails.`,
	Bad:            "RUN gem install bundler\n",
	Good:           "RUN gem install bundler:2.5.22\n",
	Equivalents:    []string{"hadolint:DL3028"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.CommandsNamed("gem") {
				switch c.Subcommand(gemValued...) {
				case "install", "i":
				default:
					continue
				}
				if c.Has("-v", "--version") || c.HasPrefixArg("--version=") {
					continue
				}
				// What follows -- goes to the extension's build, not to gem.
				if i := slices.IndexFunc(c.Args, func(w analyzer.Word) bool { return w.Value == "--" }); i >= 0 {
					c.Args = c.Args[:i]
				}
				pkgs := unpinned(afterSubcommand(c, gemValued...), func(v string) bool {
					return strings.ContainsAny(v, ":/") || strings.HasSuffix(v, ".gem")
				})
				if len(pkgs) > 0 {
					p.Reportf(in, "gem install without versions: %s (pin as gem:version)", listWords(pkgs))
				}
			}
		}
	},
}

// gemValued are gem install options that take the next word as their value.
var gemValued = []string{"-i", "--install-dir", "-n", "--bindir", "-s", "--source", "--platform", "-P",
	"--trust-policy", "-g", "--file", "--build-root", "-p", "--http-proxy", "--document"}
