package rules

import (
	"regexp"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// PipPinVersions mirrors hadolint DL3013.
var PipPinVersions = &analyzer.Rule{
	ID:       "pip-pin-versions",
	Category: analyzer.CategoryReliability,
	Severity: analyzer.SeverityInfo,
	Title:    "pip install of packages without versions",
	Rationale: `pip install of a bare name takes the newest release on PyPI at build time, so the same commit ` +
		`builds with different libraries from one week to the next and a new major release can break the ` +
		`image without any change to the code. Pin with == (or a constraints or requirements file, ideally ` +
		`with hashes). dockopt never writes a version for you. Requirements and constraints files, local paths, ` +
		`wheels and sdists, and upgrading pip, setuptools or wheel themselves are not reported; a git (or other ` +
		`VCS) URL is pinned by a revision after @.`,
	Bad:            "RUN pip install --no-cache-dir flask\n",
	Good:           "RUN pip install --no-cache-dir flask==3.0.3\n",
	Equivalents:    []string{"hadolint:DL3013"},
	POSIXOnly:      true,
	Reads:          []string{"RUN"},
	PerInstruction: true,
	Check: func(p *analyzer.Pass) {
		for in := range p.Each("RUN") {
			if in.Script == nil {
				continue
			}
			for _, c := range in.Script.Commands() {
				pip, ok := asPipCommand(c)
				if !ok || pip.Subcommand(pipValued...) != "install" ||
					pip.Has("-r", "--requirement", "-c", "--constraint") ||
					pip.HasPrefixArg("--requirement=") || pip.HasPrefixArg("--constraint=") {
					continue
				}
				upgrade := pip.Has("-U", "--upgrade")
				pkgs := unpinned(afterSubcommand(pip, pipValued...), func(v string) bool {
					if upgrade && (v == "pip" || v == "setuptools" || v == "wheel") {
						return true
					}
					return pipPinned(v)
				})
				if len(pkgs) > 0 {
					p.Reportf(in, "pip install without versions: %s (pin as package==version or use a requirements file)", listWords(pkgs))
				}
			}
		}
	},
}

var pipCommandName = regexp.MustCompile(`^pip[0-9.]*$`)

// asPipCommand returns the command as pip sees it, for pip, pip3.12 and
// python -m pip alike.
func asPipCommand(c analyzer.Command) (analyzer.Command, bool) {
	if pipCommandName.MatchString(c.Name) {
		return c, true
	}
	if strings.HasPrefix(c.Name, "python") && len(c.Args) >= 2 && c.Args[0].Value == "-m" && pipCommandName.MatchString(c.Args[1].Value) {
		pip := c
		pip.Args = c.Args[2:]
		return pip, true
	}
	return c, false
}

// pipValued are pip install options that take the next word as their value.
var pipValued = []string{"--abi", "-b", "--build", "-e", "--editable", "--extra-index-url", "-f", "--find-links",
	"-i", "--index-url", "--implementation", "--no-binary", "--only-binary", "--platform", "--prefix",
	"--progress-bar", "--proxy", "--python-version", "--root", "--src", "-t", "--target", "--trusted-host",
	"--upgrade-strategy", "--cache-dir", "--log", "--timeout", "--retries", "--config-settings", "-C"}

func pipPinned(v string) bool {
	for _, vcs := range []string{"git+", "hg+", "svn+", "bzr+"} {
		if strings.HasPrefix(v, vcs) {
			return vcsRevisionPinned(v)
		}
	}
	if strings.ContainsAny(v, "=<>@/") || strings.HasPrefix(v, ".") {
		return true
	}
	for _, ext := range []string{".whl", ".tar.gz", ".zip"} {
		if strings.HasSuffix(v, ext) {
			return true
		}
	}
	return false
}

// vcsRevisionPinned reports whether a VCS requirement names a revision
// (git+https://host/repo.git@v1.2#egg=x): without one pip takes the
// default branch as it is at build time. An @ in the host part is a user
// name, not a revision.
func vcsRevisionPinned(v string) bool {
	v, _, _ = strings.Cut(v, "#")
	_, rest, ok := strings.Cut(v, "://")
	if !ok {
		return strings.Contains(v, "@")
	}
	_, p, _ := strings.Cut(rest, "/")
	return strings.Contains(p, "@")
}
