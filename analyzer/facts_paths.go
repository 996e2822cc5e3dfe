package analyzer

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// PlacedFile is a file an instruction puts at a known path of the image.
type PlacedFile struct {
	// Path is absolute in the image.
	Path   string
	Line   int
	Offset int
	// How is COPY, ADD, or the RUN command that wrote it (curl, cp …).
	How string
	// Context is the source's path relative to the build context when it
	// comes from there; From names the stage or image of COPY --from.
	Context string
	From    string
	// Inline is the content of a heredoc source (`COPY <<EOF /x`).
	Inline *string
	// Link is the absolute path a link made by ln points to: the file
	// read through it is the one there.
	Link string
}

// PlacedFiles lists the files the lineage puts at known paths, in order.
func (sf *StageFacts) PlacedFiles() []PlacedFile { return sf.placed }

// pathEvent changes what is known of one path: created, chowned, made
// world-writable, declared a VOLUME.
type pathEvent struct {
	path         string
	line, offset int
	kind         string
	// owner is the account that owns the path afterwards, "" unknown.
	owner     string
	recursive bool
	// mkdir events only decide the owner of a path nothing set before.
	mkdir bool
	// under marks an event that applies only below path: the contents a
	// COPY of a directory puts into it.
	under bool
	// worldWritable is set by chmod 777, a+w, o+w.
	worldWritable bool
	// fill is set when the event puts content under the path.
	fill bool
	how  string
}

func (sf *StageFacts) write(e pathEvent) {
	sf.writes = append(sf.writes, e)
	if e.kind == "WORKDIR" || e.kind == "mkdir" || e.kind == "install -d" || (e.kind == "COPY" || e.kind == "ADD") && e.under {
		// isDirBefore looks these up for every COPY: an index, not a
		// scan of all writes each time.
		if off, ok := sf.madeDirs[e.path]; !ok || e.offset < off {
			if sf.madeDirs == nil {
				sf.madeDirs = map[string]int{}
			}
			sf.madeDirs[e.path] = e.offset
		}
	}
}

// copySpec is what run() and copy() need of a COPY or ADD.
type copySpec struct {
	sources []string
	inline  []instructions.SourceContent
	dest    string
	from    string
	chown   string
	add     bool
}

// copySpecOf reads what a COPY or ADD instruction copies; ok is false for
// any other instruction.
func copySpecOf(cmd instructions.Command) (c copySpec, ok bool) {
	switch cmd := cmd.(type) {
	case *instructions.CopyCommand:
		return copySpec{sources: cmd.SourcePaths, inline: cmd.SourceContents, dest: cmd.DestPath, from: cmd.From, chown: cmd.Chown}, true
	case *instructions.AddCommand:
		return copySpec{sources: cmd.SourcePaths, inline: cmd.SourceContents, dest: cmd.DestPath, chown: cmd.Chown, add: true}, true
	}
	return copySpec{}, false
}

// run dispatches one RUN to the facts it can change.
func (sf *StageFacts) run(in *Instruction, st step) {
	cmds, script, opaque := runCommands(sf.facts.file, in)
	sf.runTools(in, cmds, script, opaque, st)
	sf.runAccounts(in, cmds, script)
	sf.runPaths(in, cmds, script, st)
	sf.runCleaning(in, cmds, st)
}

