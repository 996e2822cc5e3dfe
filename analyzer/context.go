package analyzer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// MaxContextFiles bounds how many files of one build context are listed;
// monorepos can hold millions and the rules only need to know what exists.
const MaxContextFiles = 20000

// BuildContext holds the facts about the folder a Dockerfile is built from.
type BuildContext struct {
	// Dir is the context folder relative to the analyzed root ("." for it).
	Dir string
	// Files are paths relative to Dir, sorted; Truncated is set when the
	// listing stopped at MaxContextFiles.
	Files     []string
	Truncated bool
	// DockerIgnore is nil when the context has no .dockerignore, or has
	// one that could not be read: UnreadDockerIgnore is then its path.
	DockerIgnore       *DockerIgnore
	UnreadDockerIgnore string
	// Ecosystems found from manifests, most specific first: node, python,
	// go, java, ruby, php, rust, dotnet.
	Ecosystems []string
	// Lockfiles present, by file name.
	Lockfiles []string
	Package   *PackageJSON
	// PythonDeps holds the names of Python dependency files present.
	PythonDeps []string

	fsys  fs.FS
	files map[string]bool
	dirs  map[string]bool
	// repo is shared by the contexts of one analysis: generator evidence
	// (templates, scripts) read once per folder.
	repo *repoEvidence
	// ignores is shared the same way: each distinct ignore file compiled
	// once, however many Dockerfiles and patch candidates read it.
	ignores *ignoreCache
	// unlisted answers Has past a truncated listing.
	unlisted *unlistedLookups
	// kestrel holds whether the context's ASP.NET code binds Kestrel
	// itself, scanned once for every Dockerfile built from the context.
	kestrel *kestrelScan
}

// DockerIgnore is a parsed .dockerignore.
type DockerIgnore struct {
	// Path is relative to the analyzed root.
	Path     string
	Patterns []string
	matcher  *sharedMatcher
	// matcherErr is why Patterns do not compile into a matcher.
	matcherErr error
}

// sharedMatcher is a compiled ignore file that the contexts of one
// analysis share. patternmatcher compiles a pattern on its first match,
// writing to it, so every match holds the lock.
type sharedMatcher struct {
	mu sync.Mutex
	pm *patternmatcher.PatternMatcher
}

func (m *sharedMatcher) matchesOrParentMatches(p string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pm.MatchesOrParentMatches(p)
}

// Match asks the file's patterns about a slash path, as given, the way
// BuildKit's matcher does (patternmatcher's MatchesOrParentMatches):
// whether the path or a folder above it is excluded, or the error of a
// pattern that fails when matched. A file whose patterns do not compile
// at all answers that error for every path.
func (d *DockerIgnore) Match(p string) (bool, error) {
	if d == nil {
		return false, nil
	}
	if d.matcher == nil {
		return false, d.matcherErr
	}
	return d.matcher.matchesOrParentMatches(p)
}

// Compiles reports whether the file's patterns compile into a matcher.
func (d *DockerIgnore) Compiles() bool {
	return d == nil || d.matcher != nil
}

// CompileError is why the file's patterns do not compile, nil when they
// do: BuildKit then refuses every build of the context before it starts.
func (d *DockerIgnore) CompileError() error {
	if d == nil || d.matcher != nil {
		return nil
	}
	return d.matcherErr
}

// Excludes reports whether the context path is excluded from the build.
func (d *DockerIgnore) Excludes(p string) bool {
	if d == nil || d.matcher == nil {
		return false
	}
	ok, err := d.matcher.matchesOrParentMatches(path.Clean(strings.TrimPrefix(p, "/")))
	return err == nil && ok
}

// Has reports whether a pattern is literally present (after trimming
// slashes), for checks like "is node_modules excluded".
func (d *DockerIgnore) Has(pattern string) bool {
	if d == nil {
		return false
	}
	want := strings.Trim(pattern, "/")
	for _, p := range d.Patterns {
		if strings.Trim(p, "/") == want || strings.Trim(strings.TrimPrefix(p, "**/"), "/") == want {
			return true
		}
	}
	return false
}

