package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux a file is opened in one openat2 call that the kernel keeps
// inside the folder and that refuses every link, instead of os.Root's walk
// (an openat per folder on the way, and a close), and read through its
// descriptor instead of an os.File, which registers every file it opens
// with the runtime's poller (refused for a disk file) and, in a Root,
// lstats each entry of a folder it lists. A name the direct open refuses
// for any reason (a link on the way, a missing file, an old kernel or a
// seccomp filter) is opened by the os.Root, whose answer is the one
// returned: the direct open succeeds only where the root would open the
// same file by the same path, with no link to follow. Permissions are the
// exception: openat2 needs only search permission on the folders on the
// way, where os.Root opens each for reading, and a folder listed here
// needs no search permission, where a listing in a root stats every entry.
// A git checkout cannot make such folders; a local one can, and then a
// file the root refused is read, never one outside the folder.

// directResolve keeps the open inside dirfd, refuses every link and every
// /proc magic link: only a path the root would walk without following
// anything succeeds.
const directResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// noOpenat2 is set once the kernel (or a seccomp filter) has refused
// openat2 itself; from then on every open goes through the root.
var noOpenat2 atomic.Bool

// dirFD is the analyzed folder's own descriptor, for openat2. It is used
// only inside conn.Control, which holds the descriptor open for the call
// and refuses once it is closed: a closed FS then falls back to the root
// (which says it is closed), where a bare number could name whatever
// folder was opened next.
type dirFD struct {
	file *os.File
	conn syscall.RawConn
}

func openDirFD(root *os.Root) *dirFD {
	if noOpenat2.Load() {
		return nil
	}
	file, err := root.Open(".")
	if err != nil {
		return nil
	}
	conn, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil
	}
	return &dirFD{file: file, conn: conn}
}

func (d *dirFD) close() error {
	if d == nil {
		return nil
	}
	return d.file.Close()
}

// openDirect opens name under d, or returns ok false when the root must
// open it instead.
func (d *dirFD) openDirect(name string) (fd int, st syscall.Stat_t, ok bool) {
	if d == nil || noOpenat2.Load() {
		return -1, st, false
	}
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC, Resolve: directResolve}
	var err error
	if cerr := d.conn.Control(func(dirfd uintptr) {
		for fd, err = unix.Openat2(int(dirfd), name, &how); err == syscall.EINTR; {
			fd, err = unix.Openat2(int(dirfd), name, &how)
		}
	}); cerr != nil {
		return -1, st, false
	}
	switch {
	case err == syscall.ENOSYS || err == syscall.EPERM || err == syscall.E2BIG:
		noOpenat2.Store(true)
		return -1, st, false
	case err != nil:
		return -1, st, false
	}
	if err := fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return -1, st, false
	}
	return fd, st, true
}

func fstat(fd int, st *syscall.Stat_t) error {
	for {
		if err := syscall.Fstat(fd, st); err != syscall.EINTR {
			return err
		}
	}
}

// openDirect is FS.open by the direct path: a regular file or folder opened, one
// of anything else refused, or (nil, nil) when the root must open it.
func (f FS) openDirect(op, name string) (fs.File, error) {
	fd, st, ok := f.dir.openDirect(name)
	if !ok {
		return nil, nil
	}
	info := newFileInfo(path.Base(name), &st)
	if !info.Mode().IsRegular() && !info.IsDir() {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: op, Path: name, Err: ErrNotRegular}
	}
	return newFile(f.root, fd, name, info), nil
}

// readDirDirect lists the folder name by the direct path, in directory
// order, or returns listed false when the root must list it instead.
func (f FS) readDirDirect(name string) (entries []fs.DirEntry, listed bool, err error) {
	fd, st, ok := f.dir.openDirect(name)
	if !ok {
		return nil, false, nil
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		// Whatever it is, the root's error says so in its own words.
		syscall.Close(fd)
		return nil, false, nil
	}
	dir := newFile(f.root, fd, name, newFileInfo(path.Base(name), &st))
	defer dir.Close()
	entries, err = dir.ReadDir(-1)
	return entries, true, err
}

// file is a file or folder opened by the direct path. Reads of a regular
// file never wait, so it needs nothing of the poller.
type file struct {
	root *os.Root
	fd   int
	// rel is the name in the root; name is the one errors give, the
	// root's name joined with it, as os names a file opened in a root.
	rel, name string
	info      fileInfo
	closed    bool
	// cleanup closes a file its user forgets to, as os.File's does.
	cleanup runtime.Cleanup
	// dirBuf holds what getdents returned that ReadDir has not given out.
	dirBuf       *[dirBufSize]byte
	dirPos, dirN int
	dirEOF       bool
}

func newFile(root *os.Root, fd int, rel string, info fileInfo) *file {
	f := &file{root: root, fd: fd, rel: rel, name: joinPath(root.Name(), rel), info: info}
	f.cleanup = runtime.AddCleanup(f, func(fd int) { syscall.Close(fd) }, fd)
	return f
}

// joinPath is os's: the root's name and the name in it.
func joinPath(dir, name string) string {
	if len(dir) > 0 && os.IsPathSeparator(dir[len(dir)-1]) {
		return dir + name
	}
	return dir + string(os.PathSeparator) + name
}

func (f *file) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "stat", Path: f.name, Err: fs.ErrClosed}
	}
	return f.info, nil
}

