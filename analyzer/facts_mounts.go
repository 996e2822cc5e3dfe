package analyzer

import (
	"fmt"
	"iter"
	"maps"
	"path"
	"slices"
	"strings"
)

// Mounts returns the --mount flags of a RUN of the stage's lineage, with
// relative targets resolved against the WORKDIR there when it is known.
func (sf *StageFacts) Mounts(in *Instruction) []Mount {
	out := in.Mounts()
	wd := sf.stepAt(in.Start).workdir
	for i, m := range out {
		if m.Relative && wd != "" {
			out[i].Target = resolveIn(wd, strings.TrimPrefix(m.Target, "/"))
		}
	}
	return out
}

// PathWrite is something an instruction put at or under a path.
type PathWrite struct {
	Path string
	// Line is the instruction, 0 for the base image's own files.
	Line int
	How  string
}

// FilledBefore lists what earlier instructions of the lineage (and the
// base image) put in dir or below it, so that a cache or tmpfs mount at
// dir would hide it from the RUN. Copies of a directory into a parent of
// dir count when the build context holds the corresponding entry.
func (sf *StageFacts) FilledBefore(in *Instruction, dir string) []PathWrite {
	return slices.Collect(sf.FillsBefore(in, dir, false))
}

// FillsBefore yields what FilledBefore lists, in the same order, as it is
// found, so that a caller that needs only the first stops there; with
// copiesOnly, only the base image's files and what a COPY or ADD put
// there. Rules ask this for every RUN of a stage, so an event costs a few
// comparisons until it is known to be yielded (a stage of 20,000 RUNs
// took minutes when each was described first).
func (sf *StageFacts) FillsBefore(in *Instruction, dir string, copiesOnly bool) iter.Seq[PathWrite] {
	return func(yield func(PathWrite) bool) {
		dir := path.Clean(dir)
		if systemDir(dir) && !slices.Contains(cacheDirs, dir) {
			// Package caches are the exception: base images ship them empty.
			if !yield(PathWrite{Path: dir, How: "the base image's own files"}) {
				return
			}
		}
		kept := sf.keptOutOfLayers()
		for i, e := range sf.writes {
			if e.offset >= in.Start {
				break
			}
			copied := e.kind == "COPY" || e.kind == "ADD"
			if !e.fill || kept[i] || (copiesOnly && !copied) {
				continue
			}
			var w PathWrite
			switch {
			case e.path == dir || strings.HasPrefix(e.path, dir+"/"):
				w = PathWrite{Path: e.path, Line: e.line, How: describeFill(e)}
			case copied && strings.HasPrefix(dir, e.path+"/"):
				sub := strings.TrimPrefix(dir, e.path+"/")
				if !sf.contextHolds(e, sub) {
					continue
				}
				brings := fmt.Sprintf("which brings %s from the build context", sub)
				if bc := sf.facts.ctx; bc.IgnoreUnread() {
					brings = fmt.Sprintf("which may bring %s from the build context; %s could not be read", sub, bc.UnreadDockerIgnore)
				}
				w = PathWrite{Path: dir, Line: e.line, How: fmt.Sprintf("%s of %s on line %d (%s)", e.kind, e.how, e.line, brings)}
			default:
				continue
			}
			if !yield(w) {
				return
			}
		}
	}
}

// keptOutOfLayers is keptOutOfLayer of each of the stage's writes.
func (sf *StageFacts) keptOutOfLayers() []bool {
	sf.keptOutOnce.Do(func() {
		sf.keptOut = make([]bool, len(sf.writes))
		for i, e := range sf.writes {
			sf.keptOut[i] = e.fill && sf.keptOutOfLayer(e)
		}
	})
	return sf.keptOut
}

// keptOutOfLayer reports a write by a RUN that never reached its layer:
// under one of the RUN's cache, tmpfs or bind mounts, or in a cache the
// same RUN cleans (npm ci && npm cache clean, pip --no-cache-dir).
func (sf *StageFacts) keptOutOfLayer(e pathEvent) bool {
	st := sf.stepAt(e.offset)
	if st.in == nil || st.in.Keyword != "RUN" {
		return false
	}
	for _, m := range sf.Mounts(st.in) {
		if m.Target != "" && m.Type != "secret" && m.Type != "ssh" && (e.path == m.Target || strings.HasPrefix(e.path, m.Target+"/")) {
			return true
		}
	}
	for _, c := range sf.CacheCleaning(st.in) {
		if e.path == c.Dir || strings.HasPrefix(e.path, c.Dir+"/") {
			return true
		}
	}
	return false
}

func describeFill(e pathEvent) string {
	switch e.kind {
	case "COPY", "ADD":
		return fmt.Sprintf("%s of %s on line %d", e.kind, e.how, e.line)
	}
	return fmt.Sprintf("%s on line %d", e.how, e.line)
}

// contextHolds reports whether a COPY of a context directory brings sub.
// Behind a .dockerignore that could not be read it may, and that is the
// answer (worded "may bring"): a mount is withheld over what a COPY may
// have put there.
func (sf *StageFacts) contextHolds(e pathEvent, sub string) bool {
	src := strings.TrimPrefix(path.Clean("/"+e.how), "/")
	rel := path.Join(src, sub)
	bc := sf.facts.ctx
	if bc.DockerIgnore != nil && bc.DockerIgnore.Excludes(rel) {
		return false
	}
	return bc.Has(rel)
}

