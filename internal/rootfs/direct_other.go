//go:build !linux

package rootfs

import (
	"io/fs"
	"os"
)

// dirFD is unused where there is no openat2: every open goes through the
// root.
type dirFD struct{}

func openDirFD(*os.Root) *dirFD { return nil }

func (*dirFD) close() error { return nil }

func (FS) openDirect(op, name string) (fs.File, error) { return nil, nil }

func (FS) readDirDirect(name string) (entries []fs.DirEntry, listed bool, err error) {
	return nil, false, nil
}
