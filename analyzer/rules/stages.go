package rules

import (
	"math"
	"sort"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// Queries on stages and on the state an instruction runs in: its working
// directory, user and environment, as set by the stages it is built on.

// shipsInFinalImage reports whether a stage's layers end up in the image
// that is built by default: the final stage or one it is built FROM. Caches
// left in other stages are thrown away with the stage.
func shipsInFinalImage(d *analyzer.Dockerfile, s *analyzer.Stage) bool {
	if s == nil {
		// ONBUILD triggers run in a child image that ships.
		return true
	}
	return d.FinalStage().InLineage(s)
}

// stageOf returns the stage of an instruction, nil for ONBUILD triggers,
// which run in another build.
func stageOf(in *analyzer.Instruction) *analyzer.Stage {
	if in.Onbuild != nil {
		return nil
	}
	return in.Stage
}

// startInstruction returns the last CMD or ENTRYPOINT of the final image.
func startInstruction(d *analyzer.Dockerfile) *analyzer.Instruction {
	var last *analyzer.Instruction
	for _, in := range d.FinalStage().LineageInstructions() {
		if in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT" {
			last = in
		}
	}
	return last
}

// lastRunning returns the index in ins of the last RUN that runs the
// command name, -1 when none does. A rule that looks back from such RUNs
// at what came before them records the instructions up to there only.
func lastRunning(ins []*analyzer.Instruction, name string) int {
	for i := len(ins) - 1; i >= 0; i-- {
		if ins[i].Keyword != "RUN" || ins[i].Script == nil {
			continue
		}
		for _, c := range ins[i].Script.Commands() {
			if c.Name == name {
				return i
			}
		}
	}
	return -1
}

// instructionOnLine returns the top-level instruction that starts on line,
// which is where BuildKit locates its warnings.
func instructionOnLine(d *analyzer.Dockerfile, line int) *analyzer.Instruction {
	i := sort.Search(len(d.Instructions), func(i int) bool { return d.Instructions[i].StartLine >= line })
	if i < len(d.Instructions) && d.Instructions[i].StartLine == line {
		return d.Instructions[i]
	}
	return nil
}

// chainFirst finds the first instruction of a stage chain for which a
// predicate holds, reading each stage once: rules that ask "did anything
// before this instruction …" at every instruction stay linear.
type chainFirst struct {
	pred  func(*analyzer.Instruction) bool
	first map[*analyzer.Stage]int
}

func newChainFirst(pred func(*analyzer.Instruction) bool) *chainFirst {
	return &chainFirst{pred: pred, first: map[*analyzer.Stage]int{}}
}

// index is the Index of the first instruction of s for which the
// predicate holds, -1 when it holds in a stage s is built on, and MaxInt
// when it holds nowhere in the chain.
func (c *chainFirst) index(s *analyzer.Stage) int {
	if i, ok := c.first[s]; ok {
		return i
	}
	first := math.MaxInt
	if s.BaseStage != nil && c.index(s.BaseStage) != math.MaxInt {
		first = -1
	} else {
		for _, in := range s.Instructions {
			if c.pred(in) {
				first = in.Index
				break
			}
		}
	}
	c.first[s] = first
	return first
}

// before reports whether the predicate holds for an instruction that ran
// before in, in its stage chain.
func (c *chainFirst) before(in *analyzer.Instruction) bool {
	return in.Stage != nil && c.index(in.Stage) < in.Index
}

// upTo is before, in included.
func (c *chainFirst) upTo(in *analyzer.Instruction) bool {
	return in.Stage != nil && c.index(in.Stage) <= in.Index
}

// anywhere reports whether the predicate holds anywhere in the chain of
// in's stage.
func (c *chainFirst) anywhere(in *analyzer.Instruction) bool {
	return c.inChain(in.Stage)
}

// inChain reports whether the predicate holds anywhere in s's chain: in s
// or a stage it is built on.
func (c *chainFirst) inChain(s *analyzer.Stage) bool {
	return s != nil && c.index(s) != math.MaxInt
}

// runsAsRoot reports whether a RUN runs as root, as far as the Dockerfile
// says (the base image's own USER is checked too).
func runsAsRoot(in *analyzer.Instruction) bool {
	u := runUser(in)
	return u == "" || analyzer.IsRootUser(u) || strings.Contains(u, "$")
}

// runUser is the user an instruction runs as: the last USER before it,
// else the base image's own (bitnami/nginx's 1001); "" when neither sets
// one.
func runUser(in *analyzer.Instruction) string {
	if u := in.UserBefore(); u != "" || in.Stage == nil {
		return u
	}
	return analyzer.BaseImageUser(in.Stage.Root().Base)
}