// copy records what a COPY or ADD puts in the image.
func (sf *StageFacts) copy(in *Instruction, c copySpec, lex lexer, st step) {
	dest := expandStatic(lex, c.dest, st.env)
	destDir := strings.HasSuffix(dest, "/") || len(c.sources)+len(c.inline) > 1
	dest = resolveIn(st.workdir, dest)
	if dest != "" && !destDir {
		// COPY docker-entrypoint.sh /usr/local/bin copies into the
		// directory, as Docker does for any destination that exists.
		destDir = sf.isDirBefore(dest, in.Start+1)
	}
	if dest == "" {
		sf.toolEvent(toolEvent{offset: in.Start + 1, line: in.StartLine, all: true, why: fmt.Sprintf("line %d copies to a path dockopt cannot resolve", in.StartLine)})
		return
	}
	owner := "root"
	if c.chown != "" {
		owner, _, _ = strings.Cut(expandStatic(lex, c.chown, st.env), ":")
		if strings.Contains(owner, "$") {
			owner = ""
		}
	}
	how := in.Keyword
	var placed []PlacedFile
	var dirs []string
	for _, raw := range c.sources {
		src := expandStatic(lex, raw, st.env)
		pf := PlacedFile{Line: in.StartLine, Offset: in.Start + 1, How: how, From: c.from}
		isURL := c.add && (strings.Contains(src, "://") || strings.HasPrefix(src, "git@"))
		rel := strings.TrimPrefix(path.Clean("/"+src), "/")
		switch {
		case isURL:
			pf.Path = dest
			if destDir {
				pf.Path = path.Join(dest, path.Base(strings.TrimRight(src, "/")))
			}
		case strings.ContainsAny(src, "*?[") || rel == "" || strings.HasSuffix(src, "/") || (c.from == "" && sf.facts.ctx.dirs[rel]):
			// A directory's contents or a pattern land in dest. --chown
			// applies to what is copied: BuildKit leaves an existing dest
			// (a WORKDIR) with its owner and creates a missing one with
			// the new owner.
			dirs = append(dirs, dest)
			if c.from == "" && !strings.ContainsAny(src, "*?[") {
				sf.copiedDirs = append(sf.copiedDirs, copiedDir{path: dest, context: rel, offset: in.Start + 1})
			}
			sf.write(pathEvent{path: dest, line: in.StartLine, offset: in.Start + 1, kind: how, owner: owner, mkdir: true, how: src})
			sf.write(pathEvent{path: dest, line: in.StartLine, offset: in.Start + 1, kind: how, owner: owner, recursive: true, under: true, fill: true, how: src})
			continue
		case destDir:
			pf.Path = path.Join(dest, path.Base(src))
		default:
			pf.Path = dest
		}
		if c.from == "" && !isURL {
			pf.Context = rel
		}
		placed = append(placed, pf)
		sf.write(pathEvent{path: pf.Path, line: in.StartLine, offset: in.Start + 1, kind: how, owner: owner, recursive: true, fill: true, how: src})
	}
	for _, sc := range c.inline {
		body := sc.Data
		pf := PlacedFile{Path: dest, Line: in.StartLine, Offset: in.Start + 1, How: how, Inline: &body}
		if destDir {
			pf.Path = path.Join(dest, sc.Path)
		}
		placed = append(placed, pf)
		sf.write(pathEvent{path: pf.Path, line: in.StartLine, offset: in.Start + 1, kind: how, owner: owner, fill: true, how: "heredoc"})
	}
	sf.placed = append(sf.placed, placed...)
	sf.copyTools(in, placed, dirs)
	for _, pf := range placed {
		if pf.Context != "" && (pf.Path == "/etc/ssh/sshd_config" || strings.HasPrefix(pf.Path, "/etc/ssh/sshd_config.d/")) {
			if b, err := sf.facts.ctx.ReadFile(pf.Context); err == nil && len(b) <= maxScriptRead {
				sf.scanSSHConfig(string(b), path.Join(sf.facts.ctx.Dir, pf.Context), 0)
			}
		}
	}
}

// distributionDirs are directories every Debian, Ubuntu, Alpine, RHEL and
// SUSE image has (their base-files, alpine-baselayout and filesystem
// packages create them).
var distributionDirs = map[string]bool{
	"/bin": true, "/sbin": true, "/usr/bin": true, "/usr/sbin": true, "/usr/local/bin": true, "/usr/local/sbin": true,
	"/usr/local": true, "/usr/local/lib": true, "/usr/local/share": true, "/usr/lib": true, "/usr/share": true,
	"/etc": true, "/tmp": true, "/opt": true, "/var": true, "/var/lib": true, "/home": true, "/root": true,
}

// isDirBefore reports whether p is known to be a directory before the
// offset: one every image of the stage's distribution has, or one the
// lineage made (WORKDIR, mkdir, install -d, a COPY of a directory). An
// image whose distribution is not known (scratch, busybox, distroless)
// is not assumed to have any.
func (sf *StageFacts) isDirBefore(p string, offset int) bool {
	switch sf.distro.Family {
	case DistroDebian, DistroAlpine, DistroRHEL, DistroSUSE:
		if distributionDirs[p] {
			return true
		}
	}
	off, ok := sf.madeDirs[p]
	return ok && off < offset
}

