package analyzer

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Generated says whether a Dockerfile is produced by a generator, so that
// no fix edits it: the next run of the generator would undo the edit, and
// maintainers reject such hunks on sight. Findings point at Template when
// it is known, and identical findings across the files generated from one
// template can be reported once.
type Generated struct {
	Generated bool
	Why       string
	// Marker is the header comment that says so, "" when the evidence is
	// elsewhere.
	Marker string
	// Template is the template's path in the repository when one can be
	// told apart; Templates lists every candidate found.
	Template  string
	Templates []string
	// Generator is the script (or Makefile) that writes the file, when found.
	Generator string
}

// Generated returns whether the file is generated, and from what.
func (f *Facts) Generated() Generated {
	f.genOnce.Do(func() { f.gen = f.detectGenerated() })
	return f.gen
}

// Bounds on what generator detection reads, whatever the repository holds.
const (
	maxHeaderLines      = 20
	maxAncestorDirs     = 8
	maxEntriesPerDir    = 2000
	maxGeneratorScripts = 8
)

var (
	generatedMarker = regexp.MustCompile(`(?i)(do not edit|don't edit|generated (by|from|via|with|using)|auto-?generated|automatically generated|` +
		`(file|dockerfile) (is|was) generated|@generated|code generated)`)
	mentionedFile = regexp.MustCompile(`[\w./-]*(\.(sh|py|go|rb|js|ts|pl|template|tmpl|tpl|j2|jinja2?|erb|mustache|gotmpl)\b|Makefile\b)`)
	templateName  = regexp.MustCompile(`(?i)^((dockerfile|containerfile)([.-][\w.-]*)?\.(template|tmpl|tpl|j2|jinja2?|erb|mustache|gotmpl|in)|[\w.-]+\.(dockerfile|containerfile)\.(template|tmpl|tpl|j2|jinja2?))$`)
	generatorName = regexp.MustCompile(`(?i)^(apply-templates\.sh|update(\.[\w-]+)?\.(sh|bash|py|pl)|generate[\w.-]*\.(sh|bash|py|go|rb|js|ts|pl|pm)|gen[-_][\w.-]*\.(sh|py|go|pl)|` +
		`render[\w.-]*\.(sh|py|pl)|templates?\.sh|versions\.sh|makefile|gnumakefile)$`)
	// writesDockerfile finds a write of a Dockerfile: a shell or Perl
	// two-argument redirection (> "$dir/Dockerfile", open FH, ">$dir/Dockerfile"),
	// Perl's three-argument open(my $fh, '>', "$dir/Dockerfile"), an open
	// for writing (Python, Ruby), a write call (os.WriteFile, File.write,
	// Path.write_text) or a make rule for one.
	writesDockerfile = regexp.MustCompile(`>\s*"?[^\s";|&<>]*(Dockerfile|Containerfile)|(Dockerfile|Containerfile)['"]?\s*,\s*['"]w|` +
		`['"]>>?['"]\s*,\s*['"]?[^\s'",)]*(Dockerfile|Containerfile)|` +
		`(WriteFile|File\.write)\([^)]*(Dockerfile|Containerfile)|(Dockerfile|Containerfile)['"]\)*\.write_(text|bytes)\(|` +
		`^[^\s#:=]*(Dockerfile|Containerfile)[^\s:=]*\s*:([^=]|$)`)
)

// versionedFolder matches a folder named for a version and its variants
// (Perl's 5.040.000-slim-bookworm, 8.3-fpm-alpine), the way generators
// name what they write.
var versionedFolder = regexp.MustCompile(`^v?\d+(\.\d+)+(-[a-z][a-z0-9]*)+$`)

// generatedVariant returns the folder of a path that marks a variant of
// a generated tree: a variant folder (3.12/bookworm) or a versioned one.
func generatedVariant(p string) string {
	if v := variantFolder(p); v != "" {
		return v
	}
	for _, d := range strings.Split(path.Dir(p), "/") {
		if versionedFolder.MatchString(strings.ToLower(d)) {
			return d
		}
	}
	return ""
}

// repoEvidence caches what generator detection reads, per folder, for all
// the Dockerfiles of one analysis: a tree of generated variants shares its
// templates and scripts.
type repoEvidence struct {
	mu      sync.Mutex
	dirs    map[string]*dirEvidence
	scripts map[string]scriptEvidence
	// automated lists each automation folder's files (updaters.go).
	automated map[string][]string
	// composes are the compose files read for their services
	// (facts_compose.go).
	composes map[string]*composeEvidence
	// images holds baseContents' answers for the base images looked up
	// so far (imageContents), up to maxCachedImages.
	images map[ImageRef]knownContents
}

// scriptEvidence is what one generator-named script does to Dockerfiles:
// writes them whole, or edits named instructions in place (updated holds
// "ENV NAME" for each one a sed or perl -i program matches).
type scriptEvidence struct {
	writes  bool
	updated map[string]string
}

