package analyzer

import (
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// The state an instruction runs in (working directory, user, environment)
// is what the instructions before it in its stage chain set. Rules ask for
// it at almost every instruction, so it is computed once per file when it
// is parsed: walking the chain back at each question made analysis
// quadratic in the number of instructions.

// maxPath is Linux's PATH_MAX. A longer working directory cannot exist, so
// a build that asks for one fails; the model stops following WORKDIR
// there, or a file of relative WORKDIRs would hold a longer path at every
// instruction, quadratic memory.
const maxPath = 4096

// runState is what WORKDIR and USER have set at some point of a stage chain.
type runState struct {
	workdir string
	user    string
}

// envSet is one value an ENV gives a variable, at a position of a stage.
type envSet struct {
	pos   int
	value string
}

// stageEnv holds the ENV values a stage sets itself, and remembers the
// values its chain has at its end, which later stages ask for again and
// again.
type stageEnv struct {
	own map[string][]envSet
	mu  sync.Mutex
	end map[string]envValue
}

type envValue struct {
	value string
	ok    bool
}

// computeState records, for every instruction of every stage, the state
// before it; stages are in file order, so a stage's base is done first.
func (d *Dockerfile) computeState() {
	for _, s := range d.Stages {
		cur := runState{workdir: "/"}
		s.root = s
		if s.BaseStage != nil {
			cur = s.BaseStage.endState
			s.root = s.BaseStage.root
		}
		s.env = &stageEnv{}
		for i, in := range s.Instructions {
			in.pos = i
			in.state = cur
			if in.Trigger != nil {
				// A trigger runs in a child build, after everything the
				// ONBUILD's stage did before it.
				in.Trigger.pos = i
				in.Trigger.state = cur
			}
			switch c := in.Command.(type) {
			case *instructions.WorkdirCommand:
				if wd := ResolvePath(cur.workdir, c.Path); len(wd) <= maxPath {
					cur.workdir = wd
				}
			case *instructions.UserCommand:
				cur.user = c.User
			case *instructions.EnvCommand:
				if s.env.own == nil {
					s.env.own = map[string][]envSet{}
				}
				for _, kv := range c.Env {
					// The parser keeps quotes; the builder removes them.
					s.env.own[kv.Key] = append(s.env.own[kv.Key], envSet{pos: i, value: strings.Trim(kv.Value, `"'`)})
				}
			}
		}
		s.endState = cur
	}
	d.numberStages()
	for _, in := range d.Instructions {
		if in.Stage == nil {
			in.state = runState{workdir: "/"}
			if in.Trigger != nil {
				in.Trigger.state = in.state
			}
		}
	}
}

// numberStages numbers the stages in a depth-first walk of the tree that
// FROM <stage> makes, so that whether one stage is built on another is a
// comparison instead of a walk down a chain that can be thousands long.
func (d *Dockerfile) numberStages() {
	if len(d.Stages) == 1 {
		d.Stages[0].treeIn, d.Stages[0].treeOut = 1, 1
		return
	}
	children := map[*Stage][]*Stage{}
	var roots []*Stage
	for _, s := range d.Stages {
		if s.BaseStage != nil {
			children[s.BaseStage] = append(children[s.BaseStage], s)
		} else {
			roots = append(roots, s)
		}
	}
	type visit struct {
		s    *Stage
		exit bool
	}
	n := 0
	var stack []visit
	for i := len(roots) - 1; i >= 0; i-- {
		stack = append(stack, visit{s: roots[i]})
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v.exit {
			v.s.treeOut = n
			continue
		}
		n++
		v.s.treeIn = n
		stack = append(stack, visit{s: v.s, exit: true})
		kids := children[v.s]
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, visit{s: kids[i]})
		}
	}
}

// InLineage reports whether t is in s.Lineage(): s itself or a stage s is
// built on.
func (s *Stage) InLineage(t *Stage) bool {
	if s == nil || t == nil {
		return false
	}
	if s.treeIn == 0 || t.treeIn == 0 {
		// Not numbered (a Stage made by hand): walk.
		for x := s; x != nil; x = x.BaseStage {
			if x == t {
				return true
			}
		}
		return false
	}
	return t.treeIn <= s.treeIn && s.treeOut <= t.treeOut
}

// WorkdirBefore returns the working directory in effect just before the
// instruction, "/" when no WORKDIR of its stage chain set one.
func (in *Instruction) WorkdirBefore() string { return in.state.workdir }

// UserBefore returns the USER in effect just before the instruction, ""
// when its stage chain sets none.
func (in *Instruction) UserBefore() string { return in.state.user }

// EnvBefore returns the value an ENV earlier in the stage chain gives a
// variable just before the instruction, and whether one sets it.
func (in *Instruction) EnvBefore(name string) (string, bool) {
	s := in.Stage
	if s == nil || s.env == nil {
		return "", false
	}
	sets := s.env.own[name]
	// The last ENV of the stage before the instruction, if any.
	i := sort.Search(len(sets), func(i int) bool { return sets[i].pos >= in.pos })
	if i > 0 {
		return sets[i-1].value, true
	}
	if s.BaseStage != nil {
		return s.BaseStage.EnvAtEnd(name)
	}
	return "", false
}

// EnvAtEnd returns the value the stage chain of s gives a variable with
// ENV, and whether one sets it.
func (s *Stage) EnvAtEnd(name string) (string, bool) {
	if s.env == nil {
		return "", false
	}
	if sets := s.env.own[name]; len(sets) > 0 {
		return sets[len(sets)-1].value, true
	}
	if s.BaseStage == nil {
		return "", false
	}
	s.env.mu.Lock()
	v, known := s.env.end[name]
	s.env.mu.Unlock()
	if known {
		return v.value, v.ok
	}
	// Remembered per stage, so that a long chain of stages is walked once
	// per variable rather than once per question.
	v.value, v.ok = s.BaseStage.EnvAtEnd(name)
	s.env.mu.Lock()
	if s.env.end == nil {
		s.env.end = map[string]envValue{}
	}
	s.env.end[name] = v
	s.env.mu.Unlock()
	return v.value, v.ok
}

// ResolvePath resolves p against a working directory, as WORKDIR, COPY
// destinations and paths in RUN scripts are resolved.
func ResolvePath(workdir, p string) string {
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
