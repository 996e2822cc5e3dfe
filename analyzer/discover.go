package analyzer

import (
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/dockopt/dockopt/internal/workers"
	"gopkg.in/yaml.v3"
)

// Target is one Dockerfile to analyze and the context it is built from.
type Target struct {
	// Path of the Dockerfile, relative to the analyzed root.
	Path string
	// Context folder, relative to the root: the one a compose file
	// names, else a folder above the Dockerfile's when its COPY sources
	// resolve only from there (inferContext), else the Dockerfile's.
	Context string
	// Compose names the compose file and service that build it, if any.
	Compose string
	Service string
}

// MaxDockerfiles bounds one analysis; a repository with more is analyzed
// up to the limit and says so.
const MaxDockerfiles = 2000

// IsDockerfileName reports names BuildKit and Podman users give Dockerfiles.
func IsDockerfileName(name string) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".dockerignore"), strings.HasSuffix(lower, ".optimized"),
		strings.HasSuffix(lower, ".orig"), strings.HasSuffix(lower, ".bak"), strings.HasSuffix(lower, ".md"):
		return false
	case lower == "dockerfile", lower == "containerfile":
		return true
	case strings.HasPrefix(lower, "dockerfile."), strings.HasPrefix(lower, "containerfile."):
		return true
	case strings.HasSuffix(lower, ".dockerfile"), strings.HasSuffix(lower, ".containerfile"):
		return true
	}
	return false
}

// IsComposeFile reports the names compose files are given.
func IsComposeFile(name string) bool { return isComposeName(name) }

func isComposeName(name string) bool {
	lower := strings.ToLower(name)
	if !strings.HasSuffix(lower, ".yml") && !strings.HasSuffix(lower, ".yaml") {
		return false
	}
	return strings.HasPrefix(lower, "docker-compose") || strings.HasPrefix(lower, "compose.") || strings.HasPrefix(lower, "compose-")
}

// unprintableName reports a path that holds a control character, and
// records it as not read (UnprintableNameReason).
func unprintableName(fsys fs.FS, p string) bool {
	if strings.IndexFunc(p, unprintable) < 0 {
		return false
	}
	if r, ok := fsys.(*recordingFS); ok {
		r.refuse(p, UnprintableNameReason)
	}
	return true
}

// discoverSkips reports the folders Discover does not enter.
func discoverSkips(name string) bool {
	return skipDirs[name] || name == "vendor" || name == "third_party"
}