type dirEvidence struct {
	once      sync.Once
	templates []string // repository paths
	scripts   []string
	// updaters are scripts whose names say they may update Dockerfiles in
	// place (update-version.sh, bump.sh), besides the generators above.
	updaters []string
	// composes are the folder's compose files (facts_compose.go).
	composes []string
}

func newRepoEvidence() *repoEvidence {
	return &repoEvidence{dirs: map[string]*dirEvidence{}, scripts: map[string]scriptEvidence{}}
}

// dir reads what a folder holds of templates and generator scripts, once;
// different folders are read at once.
func (r *repoEvidence) dir(fsys fs.FS, dir string) *dirEvidence {
	r.mu.Lock()
	ev, ok := r.dirs[dir]
	if !ok {
		ev = &dirEvidence{}
		r.dirs[dir] = ev
	}
	r.mu.Unlock()
	ev.once.Do(func() { ev.read(fsys, dir) })
	return ev
}

func (ev *dirEvidence) read(fsys fs.FS, dir string) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return
	}
	if len(entries) > maxEntriesPerDir {
		entries = entries[:maxEntriesPerDir]
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() && (name == "templates" || name == "template"):
			sub, err := fs.ReadDir(fsys, path.Join(dir, name))
			if err != nil {
				continue
			}
			for i, s := range sub {
				if i >= maxEntriesPerDir {
					break
				}
				if !s.IsDir() && templateName.MatchString(s.Name()) {
					ev.templates = append(ev.templates, path.Join(dir, name, s.Name()))
				}
			}
		case e.IsDir():
		case isComposeName(name):
			ev.composes = append(ev.composes, path.Join(dir, name))
		case templateName.MatchString(name):
			ev.templates = append(ev.templates, path.Join(dir, name))
		case generatorName.MatchString(name):
			ev.scripts = append(ev.scripts, path.Join(dir, name))
		case updaterName.MatchString(name):
			ev.updaters = append(ev.updaters, path.Join(dir, name))
		}
	}
}

// writes reports whether a generator script writes Dockerfiles (bounded read).
func (r *repoEvidence) writes(fsys fs.FS, p string) bool {
	return r.script(fsys, p).writes
}

// script reads a generator-named script once (bounded) and says what it
// does to Dockerfiles.
func (r *repoEvidence) script(fsys fs.FS, p string) scriptEvidence {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev, ok := r.scripts[p]; ok {
		return ev
	}
	var ev scriptEvidence
	if b, err := readBounded(fsys, p, maxScriptRead); err == nil {
		ev = scriptEvidence{writes: writesDockerfiles(b), updated: updatedInPlace(b)}
	}
	r.scripts[p] = ev
	return ev
}

// generatorAbove returns the first generator script in dir or a folder
// above it that writes Dockerfiles, "" when there is none.
func generatorAbove(fsys fs.FS, ev *repoEvidence, dir string) string {
	if ev == nil {
		ev = newRepoEvidence()
	}
	for depth := 0; depth < maxAncestorDirs; depth++ {
		for i, s := range ev.dir(fsys, dir).scripts {
			if i < maxGeneratorScripts && ev.writes(fsys, s) {
				return s
			}
		}
		if dir == "." || dir == "/" || dir == "" {
			break
		}
		dir = path.Dir(dir)
	}
	return ""
}

// writesDockerfiles reports whether a script or Makefile writes files named
// Dockerfile: a redirection to one, a write call, or a make rule for one.
// Only the lines that name one are matched, which keeps large scripts cheap.
func writesDockerfiles(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		if (bytes.Contains(line, []byte("Dockerfile")) || bytes.Contains(line, []byte("Containerfile"))) && writesDockerfile.Match(line) {
			return true
		}
	}
	return false
}

func (f *Facts) detectGenerated() Generated {
	var g Generated
	if f.file.Template || isTemplatePath(f.file.Path) {
		// A template is what generates; the evidence around it (itself,
		// the script that renders it) would otherwise say it is generated.
		return g
	}
	marker, named := headerMarker(f.file.Source)
	g.Marker = marker
	ev := f.ctx.repo
	if ev == nil {
		ev = newRepoEvidence()
	}
	fsys := f.ctx.fsys
	fileDir := path.Dir(f.file.Path)
	var templates, writers []string
	besideTemplate := ""
	dir := fileDir
	for depth := 0; fsys != nil && depth < maxAncestorDirs; depth++ {
		d := ev.dir(fsys, dir)
		for _, t := range d.templates {
			templates = append(templates, t)
			if dir == fileDir && besideTemplate == "" && templateFor(path.Base(f.file.Path), path.Base(t)) {
				besideTemplate = t
			}
		}
		for i, s := range d.scripts {
			if i < maxGeneratorScripts && ev.writes(fsys, s) {
				writers = append(writers, s)
			}
		}
		if dir == "." || dir == "/" || dir == "" {
			break
		}
		dir = path.Dir(dir)
	}
	g.Templates = templates
	if len(writers) > 0 {
		g.Generator = writers[0]
	}
	for _, n := range named {
		for _, t := range templates {
			if path.Base(t) == path.Base(n) {
				g.Template = t
			}
		}
		for _, s := range writers {
			if path.Base(s) == path.Base(n) {
				g.Generator = s
			}
		}
	}
	if g.Template == "" {
		g.Template = f.pickTemplate(templates, besideTemplate)
	}
	variant := generatedVariant(f.file.Path)
	switch {
	case marker != "":
		g.Generated, g.Why = true, fmt.Sprintf("its header says so (%q)", marker)
	case besideTemplate != "":
		g.Generated, g.Why = true, "the template "+besideTemplate+" sits beside it"
	case len(templates) > 0 && len(writers) > 0:
		g.Generated, g.Why = true, fmt.Sprintf("%s and the generator %s, which writes Dockerfiles, sit above it", templatesPhrase(g.Template, templates), writers[0])
	case len(templates) > 0 && variant != "":
		g.Generated, g.Why = true, fmt.Sprintf("it sits in a variant folder (%s) below %s", variant, templatesPhrase(g.Template, templates))
	case len(writers) > 0 && variant != "":
		g.Generated, g.Why = true, fmt.Sprintf("it sits in a variant folder (%s) below %s, which writes Dockerfiles", variant, writers[0])
	}
	if !g.Generated {
		g.Template, g.Generator = "", ""
	}
	return g
}