// runPaths records directories a RUN creates, chowns or opens to all,
// and content it writes.
func (sf *StageFacts) runPaths(in *Instruction, cmds []Command, script *Script, st step) {
	me := ownerOf(st.user)
	for _, c := range cmds {
		off := commandEnd(in, c)
		line := in.StartLine
		if c.Start >= 0 {
			line = sf.facts.file.Line(c.Start)
		}
		resolve := func(w Word) string {
			v := w.Value
			if w.Dynamic {
				var ok bool
				if v, ok = envWord(w, st.env, script); !ok {
					return ""
				}
			}
			return resolveIn(st.workdir, expandHome(v, st.user))
		}
		switch c.Name {
		case "mkdir":
			for _, w := range c.Positional("-m", "--mode") {
				if p := resolve(w); p != "" {
					sf.write(pathEvent{path: p, line: line, offset: off, kind: "mkdir", owner: me, mkdir: true})
				}
			}
		case "chown":
			pos := c.Positional("--from", "--reference")
			if len(pos) < 2 {
				continue
			}
			owner, _, _ := strings.Cut(pos[0].Value, ":")
			if pos[0].Dynamic {
				owner = ""
			}
			for _, w := range pos[1:] {
				if p := resolve(w); p != "" {
					sf.write(pathEvent{path: p, line: line, offset: off, kind: "chown", owner: owner, recursive: c.Has("-R", "--recursive") || c.HasShortFlag('R')})
				}
			}
		case "chmod":
			pos := c.Positional("--reference")
			if len(pos) < 2 {
				continue
			}
			if worldWritableMode(pos[0].Value) {
				for _, w := range pos[1:] {
					if p := resolve(w); p != "" {
						sf.write(pathEvent{path: p, line: line, offset: off, kind: "chmod", worldWritable: true, recursive: c.Has("-R") || c.HasShortFlag('R')})
					}
				}
			}
		case "install":
			if !c.Has("-d", "--directory") {
				continue
			}
			owner := me
			for i, a := range c.Args {
				if (a.Value == "-o" || a.Value == "--owner") && i+1 < len(c.Args) {
					owner = c.Args[i+1].Value
				}
			}
			for _, w := range c.Positional("-m", "--mode", "-o", "--owner", "-g", "--group") {
				if p := resolve(w); p != "" {
					sf.write(pathEvent{path: p, line: line, offset: off, kind: "install -d", owner: owner})
				}
			}
		case "cp", "mv", "git", "touch", "tar", "unzip", "curl", "wget":
			for _, p := range commandOutputs(c, st.workdir) {
				sf.write(pathEvent{path: p, line: line, offset: off, kind: c.Name, owner: me, fill: true, how: c.Name, mkdir: true})
			}
		}
		for _, fill := range toolFills(c, st, sf.chain[0].Base.Name()) {
			sf.write(pathEvent{path: fill, line: line, offset: off, kind: c.Name, owner: me, fill: true, how: c.String(), mkdir: true})
		}
	}
	for _, p := range redirectTargets(script, st.workdir) {
		sf.write(pathEvent{path: p, line: in.StartLine, offset: in.End, kind: "redirect", owner: me, fill: true, how: "shell redirection", mkdir: true})
	}
}

func worldWritableMode(m string) bool {
	switch {
	case len(m) >= 3 && strings.Trim(m, "01234567") == "":
		last := m[len(m)-1]
		return last == '2' || last == '3' || last == '6' || last == '7'
	case strings.Contains(m, "+"):
		who, perm, _ := strings.Cut(m, "+")
		return strings.Contains(perm, "w") && (who == "" || strings.ContainsAny(who, "ao"))
	}
	return false
}

// expandHome replaces a leading ~ with the running user's home.
func expandHome(p string, u UserFact) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	home := "/root"
	if u.Root() != Present {
		return p // another user's home is not known here
	}
	return home + strings.TrimPrefix(p, "~")
}