func (f *file) Read(b []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, b)
		// The cleanup must not close the descriptor during the read.
		runtime.KeepAlive(f)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *file) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	f.cleanup.Stop()
	if f.dirBuf != nil {
		dirBufs.Put(f.dirBuf)
		f.dirBuf = nil
	}
	if err := syscall.Close(f.fd); err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// ReadDir lists the folder in directory order, as os.File.ReadDir does:
// all of it when n <= 0, otherwise at most n entries and io.EOF at the end.
func (f *file) ReadDir(n int) ([]fs.DirEntry, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "readdirent", Path: f.name, Err: fs.ErrClosed}
	}
	if !f.info.IsDir() {
		return nil, &fs.PathError{Op: "readdirent", Path: f.name, Err: syscall.ENOTDIR}
	}
	var out []fs.DirEntry
	for n <= 0 || len(out) < n {
		if f.dirPos >= f.dirN {
			if f.dirEOF {
				break
			}
			if f.dirBuf == nil {
				f.dirBuf = dirBufs.Get().(*[dirBufSize]byte)
			}
			got, err := unix.Getdents(f.fd, f.dirBuf[:])
			runtime.KeepAlive(f)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				return out, &fs.PathError{Op: "readdirent", Path: f.name, Err: err}
			}
			if got <= 0 {
				f.dirEOF = true
				break
			}
			f.dirPos, f.dirN = 0, got
		}
		name, typ, reclen, ok := parseDirent(f.dirBuf[f.dirPos:f.dirN])
		if !ok {
			f.dirPos = f.dirN
			continue
		}
		f.dirPos += reclen
		if name == "." || name == ".." {
			continue
		}
		e := dirEntry{root: f.root, dir: f.rel, name: name, typ: typ}
		if typ == unknownType {
			// The file system keeps no type in its listing (some do not):
			// ask for the entry itself, without following a link.
			var st syscall.Stat_t
			err := fstatat(f.fd, name, &st)
			runtime.KeepAlive(f)
			if err != nil {
				if errors.Is(err, syscall.ENOENT) {
					continue // removed since the listing
				}
				return out, &fs.PathError{Op: "lstat", Path: f.name + "/" + name, Err: err}
			}
			info := newFileInfo(name, &st)
			e.typ, e.info = info.Mode().Type(), &info
		}
		out = append(out, e)
	}
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// dirBufs lends the buffers getdents fills: a run lists hundreds of
// folders, and a buffer each was megabytes of garbage.
var dirBufs = sync.Pool{New: func() any { return new([dirBufSize]byte) }}

const dirBufSize = 8192

func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	for {
		if err := unix.Fstatat(dirfd, name, (*unix.Stat_t)(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW); err != unix.EINTR {
			return err
		}
	}
}

// unknownType marks an entry whose listing gave no type.
const unknownType = fs.FileMode(^uint32(0))

// parseDirent reads one linux_dirent64 record from the front of buf.
func parseDirent(buf []byte) (name string, typ fs.FileMode, reclen int, ok bool) {
	const (
		reclenOff = 16 // after d_ino and d_off
		typeOff   = 18
		nameOff   = 19
	)
	if len(buf) < nameOff {
		return "", 0, 0, false
	}
	reclen = int(*(*uint16)(unsafe.Pointer(&buf[reclenOff])))
	if reclen < nameOff || reclen > len(buf) {
		return "", 0, 0, false
	}
	raw := buf[nameOff:reclen]
	if i := slices.Index(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	switch buf[typeOff] {
	case syscall.DT_REG:
		typ = 0
	case syscall.DT_DIR:
		typ = fs.ModeDir
	case syscall.DT_LNK:
		typ = fs.ModeSymlink
	case syscall.DT_FIFO:
		typ = fs.ModeNamedPipe
	case syscall.DT_SOCK:
		typ = fs.ModeSocket
	case syscall.DT_CHR:
		typ = fs.ModeDevice | fs.ModeCharDevice
	case syscall.DT_BLK:
		typ = fs.ModeDevice
	default:
		typ = unknownType
	}
	return string(raw), typ, reclen, true
}

// dirEntry is one entry of a folder listed by the direct path.
type dirEntry struct {
	root *os.Root
	dir  string
	name string
	typ  fs.FileMode
	info *fileInfo
}

func (e dirEntry) Name() string      { return e.name }
func (e dirEntry) IsDir() bool       { return e.typ.IsDir() }
func (e dirEntry) Type() fs.FileMode { return e.typ }
func (e dirEntry) String() string    { return fs.FormatDirEntry(e) }

// Info describes the entry itself (a link as a link), as os.DirEntry's
// does. The listing's folder may be closed by now, so the entry is looked
// up again from the analyzed folder, by the root; few callers ask.
func (e dirEntry) Info() (fs.FileInfo, error) {
	if e.info != nil {
		return *e.info, nil
	}
	return e.root.Lstat(path.Join(e.dir, e.name))
}

// fileInfo is a file's fstat, as os.FileInfo reports it.
type fileInfo struct {
	name string
	st   syscall.Stat_t
}

func newFileInfo(name string, st *syscall.Stat_t) fileInfo { return fileInfo{name: name, st: *st} }

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.st.Size }
func (fi fileInfo) IsDir() bool        { return fi.Mode().IsDir() }
func (fi fileInfo) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }
func (fi fileInfo) Sys() any           { return &fi.st }

// Mode converts st_mode as os does.
func (fi fileInfo) Mode() fs.FileMode {
	m := fs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if fi.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if fi.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if fi.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
