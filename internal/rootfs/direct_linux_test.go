package rootfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/internal/testfiles"
)

// TestFilesAndFoldersOpenDirectly: a file or folder reached without a
// link is opened by the direct path; one behind a link by the root, which
// follows it while it stays inside. Both read the same.
func TestFilesAndFoldersOpenDirectly(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"Dockerfile": "FROM debian:12\n", "app/src/index.js": "console.log(1)\n"})
	if err := os.Symlink("Dockerfile", filepath.Join(dir, "Dockerfile.link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("app", filepath.Join(dir, "app.link")); err != nil {
		t.Fatal(err)
	}
	fsys := New(testfiles.Root(t, dir))
	defer fsys.Close()
	requireOpenat2(t, fsys)
	for name, direct := range map[string]bool{
		"Dockerfile": true, "app": true, "app/src/index.js": true, ".": true,
		"Dockerfile.link": false, "app.link/src/index.js": false,
	} {
		f, err := fsys.Open(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, isDirect := f.(*file); isDirect != direct {
			t.Errorf("%s: opened directly %v, want %v", name, isDirect, direct)
		}
		f.Close()
	}
	a, _ := fs.ReadFile(fsys, "Dockerfile")
	b, _ := fs.ReadFile(fsys, "Dockerfile.link")
	if string(a) != "FROM debian:12\n" || string(b) != string(a) {
		t.Errorf("read %q and, through the link, %q", a, b)
	}
}

// TestListingsMatchTheRoots: a folder listed by getdents gives the names,
// types and file information os.Root's listing gives, over many reads of
// the kernel's listing.
func TestListingsMatchTheRoots(t *testing.T) {
	files := map[string]string{"sub/x": "x"}
	for i := range 400 {
		// 400 long names are more than one 8 KiB read of the listing.
		files[fmt.Sprintf("file-with-a-long-name-to-fill-the-buffer-%03d.txt", i)] = strings.Repeat("a", i)
	}
	dir := testfiles.Dir(t, files)
	if err := os.Symlink("sub", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := testfiles.Root(t, dir)
	fsys := New(root)
	defer fsys.Close()
	requireOpenat2(t, fsys)
	got, err := fsys.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	want, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if _, direct := g.(dirEntry); !direct {
			t.Fatalf("%s was not listed directly", g.Name())
		}
		gi, gerr := g.Info()
		wi, werr := w.Info()
		if gerr != nil || werr != nil {
			t.Fatalf("%s: info %v, want %v", w.Name(), gerr, werr)
		}
		if g.Name() != w.Name() || g.Type() != w.Type() || gi.Mode() != wi.Mode() || gi.Size() != wi.Size() || !gi.ModTime().Equal(wi.ModTime()) {
			t.Errorf("got %v %v %d, want %v %v %d", g, gi.Mode(), gi.Size(), w, wi.Mode(), wi.Size())
		}
	}
}

// TestWithoutOpenat2EverythingGoesThroughTheRoot: where the kernel or a
// seccomp filter refuses openat2, the root opens every name, and the FS
// keeps its contracts.
func TestWithoutOpenat2EverythingGoesThroughTheRoot(t *testing.T) {
	noOpenat2.Store(true)
	defer noOpenat2.Store(false)
	dir := testfiles.Dir(t, map[string]string{"Dockerfile": "FROM debian:12\n", "app/package.json": "{}\n"})
	fsys := New(testfiles.Root(t, dir))
	defer fsys.Close()
	f, err := fsys.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, isOS := f.(*os.File); !isOS {
		t.Errorf("opened as %T, want the root's *os.File", f)
	}
	if err := fstest.TestFS(fsys, "Dockerfile", "app/package.json"); err != nil {
		t.Fatal(err)
	}
}

// TestAnEntryOfUnknownTypeIsLookedUp: a file system that keeps no type in
// its listings (DT_UNKNOWN) is read as such, so that the entry is looked
// up; the other types map as os maps them.
func TestAnEntryOfUnknownTypeIsLookedUp(t *testing.T) {
	for dt, want := range map[uint8]fs.FileMode{
		syscall.DT_UNKNOWN: unknownType, syscall.DT_REG: 0, syscall.DT_DIR: fs.ModeDir,
		syscall.DT_LNK: fs.ModeSymlink, syscall.DT_FIFO: fs.ModeNamedPipe,
	} {
		rec := make([]byte, 24)
		binary.NativeEndian.PutUint16(rec[16:], 24) // d_reclen
		rec[18] = dt
		copy(rec[19:], "name\x00")
		name, typ, reclen, ok := parseDirent(rec)
		if !ok || name != "name" || typ != want || reclen != 24 {
			t.Errorf("d_type %d: got %q %v %d %v, want name %v 24 true", dt, name, typ, reclen, ok, want)
		}
	}
	if _, _, _, ok := parseDirent(make([]byte, 10)); ok {
		t.Error("a record shorter than its header was read")
	}
}

// requireOpenat2 skips a test of the direct path where the kernel or a
// seccomp filter refuses openat2 (the root then opens everything, which
// TestWithoutOpenat2EverythingGoesThroughTheRoot covers).
func requireOpenat2(t *testing.T, fsys FS) {
	t.Helper()
	if f, err := fsys.Open("."); err == nil {
		f.Close()
	}
	if fsys.dir == nil || noOpenat2.Load() {
		t.Skip("openat2 is not available here")
	}
}

// TestAClosedFSNeverReadsAnotherFolder: once closed, the FS's descriptor
// number may name the next folder opened; an open through a copy of the
// FS made before must not read that folder.
func TestAClosedFSNeverReadsAnotherFolder(t *testing.T) {
	a := testfiles.Dir(t, map[string]string{"secret": "A\n"})
	b := testfiles.Dir(t, map[string]string{"secret": "B\n"})
	fsys := New(testfiles.Root(t, a))
	requireOpenat2(t, fsys)
	kept := fsys
	fsys.Close()
	other, err := os.Open(b) // likely the descriptor number fsys had
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	got, err := fs.ReadFile(kept, "secret")
	if err == nil && string(got) != "A\n" {
		t.Fatalf("a closed FS read %q, from another folder", got)
	}
}

// TestErrorsNameFilesAsTheRootDoes: an error reading a file opened
// directly names it as one the root opened is named (the root's name and
// the path), so that what a report says does not depend on the path taken.
func TestErrorsNameFilesAsTheRootDoes(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"sub/Dockerfile": "FROM debian:12\n"})
	root := testfiles.Root(t, dir)
	direct := New(root)
	defer direct.Close()
	requireOpenat2(t, direct)
	_, got := fs.ReadFile(direct, "sub")
	_, want := fs.ReadFile(root.FS(), "sub")
	if got == nil || want == nil || got.Error() != want.Error() {
		t.Errorf("reading a folder: %v, want %v", got, want)
	}
	if !errors.Is(got, syscall.EISDIR) {
		t.Errorf("got %v, want EISDIR", got)
	}
}