// PackageJSON is the part of a package.json the rules use.
type PackageJSON struct {
	Name                 string            `json:"name"`
	Main                 string            `json:"main"`
	Scripts              map[string]string `json:"scripts"`
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	PackageManager       string            `json:"packageManager"`
}

// ParsePackageJSON decodes a package.json; ok is false for one that is
// not a JSON object of the shape npm reads.
func ParsePackageJSON(b []byte) (pkg *PackageJSON, ok bool) {
	var p PackageJSON
	if json.Unmarshal(b, &p) != nil {
		return nil, false
	}
	return &p, true
}

// HasDependency reports a runtime or dev dependency.
func (p *PackageJSON) HasDependency(name string) bool {
	if p == nil {
		return false
	}
	_, a := p.Dependencies[name]
	_, b := p.DevDependencies[name]
	return a || b
}

// LoadsDotEnv reports a package that loads .env files itself, through
// the dotenv library: its .env is configuration the app reads, which a
// .dockerignore must not take away.
func (p *PackageJSON) LoadsDotEnv() bool {
	return p.HasDependency("dotenv")
}

// LoadsDotEnv reports an app that loads its .env files itself: its
// package.json depends on dotenv, or its composer.json requires
// symfony/dotenv, whose kernel reads the committed .env (and
// .env.<APP_ENV>) at every boot, bin/console cache:clear in a build
// included, and fails without it. Such a .env is configuration; only the
// .local files hold one machine's secrets.
func (c *BuildContext) LoadsDotEnv() bool {
	if c == nil {
		return false
	}
	return c.Package.LoadsDotEnv() || c.composerRequires("symfony/dotenv")
}

// composerRequires reports whether the context's composer.json requires
// the package, for production or development.
func (c *BuildContext) composerRequires(name string) bool {
	if !c.Has("composer.json") {
		return false
	}
	b, err := c.ReadFile("composer.json")
	if err != nil {
		return false
	}
	var manifest struct {
		Require    map[string]json.RawMessage `json:"require"`
		RequireDev map[string]json.RawMessage `json:"require-dev"`
	}
	if json.Unmarshal(b, &manifest) != nil {
		return false
	}
	_, prod := manifest.Require[name]
	_, dev := manifest.RequireDev[name]
	return prod || dev
}

// Has reports whether a file or folder exists in the context. Past a
// truncated listing it asks the folder: in a monorepo the listing stops
// inside a large folder, and package.json or go.mod beside it, which sort
// after it, are not listed, yet are there (and a fix that assumed them
// missing, or a COPY of a "new" file that exists, would be wrong). Paths
// in the folders the listing never enters stay unknown to it either way.
func (c *BuildContext) Has(p string) bool {
	if c == nil {
		return false
	}
	p = cleanRel(strings.TrimPrefix(p, "/"))
	if p == "." {
		return true
	}
	if c.files[p] || c.dirs[p] {
		return true
	}
	return c.Truncated && c.existsUnlisted(p)
}

// cleanRel is path.Clean for a relative name, without its walk over a
// name that is clean already: the names asked of a context (a manifest, a
// probe) nearly always are, and Has is asked some seventy times a context.
func cleanRel(p string) string {
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		// p[start:i] is an element: empty (a leading, doubled or
		// trailing slash), "." and ".." are what Clean rewrites.
		if e := p[start:i]; e == "" || e == "." || e == ".." {
			return path.Clean(p)
		}
		start = i + 1
	}
	return p
}

