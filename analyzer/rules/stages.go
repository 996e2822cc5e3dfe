package rules

import (
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
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
	return slices.Contains(d.FinalStage().Lineage(), s)
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

// instructionOnLine returns the top-level instruction that starts on line,
// which is where BuildKit locates its warnings.
func instructionOnLine(d *analyzer.Dockerfile, line int) *analyzer.Instruction {
	for _, in := range d.Instructions {
		if in.StartLine == line {
			return in
		}
		if in.StartLine > line {
			break
		}
	}
	return nil
}

// lineageBefore returns the instructions that ran before in: those of the
// stages its stage is built on, then its own stage's up to in.
func lineageBefore(in *analyzer.Instruction) []*analyzer.Instruction {
	if in.Stage == nil {
		return nil
	}
	all := in.Stage.LineageInstructions()
	for i, x := range all {
		if x == in || (in.Onbuild != nil && x == in.Onbuild) {
			return all[:i]
		}
	}
	return all
}

// userBefore returns the USER in effect just before in, "" when none is
// set.
func userBefore(in *analyzer.Instruction) string {
	u := ""
	for _, i := range lineageBefore(in) {
		if c, ok := i.Command.(*instructions.UserCommand); ok {
			u = c.User
		}
	}
	return u
}

// runsAsRoot reports whether a RUN runs as root, as far as the Dockerfile
// says (the base image's own USER is checked too).
func runsAsRoot(in *analyzer.Instruction) bool {
	u := userBefore(in)
	if u == "" && in.Stage != nil {
		u = analyzer.BaseImageUser(in.Stage.Root().Base)
	}
	return u == "" || analyzer.IsRootUser(u) || strings.Contains(u, "$")
}

// workdirBefore returns the WORKDIR in effect before in.
func workdirBefore(in *analyzer.Instruction) string {
	wd := "/"
	for _, i := range lineageBefore(in) {
		if c, ok := i.Command.(*instructions.WorkdirCommand); ok {
			wd = resolvePath(wd, c.Path)
		}
	}
	return wd
}

// envBefore returns the value an ENV earlier in the stage chain gives a
// variable before in, and whether one sets it.
func envBefore(in *analyzer.Instruction, name string) (string, bool) {
	return envIn(lineageBefore(in), name)
}

// envAtEnd returns the value the stage chain of s gives a variable.
func envAtEnd(s *analyzer.Stage, name string) (string, bool) {
	return envIn(s.LineageInstructions(), name)
}

func envIn(ins []*analyzer.Instruction, name string) (string, bool) {
	val, found := "", false
	for _, i := range ins {
		if c, ok := i.Command.(*instructions.EnvCommand); ok {
			for _, kv := range c.Env {
				if kv.Key == name {
					// The parser keeps quotes; the builder removes them.
					val, found = strings.Trim(kv.Value, `"'`), true
				}
			}
		}
	}
	return val, found
}

// resolvePath resolves p against the working directory, for paths in RUN
// scripts and COPY destinations.
func resolvePath(workdir, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	if strings.HasPrefix(p, "~/") || p == "~" {
		return path.Clean("/root/" + strings.TrimPrefix(p, "~"))
	}
	if workdir == "" {
		workdir = "/"
	}
	return path.Clean(path.Join(workdir, p))
}