// headerMarker returns the first header comment that marks a generated
// file, and the files the header names (its template or script).
func headerMarker(src []byte) (marker string, named []string) {
	lines := bytes.SplitN(src, []byte("\n"), maxHeaderLines+1)
	if len(lines) > maxHeaderLines {
		lines = lines[:maxHeaderLines]
	}
	var header []string
	for _, l := range lines {
		t := strings.TrimSpace(string(l))
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "#") {
			break
		}
		header = append(header, strings.TrimSpace(strings.TrimLeft(t, "# ")))
	}
	for _, h := range header {
		if marker == "" && generatedMarker.MatchString(h) {
			marker = h
		}
	}
	if marker == "" {
		return "", nil
	}
	for _, h := range header {
		named = append(named, mentionedFile.FindAllString(h, -1)...)
	}
	return marker, named
}

// templatesPhrase names the template a file is generated from: the one
// picked for it, else the only one, else all of them (the first few): a
// variant folder of an official-image layout (1.80/bookworm/slim) is
// generated from one of several, and naming the first found would name
// the wrong one.
func templatesPhrase(picked string, templates []string) string {
	switch {
	case picked != "":
		return "the template " + picked
	case len(templates) == 1:
		return "the template " + templates[0]
	case len(templates) <= 3:
		return fmt.Sprintf("the templates %s and %s", strings.Join(templates[:len(templates)-1], ", "), templates[len(templates)-1])
	}
	return fmt.Sprintf("the templates %s and %d more", strings.Join(templates[:3], ", "), len(templates)-3)
}

// templateFor reports whether a template beside a Dockerfile is its own:
// Dockerfile.template for Dockerfile, Dockerfile.prod.j2 for
// Dockerfile.prod.
func templateFor(file, tmpl string) bool {
	stem := strings.ToLower(tmpl)
	if i := strings.LastIndex(stem, "."); i > 0 {
		stem = stem[:i]
	}
	return stem == strings.ToLower(file)
}

// pickTemplate chooses among candidate templates the one whose name
// shares a word with the file's path or its base image's distribution
// (Dockerfile-alpine.template for 16/alpine3.20/Dockerfile); "" when
// that does not single one out.
func (f *Facts) pickTemplate(candidates []string, beside string) string {
	if beside != "" {
		return beside
	}
	if len(candidates) == 1 {
		return candidates[0]
	}
	// The folders' words first: 1.80/bookworm/slim/Dockerfile is
	// Dockerfile-slim.template's although its distribution, debian, also
	// names Dockerfile-debian.template; the distribution decides only
	// when the folders name none (1.80/bookworm/Dockerfile).
	words := map[string]bool{}
	for _, d := range strings.Split(strings.ToLower(path.Dir(f.file.Path)), "/") {
		for _, w := range strings.FieldsFunc(d, func(r rune) bool { return r == '-' || r == '.' || (r >= '0' && r <= '9') }) {
			words[w] = true
		}
	}
	if best := templatesNaming(candidates, words); len(best) > 0 {
		if len(best) == 1 {
			return best[0]
		}
		return ""
	}
	words = map[string]bool{}
	if final := f.file.FinalStage(); final != nil {
		fam := string(f.Stage(final).Distro().Family)
		words[fam] = true
		if fam == "debian" {
			words["linux"] = true
		}
	}
	if best := templatesNaming(candidates, words); len(best) == 1 {
		return best[0]
	}
	return ""
}

// templatesNaming returns the candidate templates whose names hold one of
// words, sorted.
func templatesNaming(candidates []string, words map[string]bool) []string {
	var best []string
	for _, c := range candidates {
		for _, w := range strings.FieldsFunc(strings.ToLower(path.Base(c)), func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			if words[w] && w != "dockerfile" && w != "template" {
				best = append(best, c)
				break
			}
		}
	}
	sort.Strings(best)
	return best
}