// existsUnlisted asks the folder whether p, which the truncated listing
// does not hold, is there. A path the walk passed before it stopped is
// known absent; any other is looked up once (answers are kept) and
// quietly: a lookup is not a read, so a name that leads out of the folder
// is not listed as "not read". A lookup that fails for another reason
// than absence (a link out, a permission) counts as there, as the listing
// would have listed the entry. Past maxUnlistedLookups distinct names
// (a hostile Dockerfile can name a million), the answer is "there".
func (c *BuildContext) existsUnlisted(p string) bool {
	if c.fsys == nil || !fs.ValidPath(p) || c.unlisted == nil {
		return false
	}
	parts := strings.Split(p, "/")
	for _, part := range parts[:len(parts)-1] {
		if skipDirs[part] {
			// The walk records these folders but never enters them.
			return false
		}
	}
	if walkOrderBefore(p, c.unlisted.stoppedAt) {
		return false
	}
	return c.unlisted.exists(c.fsys, path.Join(c.Dir, p))
}

// maxUnlistedLookups bounds the names one context looks up past its
// truncated listing.
const maxUnlistedLookups = 10_000

// unlistedLookups are the answers a context with a truncated listing
// gave for names the listing does not hold, shared by its copies.
type unlistedLookups struct {
	// stoppedAt is the first path the walk did not record.
	stoppedAt string
	mu        sync.Mutex
	answers   map[string]bool
}

func (u *unlistedLookups) exists(fsys fs.FS, name string) bool {
	u.mu.Lock()
	there, ok := u.answers[name]
	full := len(u.answers) >= maxUnlistedLookups
	u.mu.Unlock()
	if ok {
		return there
	}
	if full {
		return true
	}
	there = lookUpQuietly(fsys, name)
	u.mu.Lock()
	u.answers[name] = there
	u.mu.Unlock()
	return there
}

// lookUpQuietly reports whether name is in fsys without noting the
// lookup as a read: from the folder's kept listing when there is one,
// else by a stat of the folder beneath the recording.
func lookUpQuietly(fsys fs.FS, name string) bool {
	switch f := fsys.(type) {
	case overlayFS:
		if _, ok := f.files[path.Clean(name)]; ok {
			return true
		}
		return f.base != nil && lookUpQuietly(f.base, name)
	case *recordingFS:
		if e, known := f.listed(name); known {
			return e != nil
		}
		fsys = f.FS
	}
	_, err := fs.Stat(fsys, name)
	switch {
	case err == nil:
		return true
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrInvalid),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
		return false
	}
	return true
}

// walkOrderBefore reports whether fs.WalkDir reaches a before b: folder
// by folder, each listed in name order, a folder before what it holds.
func walkOrderBefore(a, b string) bool {
	if b == "" {
		return false
	}
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

// HasPath is Has of a path relative to the analyzed folder (as generated
// files name theirs): false for one outside the context.
func (c *BuildContext) HasPath(p string) bool {
	rel, ok := c.relative(p)
	return ok && c.Has(rel)
}

// relative returns a path relative to the analyzed folder as a path of
// the context, or false when it lies outside the context.
func (c *BuildContext) relative(p string) (string, bool) {
	if c.Dir == "." {
		return path.Clean(p), true
	}
	return strings.CutPrefix(path.Clean(p), c.Dir+"/")
}

// IgnoreUnread reports whether the context has a .dockerignore dockopt
// could not read (UnreadDockerIgnore): the builder reads it, so which of
// the context's files reach the build is not known, and nothing may be
// claimed about one being sent or left out.
func (c *BuildContext) IgnoreUnread() bool {
	return c != nil && c.UnreadDockerIgnore != ""
}

// HasEcosystem reports whether the context holds manifests of that ecosystem.
func (c *BuildContext) HasEcosystem(eco string) bool {
	if c == nil {
		return false
	}
	for _, e := range c.Ecosystems {
		if e == eco {
			return true
		}
	}
	return false
}

// HasLockfile reports whether any of the named lockfiles exists.
func (c *BuildContext) HasLockfile(names ...string) bool {
	if c == nil {
		return false
	}
	for _, l := range c.Lockfiles {
		for _, n := range names {
			if l == n {
				return true
			}
		}
	}
	return false
}

// ReadFile reads a file of the context, bounded to 1 MiB.
func (c *BuildContext) ReadFile(p string) ([]byte, error) {
	if c == nil || c.fsys == nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrNotExist}
	}
	return readContextFile(c.fsys, path.Join(c.Dir, p), 1<<20)
}

