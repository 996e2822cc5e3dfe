package analyzer

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/internal/rootfs"
)

// openCounter counts the opens that reach the folder.
type openCounter struct {
	fs.FS
	mu    sync.Mutex
	opens map[string]int
}

func (c *openCounter) Open(name string) (fs.File, error) {
	c.mu.Lock()
	c.opens[name]++
	c.mu.Unlock()
	return c.FS.Open(name)
}

// A context file is read from the folder once per analysis, by the
// original's analysis and every patch candidate's alike, also through the
// overlay of the files a fix generates; a file the listing shows missing
// is not asked for at all. What each reader gets is its own.
func TestContextFilesAreReadOncePerAnalysis(t *testing.T) {
	folder := &openCounter{FS: fstest.MapFS{
		"svc/Dockerfile":   {Data: []byte("FROM alpine:3.20\n")},
		"svc/.gitignore":   {Data: []byte("node_modules\n")},
		"svc/package.json": {Data: []byte(`{"name":"x"}`)},
		"svc/big.txt":      {Data: []byte(strings.Repeat("x", maxCachedFile+1))},
	}, opens: map[string]int{}}
	rec := recording(folder)
	bc := LoadContext(rec, "svc")
	candidate := bc.WithGenerated([]GeneratedFile{{Path: "svc/.dockerignore", Content: ".git\n"}}, "svc/Dockerfile")

	for _, c := range []*BuildContext{bc, candidate, candidate} {
		b, err := c.ReadFile(".gitignore")
		if err != nil || string(b) != "node_modules\n" {
			t.Fatalf("ReadFile(.gitignore) = %q, %v", b, err)
		}
		b[0] = 'X' // a reader's copy is its own
		if _, err := c.ReadFile("setup.py"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadFile(setup.py) = %v, want not exist", err)
		}
		if b, err := c.ReadFile(".dockerignore"); c == candidate && (err != nil || string(b) != ".git\n") {
			t.Fatalf("the candidate's generated .dockerignore reads %q, %v", b, err)
		}
	}
	if got := folder.opens["svc/.gitignore"]; got != 1 {
		t.Errorf(".gitignore opened %d times, want 1", got)
	}
	for _, missing := range []string{"svc/setup.py", "svc/.dockerignore"} {
		if got := folder.opens[missing]; got != 0 {
			t.Errorf("%s, which the listing shows missing, opened %d times", missing, got)
		}
	}

	// The limit of each read holds whatever was read before.
	if _, err := readContextFile(rec, "svc/package.json", 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := readContextFile(rec, "svc/package.json", 4); err == nil || !strings.Contains(err.Error(), "file too large") {
		t.Errorf("a 12-byte file read with a limit of 4 gave %v, want file too large", err)
	}
	// A file larger than what is kept is read again when asked for.
	for range 2 {
		if b, err := readContextFile(rec, "svc/big.txt", 1<<20); err != nil || len(b) != maxCachedFile+1 {
			t.Fatalf("big.txt: %d bytes, %v", len(b), err)
		}
	}
	if got := folder.opens["svc/big.txt"]; got != 2 {
		t.Errorf("a file larger than the cache keeps was opened %d times for two reads, want 2", got)
	}
}

// A file the folder's listing shows is a device, FIFO or socket is never
// opened: opening a device can act (start a watchdog, rewind a tape)
// before a stat could refuse it. It is listed as not read, with the
// reason, and the context reads as if it held no such file's content.
func TestListedDevicesAndFIFOsAreNeverOpened(t *testing.T) {
	folder := &openCounter{FS: fstest.MapFS{
		"svc/Dockerfile":    {Data: []byte("FROM node:22\nCOPY . .\nRUN npm ci\n")},
		"svc/package.json":  {Data: []byte(`{"name":"x"}`), Mode: fs.ModeDevice | fs.ModeCharDevice},
		"svc/.dockerignore": {Data: []byte("node_modules\n"), Mode: fs.ModeNamedPipe},
		"svc/run.sh":        {Data: []byte("#!/bin/sh\n"), Mode: fs.ModeSocket},
		"svc/.gitignore":    {Data: []byte("dist\n")},
	}, opens: map[string]int{}}
	rec := recording(folder)
	bc := LoadContext(rec, "svc")
	bc.loadDockerIgnore("svc/Dockerfile")
	for _, name := range []string{"package.json", ".dockerignore", "run.sh"} {
		if _, err := bc.ReadFile(name); !errors.Is(err, rootfs.ErrNotRegular) {
			t.Errorf("ReadFile(%s) = %v, want it refused as not a regular file", name, err)
		}
		if got := folder.opens["svc/"+name]; got != 0 {
			t.Errorf("svc/%s, listed as not a regular file, was opened %d times", name, got)
		}
	}
	if bc.UnreadDockerIgnore != "svc/.dockerignore" {
		t.Errorf("a FIFO .dockerignore: UnreadDockerIgnore = %q, want it named as there but unread", bc.UnreadDockerIgnore)
	}
	// A name the listing does not hold is asked of the folder, which
	// says it is not there.
	if _, err := bc.ReadHead("setup.py", 512); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadHead(setup.py), not in the folder: %v, want not exist", err)
	}
	if b, err := bc.ReadFile(".gitignore"); err != nil || string(b) != "dist\n" {
		t.Errorf("a regular file beside them reads %q, %v", b, err)
	}
	var skipped []string
	for _, s := range rec.unread() {
		if s.Reason != NotRegularReason {
			t.Errorf("%s skipped for %q, want %q", s.Path, s.Reason, NotRegularReason)
		}
		skipped = append(skipped, s.Path)
	}
	if want := []string{"svc/.dockerignore", "svc/package.json", "svc/run.sh"}; !slices.Equal(skipped, want) {
		t.Errorf("listed as not read: %v, want %v", skipped, want)
	}
}

// unsortedDirFS lists a folder in reverse name order, which fs.ReadDir
// does not correct for a ReadDirFS.
type unsortedDirFS struct{ fstest.MapFS }

func (u unsortedDirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	es, err := u.MapFS.ReadDir(name)
	slices.Reverse(es)
	return es, err
}

// A kept listing answers for every name in it and for none other, in
// whatever order the file system listed the folder.
func TestListedFindsEveryEntry(t *testing.T) {
	files := fstest.MapFS{}
	for _, name := range []string{"a", "b.txt", "B", ".gitignore", "z/y", "m-n", "m.n"} {
		files[name] = &fstest.MapFile{}
	}
	for _, fsys := range []fs.FS{files, unsortedDirFS{files}} {
		r := recording(fsys)
		if _, err := r.ReadDir("."); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a", "b.txt", "B", ".gitignore", "z", "m-n", "m.n"} {
			if e, known := r.listed(name); !known || e == nil || e.Name() != name {
				t.Errorf("%T: listed(%q) = %v, %v; want its entry", fsys, name, e, known)
			}
		}
		for _, name := range []string{"b", "c", ".", "..", "", "zz", "A"} {
			if e, known := r.listed(name); e != nil || known != (name != "." && name != ".." && name != "") {
				t.Errorf("%T: listed(%q) = %v, %v; want no entry", fsys, name, e, known)
			}
		}
		if _, known := r.listed("q/x"); known {
			t.Errorf("%T: listed(q/x) is known in a folder never listed", fsys)
		}
	}
}