// commandOutputs returns the paths cp/mv/git clone/touch/tar/unzip/curl/
// wget write.
func commandOutputs(c Command, workdir string) []string {
	var out []string
	add := func(p string) {
		if r := resolveIn(workdir, p); r != "" {
			out = append(out, r)
		}
	}
	switch c.Name {
	case "cp", "mv":
		pos := c.Positional("-t", "--target-directory", "-S", "--suffix")
		if len(pos) >= 2 && !pos[len(pos)-1].Dynamic {
			add(pos[len(pos)-1].Value)
		}
	case "git":
		pos := c.Positional("-b", "--branch", "--depth", "-c", "--config", "-o", "--origin", "--reference", "-j", "--jobs", "--filter")
		if len(pos) >= 2 && pos[0].Value == "clone" {
			if len(pos) >= 3 && !pos[2].Dynamic {
				add(pos[2].Value)
			} else if !pos[1].Dynamic {
				add(strings.TrimSuffix(path.Base(pos[1].Value), ".git"))
			}
		}
	case "touch":
		for _, w := range c.Positional() {
			if !w.Dynamic {
				add(w.Value)
			}
		}
	case "tar", "unzip":
		if d := extractDir(c); d != "" {
			add(d)
		} else if c.Name == "tar" && (c.HasShortFlag('x') || c.Has("--extract")) {
			add(".")
		}
	case "curl", "wget":
		if t := downloadTarget(c); t != "" {
			add(t)
		}
	}
	return out
}

// toolFills are the directories package and build tools fill: OS package
// caches, and the caches and dependency folders of the language package
// managers in the package-manager table.
func toolFills(c Command, st step, image string) []string {
	wd := st.workdir
	var out []string
	add := func(p string) {
		if strings.HasPrefix(p, "/") {
			out = append(out, path.Clean(p))
		}
	}
	sub := c.Subcommand()
	switch c.Name {
	case "apt-get", "apt":
		switch sub {
		case "update":
			add("/var/lib/apt/lists")
		case "install", "upgrade", "dist-upgrade", "full-upgrade":
			add("/var/cache/apt")
		}
	case "apk":
		if (sub == "add" || sub == "update" || sub == "upgrade") && !c.Has("--no-cache") {
			add("/var/cache/apk")
		}
	case "dnf", "yum", "microdnf":
		if sub == "install" || sub == "update" || sub == "upgrade" || sub == "makecache" {
			add("/var/cache/" + c.Name)
		}
	}
	pm, pc := PackageManagerOf(c)
	if pm == nil {
		return out
	}
	// Build tools download as they build; the others fill their caches
	// when they install dependencies.
	builds := pm == Go || pm == Cargo || pm == Maven || pm == Gradle
	if !builds && !pm.InstallsDependencies(pc) {
		return out
	}
	if st.user.Root() == Present {
		// The table's folders are root's; another user's home is unknown.
		env := func(name string) (string, bool) { v, ok := st.env[name]; return v, ok }
		for _, cache := range pm.Caches {
			if pm == Pip && (pc.Has("--no-cache-dir") || st.env["PIP_NO_CACHE_DIR"] != "") {
				continue
			}
			add(cache.In(image, env))
		}
	}
	if wd != "" {
		switch {
		case pm.Ecosystem == "node" && !pc.Has("-g", "--global"):
			add(path.Join(wd, "node_modules"))
		case pm == Composer:
			add(path.Join(wd, "vendor"))
		case pm == Cargo && pm.Subcommand(pc) == "build":
			add(path.Join(wd, "target"))
		}
	}
	return out
}

// redirectTargets returns files a script writes with > or >>.
func redirectTargets(s *Script, workdir string) []string {
	if s == nil || s.File == nil {
		return nil
	}
	var out []string
	syntax.Walk(s.File, func(n syntax.Node) bool {
		r, ok := n.(*syntax.Redirect)
		if !ok || r.Word == nil || (r.Op != syntax.RdrOut && r.Op != syntax.AppOut) {
			return true
		}
		v, dyn := staticWord(r.Word)
		if dyn || strings.HasPrefix(v, "/dev/") || strings.HasPrefix(v, "/proc/") {
			return true
		}
		if p := resolveIn(workdir, v); p != "" {
			out = append(out, p)
		}
		return true
	})
	return out
}