// ReadHead reads at most the first n bytes of a file of the context, for
// checks of a file's kind that must work on files of any size.
func (c *BuildContext) ReadHead(p string, n int) ([]byte, error) {
	if c == nil || c.fsys == nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrNotExist}
	}
	f, err := c.fsys.Open(path.Join(c.Dir, p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(n)))
}

// EmptyContext is the context of a Dockerfile analyzed on its own.
func EmptyContext() *BuildContext {
	return &BuildContext{Dir: ".", files: map[string]bool{}, dirs: map[string]bool{}}
}

// skipDirs are never listed: they are large and say nothing about the build
// except that they exist, which is recorded.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".venv": true, "venv": true, "__pycache__": true, "target": true, ".gradle": true}

// LoadContext gathers the facts of the context folder dir in fsys.
func LoadContext(fsys fs.FS, dir string) *BuildContext {
	dir = path.Clean(dir)
	c := &BuildContext{Dir: dir, fsys: fsys, files: map[string]bool{}, dirs: map[string]bool{}, repo: newRepoEvidence(), ignores: newIgnoreCache(), kestrel: &kestrelScan{}}
	_ = fs.WalkDir(fsys, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if dir == "." {
			rel = p
		}
		if rel == "" || rel == "." {
			return nil
		}
		if len(c.files) >= MaxContextFiles {
			c.Truncated = true
			c.unlisted = &unlistedLookups{stoppedAt: rel, answers: map[string]bool{}}
			return fs.SkipAll
		}
		if e.IsDir() {
			c.dirs[rel] = true
			if skipDirs[e.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		c.files[rel] = true
		c.Files = append(c.Files, rel)
		return nil
	})
	sort.Strings(c.Files)
	for _, pm := range PackageManagers {
		if c.HasEcosystem(pm.Ecosystem) {
			continue
		}
		if slices.ContainsFunc(pm.Manifests, c.Has) || slices.ContainsFunc(pm.Lockfiles, c.Has) {
			c.Ecosystems = append(c.Ecosystems, pm.Ecosystem)
		}
	}
	for _, f := range c.Files {
		if strings.HasSuffix(f, ".csproj") || strings.HasSuffix(f, ".fsproj") || strings.HasSuffix(f, ".sln") {
			if !c.HasEcosystem("dotnet") {
				c.Ecosystems = append(c.Ecosystems, "dotnet")
			}
		}
	}
	for _, l := range lockfileNames() {
		if c.Has(l) {
			c.Lockfiles = append(c.Lockfiles, l)
		}
	}
	for _, f := range []string{"requirements.txt", "pyproject.toml", "Pipfile", "Pipfile.lock", "poetry.lock", "setup.py", "uv.lock"} {
		if c.Has(f) {
			c.PythonDeps = append(c.PythonDeps, f)
		}
	}
	if c.Has("package.json") {
		if b, err := c.ReadFile("package.json"); err == nil {
			if p, ok := ParsePackageJSON(b); ok {
				c.Package = p
			}
		}
	}
	return c
}

// loadDockerIgnore reads the ignore file that applies to a Dockerfile:
// `<Dockerfile>.dockerignore` beside it wins over the context's .dockerignore,
// as in BuildKit.
func (c *BuildContext) loadDockerIgnore(dockerfilePath string) {
	candidates := []string{dockerfilePath + ".dockerignore", path.Join(c.Dir, ".dockerignore")}
	for _, cand := range candidates {
		b, err := readContextFile(c.fsys, cand, 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			// It is there (a link out of the folder, a FIFO, a file too
			// large): what it excludes is unknown, and it is not "no
			// .dockerignore", nor is the context's one used in its place.
			c.UnreadDockerIgnore = cand
			return
		}
		di := c.ignores.compiled(b)
		di.Path = cand
		c.DockerIgnore = di
		return
	}
}

// ignoreCache holds the ignore files one analysis has compiled, by
// content. A patch candidate's context is the original's with generated
// files, so each try used to read and compile the same .dockerignore
// again (its patterns' regular expressions were 7 % of what a patching
// run allocated), and Dockerfiles of one template ship the same one.
type ignoreCache struct {
	mu    sync.Mutex
	m     map[string]DockerIgnore
	bytes int
}

// maxIgnoreCacheBytes bounds the ignore files one analysis keeps
// compiled; past it, each is compiled for its context alone.
const maxIgnoreCacheBytes = 8 << 20

func newIgnoreCache() *ignoreCache {
	return &ignoreCache{m: map[string]DockerIgnore{}}
}

// compiled returns the ignore file with content b, compiled: a copy of
// the cached one, for the caller to set its Path. A nil cache compiles.
func (c *ignoreCache) compiled(b []byte) *DockerIgnore {
	if c == nil {
		di := compileIgnore(b)
		return &di
	}
	c.mu.Lock()
	di, ok := c.m[string(b)]
	c.mu.Unlock()
	if !ok {
		// Two workers may compile the same file at once; either result
		// serves, and the first stored is kept.
		di = compileIgnore(b)
		c.mu.Lock()
		if kept, dup := c.m[string(b)]; dup {
			di = kept
		} else if c.bytes+len(b) <= maxIgnoreCacheBytes {
			c.m[string(b)] = di
			c.bytes += len(b)
		}
		c.mu.Unlock()
	}
	return &di
}

func compileIgnore(b []byte) DockerIgnore {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(b))
	if err != nil {
		patterns = nil
	}
	di := DockerIgnore{Patterns: patterns}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		di.matcherErr = err
		return di
	}
	// A pattern is compiled on its first match, and one that fails then
	// ([z-a]) fails BuildKit's walk of the context as surely as one New
	// refuses: the inclusions are asked once, here. An exclusion (!x) is
	// reached only once an inclusion above it matched, in BuildKit's walk
	// as in this matcher, which compiles it then, under its lock.
	if _, err := pm.MatchesOrParentMatches("."); err != nil {
		di.matcherErr = err
		return di
	}
	di.matcher = &sharedMatcher{pm: pm}
	return di
}