// Discover finds Dockerfiles under root in fsys, and the build contexts
// compose files assign them. Folders that hold dependencies or VCS data
// are skipped; so are paths the configuration ignores. A canceled ctx
// stops the walk with its error.
func Discover(ctx context.Context, fsys fs.FS, root string, cfg *Config) ([]Target, error) {
	byPath := map[string]*Target{}
	var composeFiles []string
	if r, ok := fsys.(*recordingFS); ok {
		r.prefetchDirs(ctx, root, discoverSkips)
	}
	err := fs.WalkDir(fsys, root, func(p string, e fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		if e.IsDir() {
			if p != root && discoverSkips(e.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if e.Type()&fs.ModeSymlink != 0 && (IsDockerfileName(e.Name()) || isComposeName(e.Name())) {
			// Links are not followed by the walk; one that leaves the
			// folder is refused here, where the folder's fs notes it.
			fs.Stat(fsys, p)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		if ignoredPath(cfg, p) {
			return nil
		}
		if (IsDockerfileName(e.Name()) || IsTemplateName(e.Name()) || isComposeName(e.Name())) && unprintableName(fsys, p) {
			return nil
		}
		switch {
		case IsDockerfileName(e.Name()) || IsTemplateName(e.Name()):
			if len(byPath) < MaxDockerfiles {
				byPath[p] = &Target{Path: p, Context: path.Dir(p)}
			}
		case isComposeName(e.Name()):
			composeFiles = append(composeFiles, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(composeFiles)
	for _, cf := range composeFiles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, b := range composeBuilds(fsys, cf) {
			if ignoredPath(cfg, b.Path) || unprintableName(fsys, b.Path) {
				continue
			}
			if t, ok := byPath[b.Path]; ok {
				t.Context, t.Compose, t.Service = b.Context, b.Compose, b.Service
			} else if _, err := fs.Stat(fsys, b.Path); err == nil && len(byPath) < MaxDockerfiles {
				bb := b
				byPath[b.Path] = &bb
			}
		}
	}
	out := make([]Target, 0, len(byPath))
	for _, t := range byPath {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	if err := inferContexts(ctx, fsys, out); err != nil {
		return nil, err
	}
	return out, nil
}

// discoverWorkers is how many Dockerfiles inferContexts reads at once.
const discoverWorkers = 4

// inferContexts sets the context of each target no compose file placed.
// Each reads its Dockerfile and looks its COPY sources up, independently
// of the others: done one after another, they were the longest part of
// a run that no other core could help with (a tenth of the CPU time of a
// corpus's discovery and analysis before the first file was analyzed).
func inferContexts(ctx context.Context, fsys fs.FS, targets []Target) error {
	workers.Each(ctx, len(targets), discoverWorkers, func(_, i int) {
		if t := &targets[i]; t.Compose == "" {
			t.Context = inferContext(fsys, t.Path)
		}
	})
	return ctx.Err()
}

func ignoredPath(cfg *Config, p string) bool {
	if cfg == nil {
		return false
	}
	for _, pat := range cfg.IgnorePaths {
		if matchPath(pat, p) {
			return true
		}
	}
	return false
}

type composeFile struct {
	Services map[string]struct {
		Build yaml.Node `yaml:"build"`
	} `yaml:"services"`
}

// composeBuilds lists the Dockerfiles a compose file builds. A compose file
// that does not parse is skipped: it is not what dockopt analyzes.
func composeBuilds(fsys fs.FS, p string) []Target {
	b, err := readBounded(fsys, p, 1<<20)
	if err != nil {
		return nil
	}
	var cf composeFile
	if yaml.Unmarshal(b, &cf) != nil {
		return nil
	}
	dir := path.Dir(p)
	var out []Target
	for _, name := range slices.Sorted(maps.Keys(cf.Services)) {
		build := cf.Services[name].Build
		var ctx, dockerfile string
		switch build.Kind {
		case yaml.ScalarNode:
			ctx = build.Value
		case yaml.MappingNode:
			var m struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			}
			if build.Decode(&m) != nil {
				continue
			}
			ctx, dockerfile = m.Context, m.Dockerfile
		default:
			continue
		}
		if ctx == "" {
			ctx = "."
		}
		if strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") || path.IsAbs(ctx) {
			continue
		}
		ctxPath := path.Clean(path.Join(dir, ctx))
		if strings.HasPrefix(ctxPath, "..") {
			continue
		}
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		if path.IsAbs(dockerfile) {
			continue
		}
		df := path.Clean(path.Join(ctxPath, dockerfile))
		if strings.HasPrefix(df, "..") {
			continue
		}
		out = append(out, Target{Path: df, Context: ctxPath, Compose: p, Service: name})
	}
	return out
}

// Bounds on inferring a build context from a Dockerfile's COPY sources.
const (
	maxContextAncestors = 2
	maxContextSources   = 32
)

// inferContext returns the folder a Dockerfile is built from, when no
// compose file says: its own folder, unless some of its COPY and ADD
// sources are not there and every one of them is in a folder at most
// two levels above. Visual Studio's WebApi/Dockerfile copies
// "WebApi/WebApi.csproj" and is built from the solution folder
// (docker build -f WebApi/Dockerfile .), whose .dockerignore is the one
// BuildKit reads. Sources with variables or wildcards, URLs, heredocs and
// COPY --from are not looked up; a file with none left keeps its folder.
func inferContext(fsys fs.FS, dockerfile string) string {
	dir := path.Dir(dockerfile)
	if dir == "." || IsTemplateName(path.Base(dockerfile)) {
		return dir
	}
	src, err := readBounded(fsys, dockerfile, MaxDockerfileSize)
	if err != nil {
		return dir
	}
	sources := localCopySources(src)
	if r, ok := fsys.(*recordingFS); ok {
		// The analysis reads the same bytes: it takes these instead.
		r.keepDockerfile(dockerfile, src)
	}
	var missing []string
	for _, s := range sources {
		if !lookUpQuietly(fsys, path.Join(dir, s)) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 || gitIgnoresAny(fsys, dir, missing) {
		// A source the repository ignores (web/build, web/dist) is built
		// before the image, in the Dockerfile's folder: that it is not
		// there now says nothing of the context, even when a folder
		// above happens to hold a path of that name.
		return dir
	}
	for a, depth := path.Dir(dir), 0; depth < maxContextAncestors; a, depth = path.Dir(a), depth+1 {
		all := true
		for _, s := range sources {
			if !lookUpQuietly(fsys, path.Join(a, s)) {
				all = false
				break
			}
		}
		if all {
			return a
		}
		if a == "." {
			break
		}
	}
	return dir
}

// maxGitignoreRead bounds the .gitignore files inferContext reads.
const maxGitignoreRead = 64 << 10

// gitIgnoresAny reports whether the .gitignore of dir, or the
// repository's own, ignores one of the sources (paths relative to dir).
// Negations are not read: a source they bring back still counts as
// ignored, which keeps dir, the context dockopt assumed before.
func gitIgnoresAny(fsys fs.FS, dir string, sources []string) bool {
	for _, g := range []string{dir, "."} {
		b, err := readBounded(fsys, path.Join(g, ".gitignore"), maxGitignoreRead)
		if err != nil {
			continue
		}
		rel := dir
		if g == dir {
			rel = "."
		}
		for _, line := range strings.Split(string(b), "\n") {
			pat := strings.TrimSpace(line)
			if pat == "" || strings.HasPrefix(pat, "#") || strings.HasPrefix(pat, "!") {
				continue
			}
			for _, s := range sources {
				if gitignoreMatch(pat, path.Join(rel, s)) {
					return true
				}
			}
		}
	}
	return false
}

// gitignoreMatch reports whether a .gitignore pattern ignores p (relative
// to the .gitignore's folder) or a folder that holds it: a pattern with a
// slash before its end matches from the folder, one without matches a
// name at any depth.
func gitignoreMatch(pat, p string) bool {
	pat = strings.TrimSuffix(pat, "/")
	for strings.HasPrefix(pat, "**/") {
		pat = strings.TrimPrefix(pat, "**/")
	}
	parts := strings.Split(p, "/")
	if strings.Contains(pat, "/") {
		pat = strings.TrimPrefix(pat, "/")
		for i := 1; i <= len(parts); i++ {
			if ok, _ := path.Match(pat, strings.Join(parts[:i], "/")); ok {
				return true
			}
		}
		return false
	}
	for _, part := range parts {
		if ok, _ := path.Match(pat, part); ok {
			return true
		}
	}
	return false
}

// localCopySources lists the literal local sources of a Dockerfile's COPY and
// ADD instructions, read from their text, up to maxContextSources; nil
// when one of them leaves its folder (..).
func localCopySources(src []byte) []string {
	var out []string
	joined := strings.ReplaceAll(strings.ReplaceAll(string(src), "\r\n", "\n"), "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		if kw := strings.ToUpper(fields[0]); kw != "COPY" && kw != "ADD" {
			continue
		}
		args := fields[1:]
		from := false
		for len(args) > 0 && strings.HasPrefix(args[0], "--") {
			from = from || strings.HasPrefix(args[0], "--from")
			args = args[1:]
		}
		rest := strings.Join(args, " ")
		if from || strings.Contains(rest, "<<") {
			continue
		}
		var words []string
		if strings.HasPrefix(rest, "[") {
			if json.Unmarshal([]byte(rest), &words) != nil {
				continue
			}
		} else {
			words = args
		}
		if len(words) < 2 {
			continue
		}
		for _, w := range words[:len(words)-1] {
			if strings.ContainsAny(w, "$*?[\\") || strings.Contains(w, "://") {
				continue
			}
			c := path.Clean(strings.TrimPrefix(w, "/"))
			if c == "." {
				continue
			}
			if c == ".." || strings.HasPrefix(c, "../") {
				return nil
			}
			if len(out) == maxContextSources {
				return out
			}
			out = append(out, c)
		}
	}
	return out
}