// WrittenPath is a path the running application writes to, or that is
// set up for it, with its owner at the end of the stage.
type WrittenPath struct {
	Path string
	// Why lists what makes it a written path: VOLUME, WORKDIR, chown,
	// mkdir, a server's data directory.
	Why  []string
	Line int
	// Owner is the owning account at the end of the stage, "" unknown.
	Owner         string
	OwnerWhy      string
	WorldWritable bool
}

// WrittenPaths lists VOLUME targets, the final WORKDIR, chown and mkdir
// targets, and the data directories of the servers the stage runs, with
// who owns each at the end of the stage.
func (sf *StageFacts) WrittenPaths() []WrittenPath {
	var out []WrittenPath
	index := map[string]int{}
	add := func(p, why string, line int) {
		if p == "" || p == "/" {
			return
		}
		if i, ok := index[p]; ok {
			if !contains(out[i].Why, why) {
				out[i].Why = append(out[i].Why, why)
			}
			return
		}
		index[p] = len(out)
		out = append(out, WrittenPath{Path: p, Why: []string{why}, Line: line})
	}
	for _, v := range sf.volumes {
		add(v.path, fmt.Sprintf("VOLUME on line %d", v.line), v.line)
	}
	if sf.endDir != "" && sf.endDir != "/" {
		line := 0
		for _, st := range sf.steps {
			if st.in.Keyword == "WORKDIR" {
				line = st.in.StartLine
			}
		}
		if line > 0 {
			add(sf.endDir, fmt.Sprintf("the final WORKDIR (line %d)", line), line)
		}
	}
	unresolved := -1
	if w := sf.unresolvedDir; w != nil && sf.endDir == "" {
		// A final WORKDIR dockopt cannot resolve is a written path whose
		// owner is unknown: nothing may assume another account can
		// write it.
		if c, ok := w.Command.(*instructions.WorkdirCommand); ok {
			before := len(out)
			add(c.Path, fmt.Sprintf("the final WORKDIR (line %d)", w.StartLine), w.StartLine)
			if len(out) > before {
				unresolved = before
			}
		}
	}
	for _, e := range sf.writes {
		switch e.kind {
		case "chown", "mkdir", "install -d":
			add(e.path, fmt.Sprintf("%s on line %d", e.kind, e.line), e.line)
		}
	}
	for _, s := range sf.Servers() {
		for _, d := range serverNamed(s.Name).dataDirs {
			if p := sf.serverPath(d); p != "" {
				add(p, s.Name+"'s data directory", 0)
			}
		}
	}
	for i := range out {
		if i == unresolved {
			out[i].OwnerWhy = "dockopt cannot resolve the path: a relative WORKDIR in an image whose own WORKDIR it does not know"
			if strings.Contains(out[i].Path, "$") {
				out[i].OwnerWhy = "dockopt cannot resolve the path: a variable in it is set neither by the stage nor by a base image it knows"
			}
			continue
		}
		out[i].Owner, out[i].OwnerWhy, out[i].WorldWritable = sf.ownerAt(0, out[i].Path)
	}
	return out
}

// serverEnvDefaults are the values official server images give the
// variables their data directories are written with.
var serverEnvDefaults = map[string]string{"PGDATA": "/var/lib/postgresql/data", "CATALINA_HOME": "/usr/local/tomcat"}

func (sf *StageFacts) serverPath(d string) string {
	if !strings.HasPrefix(d, "$") {
		return d
	}
	name, rest, _ := strings.Cut(d[1:], "/")
	v, ok := sf.endEnv[name]
	if !ok || strings.Contains(v, "$") {
		v, ok = serverEnvDefaults[name]
	}
	if !ok {
		return ""
	}
	return path.Join(v, rest)
}

// OwnerAt returns the account that owns a path when the instruction at
// line starts (0: at the end of the stage), "" when unknown, and why.
func (sf *StageFacts) OwnerAt(line int, p string) (owner, why string) {
	owner, why, _ = sf.ownerAt(line, path.Clean(p))
	return owner, why
}

