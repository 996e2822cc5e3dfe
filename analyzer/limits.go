package analyzer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/dockopt/dockopt/internal/rootfs"
	"github.com/dockopt/dockopt/internal/workers"
)

// What an analysis leaves out is said, never silent: files it did not read
// and why, Dockerfiles past MaxDockerfiles, checks it did not run.

// Skipped is a file the analysis did not read or could not analyze.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Limit is a part of the analysis that was left out, and why. Path is the
// file it concerns, "" for the whole analysis.
type Limit struct {
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// OutsideReason is why a file behind a symbolic link that leaves the
// analyzed folder is not read.
const OutsideReason = "a symbolic link that leads outside the analyzed folder"

// NotRegularReason is why a FIFO, device or socket named like a file the
// analysis reads is not read (rootfs refuses to open it).
const NotRegularReason = "not a regular file or folder (a FIFO, device or socket), which dockopt does not open"

// UnprintableNameReason is why a Dockerfile or compose file whose path
// holds a control character is not analyzed: every output names the file
// it reports on (headings, tables, the report's docker build commands),
// and a line break in the name would start a line of its own there.
const UnprintableNameReason = "its name holds a line break or another control character, which would break every output that names it; rename it"

// LeavesRoot reports whether err is an os.Root refusing a path that a
// symbolic link (or "..") takes outside the root. The os package does not
// export that error, so it is recognised by its text.
func LeavesRoot(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// Skipped lists the files the analysis did not read (Unread) and the
// Dockerfiles it could not analyze, by path.
func (r *Result) Skipped() []Skipped {
	var out []Skipped
	analyzed := map[string]bool{}
	for _, f := range r.Files {
		analyzed[f.Path] = true
		if f.Error != "" {
			out = append(out, Skipped{Path: f.Path, Reason: f.Error})
		}
	}
	for _, s := range r.Unread {
		if !analyzed[s.Path] {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b Skipped) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Limits lists what the analysis left out besides skipped files: the
// Dockerfiles past MaxDockerfiles, warnings of the configuration, and each
// file's own limits.
func (r *Result) Limits() []Limit {
	var out []Limit
	if r.Truncated {
		out = append(out, Limit{Message: fmt.Sprintf("only the first %d Dockerfiles (in path order) were analyzed; the repository has more", MaxDockerfiles)})
	}
	for _, w := range r.ConfigWarnings {
		out = append(out, Limit{Message: w})
	}
	for _, f := range r.Files {
		for _, l := range f.Limits {
			out = append(out, Limit{Path: f.Path, Message: l})
		}
	}
	return out
}

// recordingFS is the analyzed folder as the analysis reads it: every read
// a symbolic link takes outside the folder is refused by the folder's
// os.Root (root.FS()), and noted here so that the result can list it.
//
// It also lists each directory once. Discover walks the folder, then each
// build context is walked again (LoadContext) and the Dockerfile's folders
// are listed for generator evidence: three reads of the same directories,
// a tenth of the CPU time of a folder's analysis. The folder does not
// change while it is analyzed, so a listing is kept, up to
// maxCachedDirEntries entries in all.
type recordingFS struct {
	fs.FS
	mu sync.Mutex
	// unreadable maps a file the analysis was refused to why: it leads
	// outside (OutsideReason) or is not a regular file (NotRegularReason).
	unreadable map[string]string
	dirs       map[string]dirListing
	// dirEntries counts the entries dirs holds.
	dirEntries int
	// files holds the contents of the small files read so far, for the
	// next analysis that reads them: the original's and every patch
	// candidate's analysis read the same .gitignore, manifests and
	// scripts of a context, each an open, a stat, reads and a close.
	// fileBytes counts the bytes held, up to maxCachedFileBytes.
	files     map[string][]byte
	fileBytes int
	// dockerfiles holds the Dockerfiles Discover read (inferContext)
	// until their analysis takes them, which then needs no open, stat,
	// read and close of its own; dockerfileBytes counts the bytes held,
	// up to maxKeptDockerfileBytes.
	dockerfiles     map[string][]byte
	dockerfileBytes int
}

type dirListing struct {
	entries []fs.DirEntry
	err     error
	// sorted says the entries are in name order, as fs.ReadDir promises
	// and a ReadDirFS may not keep: listed then finds a name by binary
	// search (a corpus's top folder holds a thousand entries, and every
	// context asks it for the same few files).
	sorted bool
}

func compareEntryName(e fs.DirEntry, name string) int { return strings.Compare(e.Name(), name) }

// maxCachedDirEntries bounds the directory listings an analysis keeps (a
// few MiB); past it, directories are read again when asked for.
const maxCachedDirEntries = 50_000

// maxCachedFile and maxCachedFileBytes bound the file contents an
// analysis keeps: files up to 64 KiB, 4 MiB in all. A larger file is
// read again when asked for.
const (
	maxCachedFile      = 64 << 10
	maxCachedFileBytes = 4 << 20
)

// maxKeptDockerfileBytes bounds the Dockerfiles Discover keeps for their
// analysis; past it, a Dockerfile is read again when analyzed.
const maxKeptDockerfileBytes = 4 << 20

func recording(fsys fs.FS) *recordingFS {
	if r, ok := fsys.(*recordingFS); ok {
		return r
	}
	return &recordingFS{FS: fsys, unreadable: map[string]string{}, dirs: map[string]dirListing{}, files: map[string][]byte{}}
}

func (r *recordingFS) note(name string, err error) {
	reason := ""
	switch {
	case LeavesRoot(err):
		reason = OutsideReason
	case errors.Is(err, rootfs.ErrNotRegular):
		reason = NotRegularReason
	default:
		return
	}
	r.mu.Lock()
	r.unreadable[name] = reason
	r.mu.Unlock()
}

// refuse records that name is not read, and why.
func (r *recordingFS) refuse(name, reason string) {
	r.mu.Lock()
	r.unreadable[name] = reason
	r.mu.Unlock()
}

// Open opens name, unless the folder's listing shows it is a FIFO, device
// or socket: that is refused without opening it, since opening a device
// can do something (start a watchdog, rewind a tape) before any stat
// could refuse it. A name not listed yet, or listed as a link, is opened,
// and the folder refuses what it is not (a link to a device inside the
// folder is still opened before it is refused).
func (r *recordingFS) Open(name string) (fs.File, error) {
	if e, _ := r.listed(name); e != nil && !e.IsDir() && e.Type()&^fs.ModeSymlink != 0 {
		err := &fs.PathError{Op: "open", Path: name, Err: rootfs.ErrNotRegular}
		r.note(name, err)
		return nil, err
	}
	f, err := r.FS.Open(name)
	r.note(name, err)
	return f, err
}

func (r *recordingFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(r.FS, name)
	r.note(name, err)
	return fi, err
}

func (r *recordingFS) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(r.FS, name)
	r.note(name, err)
	return b, err
}

// ReadDir lists a directory, once per analysis. The entries are shared by
// every caller, which must not modify them.
func (r *recordingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	r.mu.Lock()
	l, ok := r.dirs[name]
	r.mu.Unlock()
	if ok {
		return slices.Clip(l.entries), l.err
	}
	es, err := fs.ReadDir(r.FS, name)
	r.note(name, err)
	r.mu.Lock()
	if _, ok := r.dirs[name]; !ok && r.dirEntries+len(es) <= maxCachedDirEntries {
		sorted := slices.IsSortedFunc(es, func(a, b fs.DirEntry) int { return compareEntryName(a, b.Name()) })
		r.dirs[name] = dirListing{entries: es, err: err, sorted: sorted}
		r.dirEntries += len(es)
	}
	r.mu.Unlock()
	return slices.Clip(es), err
}

// readKept is readBounded for a file of a build context, from the
// contents kept when it was read before. Each caller gets its own copy.
// Dockerfiles, read once each, do not come through here.
func (r *recordingFS) readKept(name string, limit int64) ([]byte, error) {
	r.mu.Lock()
	b, ok := r.files[name]
	r.mu.Unlock()
	if !ok {
		var err error
		if b, err = readBounded(r, name, max(limit, maxCachedFile)); err != nil {
			return nil, err
		}
		if len(b) <= maxCachedFile {
			r.mu.Lock()
			if _, ok := r.files[name]; !ok && r.fileBytes+len(b) <= maxCachedFileBytes {
				r.files[name] = b
				r.fileBytes += len(b)
			}
			r.mu.Unlock()
		}
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("file too large")}
	}
	return bytes.Clone(b), nil
}

// keepDockerfile holds src, the Dockerfile name as Discover read it, for
// takeDockerfile; the caller must not use src afterwards.
func (r *recordingFS) keepDockerfile(name string, src []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.dockerfiles[name]; ok || r.dockerfileBytes+len(src) > maxKeptDockerfileBytes {
		return
	}
	if r.dockerfiles == nil {
		r.dockerfiles = map[string][]byte{}
	}
	r.dockerfiles[name] = src
	r.dockerfileBytes += len(src)
}

// takeDockerfile hands over the Dockerfile name kept by keepDockerfile,
// once: the analysis owns it from then on.
func (r *recordingFS) takeDockerfile(name string) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	src, ok := r.dockerfiles[name]
	if ok {
		delete(r.dockerfiles, name)
		r.dockerfileBytes -= len(src)
	}
	return src, ok
}

// absent reports whether name is known not to exist: the listing of its
// folder is held and does not name it. A build context's reads ask for
// many files that are not there (Dockerfile.dockerignore, .gitignore,
// setup.cfg …): each was three system calls under an os.Root.
func (r *recordingFS) absent(name string) bool {
	e, known := r.listed(name)
	return known && e == nil
}

// listed looks name up in its folder's kept listing: its entry, or nil
// when the listing does not hold it; known is false when the folder has
// not been listed (or its listing failed).
func (r *recordingFS) listed(name string) (entry fs.DirEntry, known bool) {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	r.mu.Lock()
	l, ok := r.dirs[dir]
	r.mu.Unlock()
	if !ok || l.err != nil || base == "" || base == "." || base == ".." {
		return nil, false
	}
	if l.sorted {
		if i, found := slices.BinarySearchFunc(l.entries, base, compareEntryName); found {
			return l.entries[i], true
		}
		return nil, true
	}
	for _, e := range l.entries {
		if e.Name() == base {
			return e, true
		}
	}
	return nil, true
}

// prefetchWorkers is how many folders prefetchDirs lists at once.
const prefetchWorkers = 4

// prefetchDirs lists, a few at a time, the folders a walk from root
// enters (every folder but those skip names), so that the walk itself,
// which reads one folder after another, finds them listed: listing the
// folders of a repository is system calls, and done one at a time it
// held up the start of the analysis (18 ms of the benchmark corpus's
// 0.24 s). It makes the same ReadDir calls the walk would make, and
// stops when as many entries as are kept have been read or ctx is
// canceled.
func (r *recordingFS) prefetchDirs(ctx context.Context, root string, skip func(name string) bool) {
	// Level by level: the folders of one depth are listed by the workers
	// together, and their subfolders make the next level.
	listed := 0 // entries read, kept or not: past the bound the walk reads again anyway
	for level := []string{root}; len(level) > 0 && listed < maxCachedDirEntries; {
		subs := make([][]string, len(level))
		counts := make([]int, len(level))
		workers.Each(ctx, len(level), prefetchWorkers, func(_, i int) {
			es, err := r.ReadDir(level[i])
			counts[i] = len(es)
			if err != nil {
				return
			}
			for _, e := range es {
				if e.IsDir() && !skip(e.Name()) {
					subs[i] = append(subs[i], path.Join(level[i], e.Name()))
				}
			}
		})
		if ctx.Err() != nil {
			return
		}
		level = nil
		for i := range subs {
			listed += counts[i]
			level = append(level, subs[i]...)
		}
	}
}

// unread lists the paths refused so far.
func (r *recordingFS) unread() []Skipped {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Skipped
	for _, p := range slices.Sorted(maps.Keys(r.unreadable)) {
		out = append(out, Skipped{Path: p, Reason: r.unreadable[p]})
	}
	return out
}

// readError words why a Dockerfile could not be read.
func readError(err error) string {
	switch {
	case LeavesRoot(err):
		return OutsideReason + "; it was not read"
	case strings.Contains(err.Error(), "too large"):
		return fmt.Sprintf("file is larger than %d KiB; Dockerfiles that large are not analyzed", MaxDockerfileSize>>10)
	}
	return "cannot read file: " + err.Error()
}
