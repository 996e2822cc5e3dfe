// Package rootfs is an os.Root as an fs.FS, like Root.FS, that opens
// files and folders without blocking and opens nothing but them.
//
// Under Root.FS, a FIFO named like a file the analysis reads (package.json)
// held up the open, and `dockopt analyze`, for good. A descriptor opened
// non-blocking does not wait for a writer, and one fstat then keeps FIFOs,
// devices and sockets out. (A device node inside the folder is opened
// before it is refused; links out of the folder, to /dev say, are refused
// by the root first.)
//
// It is also cheaper: os.File makes every file it opens try the runtime's
// poller (set the descriptor non-blocking, ask epoll to watch it, be
// refused, since a disk file cannot be watched, set it blocking again),
// four system calls of the nine a small file's read cost under Root.FS; a
// descriptor opened non-blocking skips both pairs.
package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
)

// ErrNotRegular is why a FIFO, device or socket is not opened.
var ErrNotRegular = errors.New("not a regular file or folder")

// FS is root's files and folders, opened without blocking.
type FS struct{ root *os.Root }

// New returns root as an fs.FS.
func New(root *os.Root) FS { return FS{root: root} }

var (
	_ fs.ReadDirFS = FS{}
	_ fs.StatFS    = FS{}
)

// validPath is the check Root.FS makes: fs.ValidPath, and on Windows no
// backslash (a path separator there).
func validPath(name string) bool {
	return fs.ValidPath(name) && (runtime.GOOS != "windows" || !strings.ContainsRune(name, '\\'))
}

func (f FS) open(op, name string) (*os.File, error) {
	if !validPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	file, err := f.root.OpenFile(name, os.O_RDONLY|nonBlocking, 0)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		err = &fs.PathError{Op: op, Path: name, Err: ErrNotRegular}
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// Open opens name for reading.
func (f FS) Open(name string) (fs.File, error) {
	file, err := f.open("open", name)
	if err != nil {
		return nil, err
	}
	return file, nil
}

// ReadDir lists the folder name, sorted by file name as fs.ReadDir does.
func (f FS) ReadDir(name string) ([]fs.DirEntry, error) {
	dir, err := f.open("readdir", name)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	entries, err := dir.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// Stat describes name, following a final link that stays inside root.
func (f FS) Stat(name string) (fs.FileInfo, error) {
	if !validPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	return f.root.Stat(name)
}
