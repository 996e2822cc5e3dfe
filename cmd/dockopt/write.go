package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/dockopt/dockopt/analyzer"
)

// Every file `dockopt analyze` writes goes through an os.Root: the
// analyzed folder's for --fix and --mode sibling, the output folder's for
// --out. A write that a path or a symbolic link would take outside is
// refused before anything is written, and each file is written to a
// temporary file beside it and renamed, so that no reader (and no
// interruption) ever sees half of one.

// plannedWrite is one file to write, checked before any is.
type plannedWrite struct {
	root *os.Root
	// name is where the content goes, relative to root, after following
	// the symbolic links that stay inside it.
	name    string
	content []byte
}

// errOutside words a write refused because it would leave its folder.
func errOutside(shown, folder string) error {
	return fmt.Errorf("%s is outside %s (through a symbolic link or ..); nothing was written", shown, folder)
}

// planWrite checks that name, relative to root, can be written without
// leaving it. A symbolic link that stays inside is followed, so the link
// is kept and the file it names is what changes.
func planWrite(root *os.Root, name string, content []byte, shown string) (plannedWrite, error) {
	name = filepath.Clean(filepath.FromSlash(name))
	for hops := 0; ; hops++ {
		if !filepath.IsLocal(name) || hops > 40 {
			return plannedWrite{}, errOutside(shown, root.Name())
		}
		fi, err := root.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return plannedWrite{root: root, name: name, content: content}, nil
		case analyzer.LeavesRoot(err):
			return plannedWrite{}, errOutside(shown, root.Name())
		case err != nil:
			return plannedWrite{}, fmt.Errorf("%s: %v", shown, err)
		case fi.Mode()&fs.ModeSymlink == 0:
			if !fi.Mode().IsRegular() {
				return plannedWrite{}, fmt.Errorf("%s is not a regular file; nothing was written", shown)
			}
			return plannedWrite{root: root, name: name, content: content}, nil
		}
		target, err := root.Readlink(name)
		if err != nil {
			return plannedWrite{}, fmt.Errorf("%s: %v", shown, err)
		}
		if filepath.IsAbs(target) {
			// os.Root does not follow absolute links, even to inside.
			return plannedWrite{}, errOutside(shown, root.Name())
		}
		name = filepath.Join(filepath.Dir(name), target)
	}
}

// writePlanned writes every planned file. The caller holds
// cli.Writing, which keeps a signal from ending the process half way.
func writePlanned(plans []plannedWrite) error {
	for _, p := range plans {
		if err := writeAtomic(p.root, p.name, p.content); err != nil {
			return err
		}
	}
	return nil
}

var tempSeq atomic.Int64

// writeAtomic writes content to a temporary file in name's folder and
// renames it over name, keeping an existing file's permissions.
func writeAtomic(root *os.Root, name string, content []byte) error {
	dir := filepath.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	perm := fs.FileMode(0o644)
	if fi, err := root.Stat(name); err == nil {
		perm = fi.Mode().Perm()
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.dockopt-%d-%d", filepath.Base(name), os.Getpid(), tempSeq.Add(1)))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return fmt.Errorf("writing %s: %v", filepath.Join(root.Name(), name), err)
	}
	return nil
}

// underOut returns a path of the output as it lies under the --out
// folder, or an error when ".." would take it outside: with several
// analyzed paths, each keeps its path under --out.
func underOut(out, p string) (string, error) {
	rel := filepath.FromSlash(p)
	if filepath.IsAbs(rel) {
		rel = strings.TrimLeft(rel, string(filepath.Separator))
	}
	rel = filepath.Clean(rel)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("--out: %s would be written outside %s; analyze paths below the current folder, or one at a time; nothing was written", p, out)
	}
	return rel, nil
}
