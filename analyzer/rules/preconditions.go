package rules

import (
	"fmt"

	"github.com/dockopt/dockopt/analyzer"
)

// Preconditions fixes check against the facts before they are offered
// (DESIGN.md, "Trust"): each answers whether the fix may be proposed and,
// when not, why in words a maintainer can check.

// toolFromHere reports whether a command exists when in runs and when each
// later RUN of its stage, and of every stage built FROM it, runs: what an
// instruction inserted before in (a SHELL) changes.
func toolFromHere(p *analyzer.Pass, in *analyzer.Instruction, tool string) (ok bool, why string) {
	f := p.Facts()
	check := func(s *analyzer.Stage, at *analyzer.Instruction) (bool, string) {
		t := f.Stage(s).Tool(at.StartLine, tool)
		if t.Presence != analyzer.Present {
			return false, fmt.Sprintf("%s is not known to exist at line %d (%s)", tool, at.StartLine, t.Why)
		}
		return true, ""
	}
	if ok, why := check(in.Stage, in); !ok {
		return false, why
	}
	for _, s := range p.File.Stages {
		if !builtFrom(s, in.Stage) {
			continue
		}
		for _, at := range s.Instructions {
			if at.Keyword != "RUN" || (s == in.Stage && at.StartLine <= in.StartLine) {
				continue
			}
			if ok, why := check(s, at); !ok {
				return false, why
			}
		}
	}
	return true, ""
}

// builtFrom reports whether s is base or is built FROM it, directly or not.
func builtFrom(s, base *analyzer.Stage) bool {
	for t := s; t != nil; t = t.BaseStage {
		if t == base {
			return true
		}
	}
	return false
}

// inFinalImage reports whether what stage s sets (SHELL, USER, ENV …)
// reaches the image the file builds by default.
func inFinalImage(d *analyzer.Dockerfile, s *analyzer.Stage) bool {
	final := d.FinalStage()
	return final != nil && builtFrom(final, s)
}
