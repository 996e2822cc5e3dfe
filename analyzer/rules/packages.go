package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// Queries on the packages RUN instructions install, and how findings
// list them.

// osInstallers are the commands that install OS packages by name.
var osInstallers = []string{"apt-get", "apt", "apk", "dnf", "microdnf", "yum", "zypper", "tdnf"}

// languageInstallers are the language package managers whose named
// installs say what a stage compiles or runs.
var languageInstallers = []string{"npm", "pip", "pip3"}

// installedPackages returns the packages that the given installers name
// in the RUNs of a stage chain, without version pins.
func installedPackages(s *analyzer.Stage, installers ...string) map[string]bool {
	out := map[string]bool{}
	for _, in := range s.LineageInstructions() {
		addInstalled(out, in, installers...)
	}
	return out
}

// addInstalled adds the packages the installers name in a RUN.
func addInstalled(out map[string]bool, in *analyzer.Instruction, installers ...string) {
	if in.Keyword != "RUN" || in.Script == nil {
		return
	}
	for _, c := range in.Script.CommandsNamed(installers...) {
		for _, a := range c.Args {
			name := a.Value
			for _, sep := range []string{"=", ">", "<", "~", "@"} {
				if i := strings.Index(name, sep); i > 0 {
					name = name[:i]
				}
			}
			out[name] = true
		}
	}
}

// unpinned returns the static package arguments the predicate does not
// accept as pinned. Words with expansions are skipped: their value is
// unknown here, and a version is often what the variable holds.
func unpinned(pkgs []analyzer.Word, pinned func(string) bool) []string {
	var out []string
	for _, w := range pkgs {
		if w.Dynamic || w.Value == "" || pinned(w.Value) {
			continue
		}
		out = append(out, w.Value)
	}
	return out
}

// listWords renders package names for a message, shortening long lists.
func listWords(words []string) string {
	const max = 5
	if len(words) <= max {
		return strings.Join(words, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(words[:max], ", "), len(words)-max)
}

// joinLines renders a list of line numbers for messages.
func joinLines(lines []int) string {
	var parts []string
	for _, l := range lines {
		parts = append(parts, strconv.Itoa(l))
	}
	return strings.Join(parts, ", ")
}