func (sf *StageFacts) ownerAt(line int, p string) (owner, why string, worldWritable bool) {
	if sf.distro.Family == DistroWindows {
		return "", "Windows file ownership is not modelled", false
	}
	off := sf.offsetOfLine(line)
	known := false
	why = "nothing in the Dockerfile sets its owner"
	if o, w := sf.baseOwner(p); o != "" {
		owner, why, known = o, w, true
	}
	for _, e := range sf.writes {
		if e.offset >= off {
			break
		}
		applies := (e.path == p && !e.under) || (e.recursive && strings.HasPrefix(p, e.path+"/"))
		if !applies {
			continue
		}
		if e.worldWritable {
			worldWritable = true
			continue
		}
		if e.mkdir && known {
			continue
		}
		if e.kind == "WORKDIR" && e.path != p {
			continue
		}
		owner, known = e.owner, true
		switch {
		case e.owner == "":
			why = fmt.Sprintf("%s on line %d gives it an owner dockopt cannot resolve", e.kind, e.line)
		case e.mkdir:
			why = fmt.Sprintf("%s on line %d creates it as %s (unless the base image already has it)", e.kind, e.line, e.owner)
		default:
			why = fmt.Sprintf("%s on line %d leaves it owned by %s", e.kind, e.line, e.owner)
		}
	}
	return owner, why, worldWritable
}

// baseImageOwners are the owners official server images give their data
// directories.
var baseImageOwners = map[string]map[string]string{
	"postgres": {"/var/lib/postgresql/data": "postgres", "/var/lib/postgresql": "postgres"},
	"redis":    {"/data": "redis"},
	"mongo":    {"/data/db": "mongodb", "/data/configdb": "mongodb"},
	"mysql":    {"/var/lib/mysql": "mysql"},
	"mariadb":  {"/var/lib/mysql": "mysql"},
	"tomcat":   {"/usr/local/tomcat/webapps": "root", "/usr/local/tomcat/logs": "root", "/usr/local/tomcat/work": "root", "/usr/local/tomcat/temp": "root"},
}

// baseOwner is the owner the base image gives a server's data directory.
func (sf *StageFacts) baseOwner(p string) (string, string) {
	base := sf.chain[0].Base
	if o, ok := baseImageOwners[base.Name()][p]; ok && sf.imageKnown {
		return o, fmt.Sprintf("the base image %s creates it owned by %s", base.Raw, o)
	}
	return "", ""
}

// copiedDir is a folder of the build context copied whole to path.
type copiedDir struct {
	path, context string
	offset        int
}

// envWord is the value of a word whose only expansions are variables the
// stage's ENV sets (mkdir -p $APP_HOME), as the shell of the RUN sees
// them; ok is false for any other expansion, or when the script may set
// the variable itself, which would shadow the ENV value.
func envWord(w Word, env map[string]string, script *Script) (string, bool) {
	if w.Node == nil {
		return "", false
	}
	var b strings.Builder
	var parts func([]syntax.WordPart) bool
	parts = func(ps []syntax.WordPart) bool {
		for _, p := range ps {
			switch p := p.(type) {
			case *syntax.Lit:
				b.WriteString(p.Value)
			case *syntax.SglQuoted:
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				if !parts(p.Parts) {
					return false
				}
			case *syntax.ParamExp:
				if p.Param == nil || p.Excl || p.Length || p.Width || p.Index != nil || p.Slice != nil || p.Repl != nil || p.Exp != nil || p.Names != 0 {
					return false
				}
				name := p.Param.Value
				v, set := env[name]
				if !set || strings.Contains(v, "$") || (script != nil && setsVariable(script.Src, name)) {
					return false
				}
				b.WriteString(v)
			default:
				return false
			}
		}
		return true
	}
	if !parts(w.Node.Parts) || b.Len() > maxFactValue {
		return "", false
	}
	return b.String(), true
}

// setsVariable reports whether shell text may assign a variable: NAME=,
// or a builtin that sets it (read, for, export, local, declare).
func setsVariable(src, name string) bool {
	if strings.Contains(src, name+"=") {
		return true
	}
	for _, kw := range []string{"read ", "for ", "export ", "local ", "declare ", "typeset ", "readonly ", "getopts "} {
		if strings.Contains(src, kw) {
			return true
		}
	}
	return false
}
