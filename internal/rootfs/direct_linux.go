package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
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
// returned: the direct open only ever succeeds where the root would open
// the same file by the same path, with no link to follow.

// directResolve keeps the open inside dirfd, refuses every link and every
// /proc magic link: only a path the root would walk without following
// anything succeeds.
const directResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// noOpenat2 is set once the kernel (or a seccomp filter) has refused
// openat2 itself; from then on every open goes through the root.
var noOpenat2 atomic.Bool

// dirFD is the analyzed folder's own descriptor, for openat2.
type dirFD struct {
	file *os.File
	fd   int
}

func openDirFD(root *os.Root) *dirFD {
	if noOpenat2.Load() {
		return nil
	}
	file, err := root.Open(".")
	if err != nil {
		return nil
	}
	d := &dirFD{file: file, fd: -1}
	// Control, unlike Fd, leaves the descriptor's mode alone.
	if conn, err := file.SyscallConn(); err == nil {
		conn.Control(func(fd uintptr) { d.fd = int(fd) })
	}
	if d.fd < 0 {
		file.Close()
		return nil
	}
	return d
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
	for {
		fd, err := unix.Openat2(d.fd, name, &how)
		runtime.KeepAlive(d)
		switch {
		case err == syscall.EINTR:
			continue
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
}

func fstat(fd int, st *syscall.Stat_t) error {
	for {
		if err := syscall.Fstat(fd, st); err != syscall.EINTR {
			return err
		}
	}
}

// open is FS.open by the direct path: a regular file or folder opened, one
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
	return &file{root: f.root, fd: fd, name: name, info: info}, nil
}

// readDirDirect is FS.ReadDir by the direct path, or (nil, false) when the
// root must list the folder instead.
func (f FS) readDirDirect(name string) ([]fs.DirEntry, bool, error) {
	fd, st, ok := f.dir.openDirect(name)
	if !ok {
		return nil, false, nil
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		// Whatever it is, the root's error says so in its own words.
		syscall.Close(fd)
		return nil, false, nil
	}
	dir := &file{root: f.root, fd: fd, name: name, info: newFileInfo(path.Base(name), &st)}
	defer dir.Close()
	entries, err := dir.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, true, err
}

// file is a file or folder opened by the direct path. Reads of a regular
// file never wait, so it needs nothing of the poller.
type file struct {
	root   *os.Root
	fd     int
	name   string
	info   fileInfo
	closed bool
	// dirBuf holds what getdents returned that ReadDir has not given out.
	dirBuf       *[dirBufSize]byte
	dirPos, dirN int
	dirEOF       bool
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
		e := dirEntry{root: f.root, dir: f.name, name: name, typ: typ}
		if typ == unknownType {
			// The file system keeps no type in its listing (some do not):
			// ask for the entry itself, without following a link.
			var st syscall.Stat_t
			if err := fstatat(f.fd, name, &st); err != nil {
				if errors.Is(err, syscall.ENOENT) {
					continue // removed since the listing
				}
				return out, &fs.PathError{Op: "lstat", Path: path.Join(f.name, name), Err: err}
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
