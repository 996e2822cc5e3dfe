//go:build unix

package rootfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dockopt/dockopt/internal/rootfs"
	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestFIFOsAreNotOpened: a FIFO is refused at once, instead of holding up
// the open until a writer comes; so is one behind a link.
func TestFIFOsAreNotOpened(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"Dockerfile": "FROM debian:12\n"})
	if err := syscall.Mkfifo(filepath.Join(dir, "package.json"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	if err := os.Symlink("package.json", filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	fsys := rootfs.New(testfiles.Root(t, dir))
	for _, name := range []string{"package.json", "link.json"} {
		done := make(chan error, 1)
		go func() { _, err := fs.ReadFile(fsys, name); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, rootfs.ErrNotRegular) {
				t.Errorf("%s: got %v, want %v", name, err, rootfs.ErrNotRegular)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the read of a FIFO with no writer is still waiting", name)
		}
	}
	if _, err := fs.ReadFile(fsys, "Dockerfile"); err != nil {
		t.Errorf("Dockerfile: %v", err)
	}
}
