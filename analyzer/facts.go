package analyzer

import (
	"cmp"
	"maps"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dockopt/dockopt/analyzer/imagedata/contents"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Presence is a three-valued answer: a fact the model cannot establish is
// Unknown, and a fix that needs it withholds itself.
type Presence int8

const (
	Unknown Presence = iota
	Present
	Absent
)

func (p Presence) String() string {
	switch p {
	case Present:
		return "present"
	case Absent:
		return "absent"
	}
	return "unknown"
}

// Facts are what the model knows about one Dockerfile beyond its syntax:
// the role of the file and of each stage, whether it is generated, and per
// stage the tools, users, ports, written paths and mounts at each line.
// Rules and rewrites read them instead of re-deriving them (DESIGN.md,
// "Trust"). Each part is computed on first use, once per file; every
// answer depends only on the file and its build context.
type Facts struct {
	file *Dockerfile
	ctx  *BuildContext

	roleOnce   sync.Once
	role       RoleFact
	stageRoles []RoleFact

	genOnce sync.Once
	gen     Generated

	updOnce  sync.Once
	updaters []updater

	routeOnce sync.Once
	route     string

	manifestOnce sync.Once
	manifest     appFacts

	// globBudget bounds how many COPY patterns role detection matches
	// against the whole build context.
	globBudget int

	refOnce sync.Once
	refs    map[string]*Stage
	useOnce sync.Once
	uses    map[*Stage]string

	mu     sync.Mutex
	stages map[*Stage]*StageFacts
}

// NewFacts returns the facts of a parsed Dockerfile built from bc (nil for
// a file analyzed on its own).
func NewFacts(d *Dockerfile, bc *BuildContext) *Facts {
	if bc == nil {
		bc = EmptyContext()
	}
	return &Facts{file: d, ctx: bc, stages: map[*Stage]*StageFacts{}, globBudget: 32}
}

// Facts returns the facts of the file being checked, shared by every rule.
func (p *Pass) Facts() *Facts { return p.facts.model(p.File, p.Context) }

// Facts returns the facts of an analyzed file, nil when it did not parse
// or its model was released (Configured.ReleasingModels).
func (fr *FileResult) Facts() *Facts {
	if fr.Dockerfile == nil || fr.released {
		return nil
	}
	if fr.facts == nil {
		fr.facts = &fileFacts{}
	}
	return fr.facts.model(fr.Dockerfile, fr.BuildContext)
}

func (f *fileFacts) model(d *Dockerfile, bc *BuildContext) *Facts {
	f.modelOnce.Do(func() { f.modelFacts = NewFacts(d, bc) })
	return f.modelFacts
}

// File returns the Dockerfile the facts describe.
func (f *Facts) File() *Dockerfile { return f.file }

// Stage returns the facts of one stage of the file.
func (f *Facts) Stage(s *Stage) *StageFacts {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sf, ok := f.stages[s]; ok {
		return sf
	}
	sf := f.buildStage(s)
	f.stages[s] = sf
	return sf
}

// Final returns the facts of the stage built by default.
func (f *Facts) Final() *StageFacts {
	if s := f.file.FinalStage(); s != nil {
		return f.Stage(s)
	}
	return nil
}

// StageFacts are the facts of one stage, read along its lineage (the
// stages it is built FROM, then itself), starting from what the root's
// base image is known to hold.
type StageFacts struct {
	Stage *Stage
	facts *Facts
	chain []*Stage

	image      contents.Image
	imageKnown bool
	distro     DistroFact

	steps    []step
	tools    []toolEvent
	accounts []accountEvent
	placed   []PlacedFile
	// copiedDirs are the build context's folders the lineage copies whole
	// (COPY . /app): a file under one is read from the context when no
	// COPY names it (entrypointScript).
	copiedDirs []copiedDir
	writes     []pathEvent
	// madeDirs are the directories writes made (WORKDIR, mkdir,
	// install -d, a COPY of a directory), each at its first offset.
	madeDirs map[string]int
	uses     []AccountUse
	cleaning []CacheClean
	volumes  []pathEvent
	binDirs  map[string]bool
	// virtuals are apk --virtual groups and their packages; world the
	// packages installed by name, which deleting a group leaves in place.
	virtuals map[string][]string
	world    map[string]bool
	packages []InstalledPackage
	lex      lexer
	// The lazily computed parts; StageFacts is safe for concurrent use.
	serversOnce, portsOnce, entryOnce sync.Once
	listenOnce                        sync.Once
	listens                           []configListen
	timelinesMu                       sync.Mutex
	timelines                         map[string]*toolTimeline
	servers                           []ServerFact
	ports                             []PortFact
	entry                             EntrypointFact
	endUser                           UserFact
	endDir                            string
	// unresolvedDir is the WORKDIR that left the stage's working
	// directory unknown (endDir ""), nil when it is known.
	unresolvedDir *Instruction
	endEnv        map[string]string

	// keptOut marks, for each of writes, one that never reached its
	// layer (keptOutOfLayer), worked out once for all of them.
	keptOutOnce sync.Once
	keptOut     []bool
}

// step is the state just before one instruction of the lineage runs.
type step struct {
	in      *Instruction
	workdir string
	user    UserFact
	env     map[string]string
}

// Lineage returns the stages the facts were read along, root first.
func (sf *StageFacts) Lineage() []*Stage { return sf.chain }

// BaseImage returns what dockopt's table knows of the root's base image,
// and whether it knows it at all.
func (sf *StageFacts) BaseImage() (contents.Image, bool) { return sf.image, sf.imageKnown }

// maxLineage bounds how many stages facts follow back through FROM: real
// Dockerfiles stay far below it, and a hostile chain of thousands of
// stages must not cost thousands of walks. Past it, the base is unknown.
const maxLineage = 64

// lineage returns the stages s is built FROM, root first, at most
// maxLineage of them.
func lineage(s *Stage) []*Stage {
	return lineageUpTo(s, maxLineage)
}

// lineageUpTo is lineage with a smaller bound.
func lineageUpTo(s *Stage, depth int) []*Stage {
	var rev []*Stage
	for ; s != nil && len(rev) < depth; s = s.BaseStage {
		rev = append(rev, s)
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// lineageDepth is how far a stage's facts follow FROM in this file: the
// full maxLineage for any Dockerfile a person writes, fewer stages for a
// file so large that every stage's facts at full depth would cost more than
// factSteps instructions read. Stage facts are built per stage along the
// lineage, so a chain of 10,000 stages would otherwise be read 64 times
// over; the depth depends on the file alone, so answers stay deterministic.
func (f *Facts) lineageDepth() int {
	n := max(len(f.file.Instructions), 1)
	return min(maxLineage, max(minLineage, factSteps/n))
}

// factSteps and minLineage bound lineageDepth.
const (
	factSteps  = 100_000
	minLineage = 4
)

// stageRef finds a stage by name or index, as StageByRef does, from a map
// built once per file.
func (f *Facts) stageRef(ref string) *Stage {
	f.refOnce.Do(func() {
		f.refs = map[string]*Stage{}
		for _, s := range f.file.Stages {
			if s.Name != "" {
				if _, dup := f.refs[strings.ToLower(s.Name)]; !dup {
					f.refs[strings.ToLower(s.Name)] = s
				}
			}
			f.refs[strconv.Itoa(s.Index)] = s
		}
	})
	return f.refs[strings.ToLower(ref)]
}

// metaArg returns the default of an ARG declared before the first FROM,
// which a stage sees when it declares the ARG again without a value.
func (f *Facts) metaArg(name string) (string, bool) {
	v, ok := "", false
	for _, in := range f.file.MetaArgs {
		if c, isArg := in.Command.(*instructions.ArgCommand); isArg {
			for _, kv := range c.Args {
				if kv.Key == name && kv.Value != nil {
					v, ok = expandStatic(lexer(f.file.Escape), *kv.Value, nil), true
				}
			}
		}
	}
	return v, ok && !strings.Contains(v, "$")
}

// defaultPath is the PATH of images that do not set one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultPathDirs are defaultPath's folders, which every stage starts with.
var defaultPathDirs = strings.Split(defaultPath, ":")

func (f *Facts) buildStage(s *Stage) *StageFacts {
	sf := &StageFacts{Stage: s, facts: f, chain: lineageUpTo(s, f.lineageDepth()), binDirs: make(map[string]bool, len(defaultPathDirs)), virtuals: map[string][]string{}, world: map[string]bool{}}
	root := sf.chain[0]
	if repo := f.ctx.repo; repo != nil {
		sf.image, sf.imageKnown = repo.imageContents(root.Base)
	} else {
		sf.image, sf.imageKnown = baseContents(root.Base)
	}
	sf.distro = sf.detectDistro()
	env := map[string]string{"PATH": defaultPath}
	for k, v := range sf.image.Env {
		// What the base image's own ENV sets (GOPATH=/go in golang), so
		// that a WORKDIR or COPY written with it resolves.
		env[k] = v
	}
	for _, dir := range defaultPathDirs {
		sf.binDirs[dir] = true
	}
	workdir, _, _ := sf.BaseWorkdir()
	user := sf.baseUser()
	lex := lexer(f.file.Escape)
	sf.lex = lex
	steps := 0
	for _, st := range sf.chain {
		steps += len(st.Instructions)
	}
	sf.steps = make([]step, 0, steps)
	for _, st := range sf.chain {
		for _, in := range st.Instructions {
			sf.steps = append(sf.steps, step{in: in, workdir: workdir, user: user, env: env})
			switch c := in.Command.(type) {
			case *instructions.EnvCommand:
				env = cloneEnv(env)
				for _, kv := range c.Env {
					env[kv.Key] = expandStatic(lex, kv.Value, env)
				}
				sf.notePath(env)
			case *instructions.ArgCommand:
				// A default counts as the value: --build-arg may change it,
				// which facts about the default cannot know.
				env = cloneEnv(env)
				for _, kv := range c.Args {
					if _, set := env[kv.Key]; set {
						continue
					}
					if kv.Value != nil {
						env[kv.Key] = expandStatic(lex, *kv.Value, env)
					} else if v, ok := f.metaArg(kv.Key); ok {
						env[kv.Key] = v
					}
				}
			case *instructions.WorkdirCommand:
				dir := expandStatic(lex, c.Path, env)
				workdir = resolveIn(workdir, dir)
				sf.unresolvedDir = nil
				if workdir != "" {
					sf.write(pathEvent{path: workdir, line: in.StartLine, offset: in.Start, kind: "WORKDIR", owner: ownerOf(user), mkdir: true})
				} else {
					// A variable neither the stage nor the base image's
					// known ENV sets, or a relative path in an unknown
					// image's WORKDIR: where the process runs is unknown.
					sf.unresolvedDir = in
				}
			case *instructions.UserCommand:
				user = sf.userFromInstruction(in, expandStatic(lex, c.User, env))
			case *instructions.RunCommand:
				sf.run(in, step{in: in, workdir: workdir, user: user, env: env})
			case *instructions.CopyCommand, *instructions.AddCommand:
				cs, _ := copySpecOf(c)
				sf.copy(in, cs, lex, step{in: in, workdir: workdir, user: user, env: env})
			case *instructions.VolumeCommand:
				for _, v := range c.Volumes {
					if p := resolveIn(workdir, expandStatic(lex, v, env)); p != "" {
						sf.volumes = append(sf.volumes, pathEvent{path: p, line: in.StartLine, offset: in.Start, kind: "VOLUME"})
					}
				}
			}
		}
	}
	sf.endUser, sf.endDir, sf.endEnv = user, workdir, env
	// Queries stop at the first event past the offset they ask about.
	slices.SortStableFunc(sf.tools, func(a, b toolEvent) int { return cmp.Compare(a.offset, b.offset) })
	slices.SortStableFunc(sf.accounts, func(a, b accountEvent) int { return cmp.Compare(a.offset, b.offset) })
	slices.SortStableFunc(sf.writes, func(a, b pathEvent) int { return cmp.Compare(a.offset, b.offset) })
	return sf
}

// stepAt returns the state before the instruction at a file offset, or
// at the end of the stage when none starts there or later.
func (sf *StageFacts) stepAt(offset int) step {
	// The steps are in source order, so their ends rise: a binary search,
	// since rules ask this for every pair of instructions of a stage (a
	// linear scan made a 100 KB file of COPYs and RUNs take minutes).
	i := sort.Search(len(sf.steps), func(i int) bool { return sf.steps[i].in.End >= offset })
	if i < len(sf.steps) {
		return sf.steps[i]
	}
	return step{workdir: sf.endDir, user: sf.endUser, env: sf.endEnv}
}

// offsetOfLine converts a line to the offset facts are kept by: the
// start of the instruction that contains the line, so that a query for
// any line of a RUN sees the state before that RUN. Lines past the
// stage's last instruction, and 0, mean the end of the stage.
func (sf *StageFacts) offsetOfLine(line int) int {
	if line <= 0 {
		return math.MaxInt
	}
	// The first step ending at or after line holds it or comes after it;
	// a binary search, as in stepAt, since rules ask this for every RUN.
	i := sort.Search(len(sf.steps), func(i int) bool { return sf.steps[i].in.EndLine >= line })
	if i < len(sf.steps) {
		return sf.steps[i].in.Start
	}
	return math.MaxInt
}

// EnvAt returns the value of an environment variable before the
// instruction at line (0: at the end of the stage), when it is static.
func (sf *StageFacts) EnvAt(line int, name string) (string, bool) {
	v, ok := sf.stepAt(sf.offsetOfLine(line)).env[name]
	return v, ok && !strings.Contains(v, "$")
}

// ExpandAt substitutes, in word, the variables with static values before
// the instruction at line (an ARG's default, an ENV); ok is false when
// some stay unknown.
func (sf *StageFacts) ExpandAt(line int, word string) (w string, ok bool) {
	w = expandStatic(sf.lex, word, sf.stepAt(sf.offsetOfLine(line)).env)
	return w, !strings.Contains(w, "$")
}

// BaseWorkdir returns the working directory the lineage's base image
// leaves: its own WORKDIR from dockopt's table (golang's /go), / for
// scratch and the images the table knows to set none. known is false,
// and dir "", for an image the table does not know, which may set one.
func (sf *StageFacts) BaseWorkdir() (dir string, known bool, why string) {
	base := sf.chain[0].Base
	switch {
	case base.IsScratch():
		return "/", true, "scratch sets no WORKDIR"
	case sf.imageKnown && sf.image.WorkdirUnknown:
		return "", false, "the base image " + base.Raw + " sets a WORKDIR that changes with its version (dockopt's image table, " + imageTableDate() + ")"
	case sf.imageKnown && sf.image.Workdir != "":
		return sf.image.Workdir, true, "the base image " + base.Raw + " sets WORKDIR " + sf.image.Workdir + " (dockopt's image table, " + imageTableDate() + ")"
	case sf.imageKnown:
		return "/", true, "the base image " + base.Raw + " sets no WORKDIR (dockopt's image table, " + imageTableDate() + ")"
	}
	return "", false, "dockopt does not know whether the base image " + base.Raw + " sets a WORKDIR (it is not in dockopt's image table)"
}

// WorkdirAt returns the working directory before the instruction at line
// (0: at the end of the stage), "" when the base image's is unknown.
func (sf *StageFacts) WorkdirAt(line int) string {
	return sf.stepAt(sf.offsetOfLine(line)).workdir
}

func (sf *StageFacts) notePath(env map[string]string) {
	for _, dir := range strings.Split(env["PATH"], ":") {
		if strings.HasPrefix(dir, "/") && !strings.Contains(dir, "$") {
			sf.binDirs[path.Clean(dir)] = true
		}
	}
}

func cloneEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for k, v := range env {
		out[k] = v
	}
	return out
}

// maxFactValue bounds the values facts expand variables to: paths, users
// and package names are short, and a Dockerfile that doubles a variable
// line after line must not make the model allocate what BuildKit would
// refuse to (see CheckExpansion). A longer value stays unexpanded, that
// is unknown.
const maxFactValue = 64 << 10

// expandStatic substitutes the variables the Dockerfile gives static
// values; anything else is kept as written (and so stays recognisably
// dynamic, with a `$`).
func expandStatic(lex lexer, word string, env map[string]string) string {
	if !strings.ContainsAny(word, "$'\"\\") {
		return word
	}
	known := mapEnv{}
	sizes := map[string]int64{}
	for k, v := range env {
		if !strings.Contains(v, "$") {
			known[k] = v
			sizes[k] = int64(len(v))
		}
	}
	if estimateExpansion(word, sizes, '\\') > maxFactValue {
		return word
	}
	res, err := lex.ProcessWordWithMatches(word, known)
	if err != nil || len(res.Unmatched) > 0 {
		return word
	}
	return res.Result
}

// resolveIn makes p absolute against dir; "" when p is relative and the
// directory is unknown, or p is still dynamic.
func resolveIn(dir, p string) string {
	if p == "" || strings.Contains(p, "$") {
		return ""
	}
	if len(p) >= 2 && p[1] == ':' {
		// A Windows drive path (C:/app, C:\\app) is absolute.
		return path.Clean(strings.ReplaceAll(p, "\\", "/"))
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	if dir == "" {
		return ""
	}
	return path.Join(dir, p)
}

// runCommands returns the commands a RUN executes: its parsed script, or
// the exec form's argument vector (a `sh -c` string in it is parsed).
// opaque is true when what runs cannot be read: a script that does not
// parse, a non-POSIX shell, or a script file run from the image.
func runCommands(d *Dockerfile, in *Instruction) (cmds []Command, script *Script, opaque bool) {
	script = in.Script
	if script == nil && in.JSON && len(in.Args) > 0 {
		args := in.Args
		if len(args) >= 3 && isShellName(path.Base(args[0])) && args[1] == "-c" {
			f, err := parseShellText(args[2], "")
			script = &Script{File: f, Src: args[2], Offset: -1, Err: err}
		} else {
			words := make([]Word, len(args))
			for i, a := range args {
				words[i] = Word{Value: a, Start: -1, End: -1}
			}
			_, words = unwrapCommand(words)
			if len(words) == 0 {
				return nil, nil, false
			}
			return []Command{{Name: path.Base(words[0].Value), Args: words[1:], Start: -1, End: -1}}, nil, false
		}
	}
	if script == nil || script.File == nil || script.Err != nil {
		return nil, script, true
	}
	cmds = script.Commands()
	for _, c := range cmds {
		if runsScriptFile(c) || shellFromStdin(c) {
			opaque = true
		}
	}
	return cmds, script, opaque
}

func isShellName(n string) bool {
	switch n {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
		return true
	}
	return false
}

// runsScriptFile reports a command that runs a script dockopt does not
// read (`./install.sh`, `bash /tmp/setup.sh`): what it installs is unknown.
func runsScriptFile(c Command) bool {
	if strings.HasSuffix(c.Name, ".sh") && c.Name != "docker-entrypoint.sh" {
		return true
	}
	if isShellName(c.Name) {
		for _, a := range c.Args {
			if strings.HasPrefix(a.Value, "-") {
				if a.Value == "-c" || a.Value == "-s" {
					return false
				}
				continue
			}
			return true
		}
	}
	return false
}

// shellFromStdin reports a shell that reads its script from stdin, as
// the installers of `curl -fsSL https://get.example.com | sh` run: what
// they install is unknown.
func shellFromStdin(c Command) bool {
	if !isShellName(c.Name) {
		return false
	}
	for _, a := range c.Args {
		switch {
		case a.Value == "-s":
			return true
		case !strings.HasPrefix(a.Value, "-") || a.Value == "-c":
			// A script file (runsScriptFile) or an inline script.
			return false
		}
	}
	return true
}

// commandEnd is the offset at which a command's effects are visible;
// commands without exact positions take effect at the end of their RUN.
func commandEnd(in *Instruction, c Command) int {
	if c.End >= 0 {
		return c.End
	}
	return in.End
}

// scriptVars collects the static assignments of a script (`deps='a b'`),
// which official-image Dockerfiles use to name packages they later remove.
func scriptVars(s *Script) map[string]string {
	out := map[string]string{}
	if s == nil || s.File == nil {
		return out
	}
	syntax.Walk(s.File, func(n syntax.Node) bool {
		var assigns []*syntax.Assign
		switch n := n.(type) {
		case *syntax.CallExpr:
			if len(n.Args) == 0 {
				assigns = n.Assigns
			}
		case *syntax.DeclClause:
			assigns = append(assigns, n.Args...)
		}
		for _, a := range assigns {
			if a.Name == nil || a.Value == nil {
				continue
			}
			if v, dyn := staticWord(a.Value); !dyn {
				// BuildKit joins continuation lines before the shell
				// sees them, also inside quotes.
				out[a.Name.Value] = strings.ReplaceAll(v, "\\\n", "")
			}
		}
		return true
	})
	return out
}

// expandArgs returns the values of words as the shell would pass them,
// with the variables the script or the Dockerfile give static values
// (a lone unquoted $VAR splits into its fields); dynamic is true when
// some word holds anything else.
func expandArgs(words []Word, vars ...map[string]string) (out []string, dynamic bool) {
	var cfg *expand.Config
	sizes := map[string]int64{}
	for _, w := range words {
		if !w.Dynamic {
			out = append(out, w.Value)
			continue
		}
		if w.Node == nil {
			dynamic = true
			continue
		}
		if cfg == nil {
			cfg = &expand.Config{Env: staticEnviron(vars), NoUnset: true}
			for _, vs := range vars {
				for k, v := range vs {
					if _, seen := sizes[k]; !seen {
						sizes[k] = int64(len(v))
					}
				}
			}
		}
		if estimateExpansion(w.Value, sizes, '\\') > maxFactValue {
			dynamic = true
			continue
		}
		fields, err := expand.Fields(cfg, w.Node)
		if err != nil {
			dynamic = true
			continue
		}
		out = append(out, fields...)
	}
	return out, dynamic
}

// staticEnviron is the environment expandArgs expands with: the first map
// that sets a name wins, and values that still hold expansions are left
// out, so that using them fails.
func staticEnviron(vars []map[string]string) expand.Environ {
	seen := map[string]bool{}
	var pairs []string
	for _, vs := range vars {
		for _, k := range slices.Sorted(maps.Keys(vs)) {
			if seen[k] || strings.ContainsAny(vs[k], "$`") {
				continue
			}
			seen[k] = true
			pairs = append(pairs, k+"="+vs[k])
		}
	}
	return expand.ListEnviron(pairs...)
}

// ImageContents looks an image reference up in the table of what images
// ship (tools, users, entrypoint): the image a fix would move a stage to,
// say, which no stage is built on yet.
func ImageContents(r ImageRef) (contents.Image, bool) { return baseContents(r) }

// knownContents is one answer of baseContents.
type knownContents struct {
	image contents.Image
	known bool
}

// maxCachedImages bounds the base images an analysis keeps the table's
// answer for; past it, an image is looked up again.
const maxCachedImages = 4096

// imageContents is baseContents, answered once per image for all the
// stages of a run (a corpus's 1,700 stages are built on 400 images, and
// each lookup tries several names and tag variants). The table does not
// change while the program runs.
func (r *repoEvidence) imageContents(ref ImageRef) (contents.Image, bool) {
	r.mu.Lock()
	c, ok := r.images[ref]
	r.mu.Unlock()
	if ok {
		return c.image, c.known
	}
	c.image, c.known = baseContents(ref)
	r.mu.Lock()
	if r.images == nil {
		r.images = map[ImageRef]knownContents{}
	}
	if len(r.images) < maxCachedImages {
		r.images[ref] = c
	}
	r.mu.Unlock()
	return c.image, c.known
}

// baseContents looks an image reference up in the contents table.
func baseContents(r ImageRef) (contents.Image, bool) {
	if r.Unresolved || r.Raw == "" {
		return contents.Image{}, false
	}
	if r.IsScratch() {
		return contents.Lookup("", "scratch", "")
	}
	if build := OpenJDKOracleBuild(r); build != "" {
		// openjdk:17 is its oraclelinux8 build.
		return contents.Lookup("docker.io", "openjdk", build)
	}
	if name := r.Official(); name != "" {
		// public.ecr.aws/docker/library/node is node itself.
		return contents.Lookup("docker.io", name, r.Tag)
	}
	return contents.Lookup(r.Registry, r.Repository, r.Tag)
}
