package rules

import (
	"github.com/dockopt/dockopt/analyzer"
)

// What the rules that change how a container runs (USER, HEALTHCHECK, an
// init as ENTRYPOINT, ENV for the process) share: the role gate, the
// wording of a withheld fix, and where runtime settings go in a stage.

// runtimeChangeRefused reports the finding as advisory (info, no fix) and
// returns true when stage s may not receive a runtime change: it is not
// the final stage of an application image, or the file is generated.
func runtimeChangeRefused(p *analyzer.Pass, s *analyzer.Stage, in *analyzer.Instruction, message string) bool {
	ok, why := p.RuntimeChangeAllowed(s)
	if ok {
		return false
	}
	p.ReportAdvisory(in, message+"; "+why, analyzer.PreconditionRole)
	return true
}

// withheld is a precondition a fix failed, with the words that let a
// maintainer check it.
type withheld struct {
	why  analyzer.Precondition
	text string
}

// report records the finding with its fix withheld.
func (w *withheld) report(p *analyzer.Pass, in *analyzer.Instruction, message string) {
	p.ReportWithheld(in, message+"; no fix: "+w.text, w.why)
}

// runtimeAnchor returns the instruction that runtime settings (USER, an
// init's ENTRYPOINT and the RUN that installs it) go before: the stage's
// first CMD or ENTRYPOINT, moved up over the metadata just above it, and
// never above a RUN, which would then run under the new settings. nil
// means after the stage's last instruction.
//
// Rules that insert before it share one offset, so the patcher applies
// them in separate passes and each sees the others' lines: an install
// cannot land after a USER another fix added in the same pass.
func runtimeAnchor(s *analyzer.Stage) *analyzer.Instruction {
	idx := -1
	for i, in := range s.Instructions {
		if in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT" {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil
	}
	for idx > 0 {
		switch s.Instructions[idx-1].Keyword {
		case "EXPOSE", "HEALTHCHECK", "LABEL", "STOPSIGNAL":
			idx--
			continue
		}
		break
	}
	for i := len(s.Instructions) - 1; i >= idx; i-- {
		if s.Instructions[i].Keyword == "RUN" {
			if i+1 < len(s.Instructions) {
				return s.Instructions[i+1]
			}
			return nil
		}
	}
	return s.Instructions[idx]
}

// anchorLine is the line facts are asked at for an insertion before
// anchor: its own line, or 0 (the end of the stage) when appending.
func anchorLine(anchor *analyzer.Instruction) int {
	if anchor == nil {
		return 0
	}
	return anchor.StartLine
}