// systemDir reports directories every base image fills.
func systemDir(d string) bool {
	switch d {
	case "/", "/usr", "/usr/local", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/usr/local/bin", "/usr/local/lib",
		"/etc", "/bin", "/sbin", "/lib", "/lib64", "/var", "/var/lib", "/opt":
		return true
	}
	return strings.HasPrefix(d, "/etc/") || strings.HasPrefix(d, "/usr/lib/") || strings.HasPrefix(d, "/lib/") || strings.HasPrefix(d, "/usr/share/")
}

// CacheClean is a command or flag that keeps a cache out of the layer.
type CacheClean struct {
	// What is as a reader would recognise it: "apk --no-cache",
	// "apt-get clean", "rm -rf /var/lib/apt/lists/*", "pip --no-cache-dir".
	What string
	// Dir is the cache directory it concerns.
	Dir  string
	Line int
}

// CacheCleaning returns the cache cleaning a RUN of the lineage does.
func (sf *StageFacts) CacheCleaning(in *Instruction) []CacheClean {
	var out []CacheClean
	for _, c := range sf.cleaning {
		if c.Line >= in.StartLine && c.Line <= in.EndLine {
			out = append(out, c)
		}
	}
	return out
}

// cacheDirs are the caches package managers and build tools fill: the OS
// package managers', and every folder of the package-manager table.
var cacheDirs = func() []string {
	dirs := []string{"/var/cache/apk", "/etc/apk/cache", "/var/cache/apt", "/var/lib/apt/lists", "/var/cache/dnf", "/var/cache/yum",
		"/var/cache/zypp", "/root/.cache", "/tmp"}
	for _, pm := range PackageManagers {
		for _, c := range pm.Caches {
			dirs = append(dirs, c.Dir)
			for _, d := range slices.Sorted(maps.Keys(c.ImageDirs)) {
				dirs = append(dirs, c.ImageDirs[d])
			}
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}()

// cacheDirOf returns the cache directory a removed path empties: the
// path itself, the most specific cache that holds it, or a cache under it.
func cacheDirOf(p string) string {
	best := ""
	for _, d := range cacheDirs {
		switch {
		case p == d:
			return d
		case strings.HasPrefix(p, d+"/") && len(d) > len(best):
			best = d
		}
	}
	if best != "" {
		return best
	}
	for _, d := range cacheDirs {
		if strings.HasPrefix(d, p+"/") {
			return d
		}
	}
	return ""
}

// runCleaning records the cache cleaning of one RUN.
func (sf *StageFacts) runCleaning(in *Instruction, cmds []Command, st step) {
	add := func(c Command, what, dir string) {
		line := in.StartLine
		if c.Start >= 0 {
			line = sf.facts.file.Line(c.Start)
		}
		sf.cleaning = append(sf.cleaning, CacheClean{What: what, Dir: dir, Line: line})
	}
	for _, c := range cmds {
		sub := c.Subcommand()
		switch c.Name {
		case "apk":
			if c.Has("--no-cache") {
				add(c, "apk --no-cache", "/var/cache/apk")
			}
			if sub == "cache" && c.Has("clean", "purge") {
				add(c, "apk cache clean", "/var/cache/apk")
			}
		case "apt-get", "apt":
			if sub == "clean" || sub == "autoclean" {
				add(c, c.Name+" "+sub, "/var/cache/apt")
			}
		case "dnf", "yum", "microdnf", "tdnf":
			if sub == "clean" {
				add(c, c.Name+" clean", "/var/cache/"+c.Name)
			}
		case "zypper":
			if sub == "clean" || sub == "cc" {
				add(c, "zypper clean", "/var/cache/zypp")
			}
		case "npm":
			if sub == "cache" && c.Has("clean") {
				add(c, "npm cache clean", "/root/.npm")
			}
		case "yarn":
			if sub == "cache" && c.Has("clean") {
				add(c, "yarn cache clean", "/usr/local/share/.cache/yarn")
			}
		case "pnpm":
			if sub == "store" && c.Has("prune") {
				add(c, "pnpm store prune", "/root/.local/share/pnpm/store")
			}
		case "pip", "pip3":
			if c.Has("--no-cache-dir") {
				add(c, "pip --no-cache-dir", "/root/.cache/pip")
			} else if sub == "install" && st.env["PIP_NO_CACHE_DIR"] != "" && st.env["PIP_NO_CACHE_DIR"] != "0" && st.env["PIP_NO_CACHE_DIR"] != "false" {
				add(c, "PIP_NO_CACHE_DIR", "/root/.cache/pip")
			}
			if sub == "cache" && c.Has("purge") {
				add(c, "pip cache purge", "/root/.cache/pip")
			}
		case "go":
			if sub == "clean" && c.Has("-cache") {
				add(c, "go clean -cache", "/root/.cache/go-build")
			}
			if sub == "clean" && c.Has("-modcache") {
				add(c, "go clean -modcache", "/go/pkg/mod")
			}
		case "composer":
			if sub == "clear-cache" || sub == "clearcache" || sub == "cc" {
				// It empties the cache where the install fills it, which
				// COMPOSER_HOME and the composer image move.
				env := func(name string) (string, bool) { v, ok := st.env[name]; return v, ok }
				add(c, "composer clear-cache", Composer.Caches[0].In(sf.chain[0].Base.Name(), env))
			}
		case "rm":
			for _, w := range c.Positional() {
				p := expandHome(w.Value, st.user)
				if w.Dynamic || !strings.HasPrefix(p, "/") {
					continue
				}
				if d := cacheDirOf(path.Clean(strings.TrimSuffix(strings.TrimSuffix(p, "*"), "/"))); d != "" {
					add(c, "rm -rf "+w.Value, d)
				}
			}
		}
	}
}