// readContextFile is readBounded for a file of a build context: one that
// the folder's listing shows is not there is not opened, and one read
// before in this analysis is not read again. Its error is fs.ErrNotExist,
// worded as the listing knows it; callers only test it.
func readContextFile(fsys fs.FS, p string, limit int64) ([]byte, error) {
	fsys = beneath(fsys, p)
	if r, ok := fsys.(*recordingFS); ok {
		if r.absent(p) {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		return r.readKept(p, limit)
	}
	return readBounded(fsys, p, limit)
}

func readBounded(fsys fs.FS, p string, limit int64) ([]byte, error) {
	if fsys == nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := readAll(f, limit+1)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("file too large")}
	}
	return b, nil
}

// readAll reads f to its end or to max bytes, as io.ReadAll of a
// LimitReader does, except that a regular file is read as it was when it
// was opened: up to the size its stat gives, into a buffer of that size.
// io.ReadAll starts at 512 bytes and grows, and reads once more to find
// the end; a file is now read in one call and one allocation, which
// halves the reads of a run (a system call costs about 10 µs on the
// machine this was measured on). A size of 0 (as /proc files give) or one
// larger than the file is read to its end. The folder does not change
// while it is analyzed (recordingFS keeps its listings on that ground).
func readAll(f fs.File, max int64) ([]byte, error) {
	size := min(512, max)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		max = min(max, fi.Size())
		size = max
	}
	b := make([]byte, 0, size)
	for int64(len(b)) < max {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):min(int64(cap(b)), max)]
		n, err := f.Read(room)
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// WithGenerated returns the context as it will be once the generated files
// are written: the patcher re-analyzes against it, so that a rule whose fix
// creates a file (a .dockerignore, an extracted config) sees it there and
// does not propose it again.
func (c *BuildContext) WithGenerated(files []GeneratedFile, dockerfilePath string) *BuildContext {
	if c == nil || len(files) == 0 {
		return c
	}
	over := overlayFS{base: c.fsys, files: map[string][]byte{}}
	cp := *c
	cp.files = make(map[string]bool, len(c.files))
	cp.dirs = make(map[string]bool, len(c.dirs))
	for k, v := range c.files {
		cp.files[k] = v
	}
	for k, v := range c.dirs {
		cp.dirs[k] = v
	}
	cp.Files = append([]string(nil), c.Files...)
	for _, g := range files {
		content := []byte(g.Content)
		// Two fixes may add lines to one file (a .dockerignore): the
		// second merges into what the first made, not into the original.
		existing, err := over.files[path.Clean(g.Path)], error(nil)
		if existing == nil {
			existing, err = readContextFile(c.fsys, g.Path, 1<<20)
		}
		if err == nil {
			if g.Merge != "append-lines" {
				continue
			}
			content = []byte(AppendMissingLines(string(existing), g.Content))
		}
		over.files[path.Clean(g.Path)] = content
		rel, ok := c.relative(g.Path)
		if !ok {
			continue
		}
		if !cp.files[rel] {
			cp.files[rel] = true
			cp.Files = append(cp.Files, rel)
		}
		for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
			cp.dirs[d] = true
		}
	}
	sort.Strings(cp.Files)
	cp.fsys = over
	cp.DockerIgnore, cp.UnreadDockerIgnore = nil, ""
	cp.loadDockerIgnore(dockerfilePath)
	return &cp
}

// AppendMissingLines adds the lines of extra that base lacks, in order;
// it is how generated files with Merge "append-lines" are combined.
func AppendMissingLines(base, extra string) string {
	have := map[string]bool{}
	// A re-include (!x) counts only after the last pattern: one above a
	// later pattern may be undone by it, and appending it again at the
	// end is what makes it hold.
	lines := strings.Split(base, "\n")
	patternAfter := false
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			have[t] = true
		case strings.HasPrefix(t, "!"):
			if !patternAfter {
				have[t] = true
			}
			patternAfter = true
		default:
			have[t] = true
			patternAfter = true
		}
	}
	var b strings.Builder
	b.WriteString(base)
	if base != "" && !strings.HasSuffix(base, "\n") {
		b.WriteByte('\n')
	}
	for _, l := range strings.Split(extra, "\n") {
		if t := strings.TrimSpace(l); t != "" && !have[t] {
			have[t] = true
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// beneath returns the file system a read of p goes to: the base of the
// generated files' overlays p is not one of, so that a patch candidate's
// context reads what the analysis has listed and read already (a
// candidate that generates a .dockerignore otherwise opened each of its
// context's files again, and asked the disk for each one missing).
func beneath(fsys fs.FS, p string) fs.FS {
	for {
		o, ok := fsys.(overlayFS)
		if !ok {
			return fsys
		}
		if _, overlaid := o.files[path.Clean(p)]; overlaid || o.base == nil {
			return fsys
		}
		fsys = o.base
	}
}

// overlayFS serves generated files over a base file system.
type overlayFS struct {
	base  fs.FS
	files map[string][]byte
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if b, ok := o.files[path.Clean(name)]; ok {
		return &memFile{name: path.Base(name), r: bytes.NewReader(b), size: int64(len(b))}, nil
	}
	if o.base == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return o.base.Open(name)
}

type memFile struct {
	name string
	r    *bytes.Reader
	size int64
}

func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{f.name, f.size}, nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
