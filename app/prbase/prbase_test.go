package prbase_test

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	gitdiff "github.com/go-git/go-git/v5/utils/diff"

	"github.com/dockopt/dockopt/app/prbase"
)

// patchOf is the "patch" GitHub lists for a change from old to cur: the
// unified diff's hunks without the git header, made the way the GitHub
// double makes them (go-git's encoder).
func patchOf(t testing.TB, old, cur string) string {
	t.Helper()
	var chunks []fdiff.Chunk
	for _, d := range gitdiff.Do(old, cur) {
		op := fdiff.Equal
		switch int(d.Type) {
		case -1:
			op = fdiff.Delete
		case 1:
			op = fdiff.Add
		}
		chunks = append(chunks, chunk{d.Text, op})
	}
	var buf bytes.Buffer
	fp := filePatch{chunks: chunks, from: file{"f"}, to: file{"f"}}
	if err := fdiff.NewUnifiedEncoder(&buf, fdiff.DefaultContextLines).Encode(patch{fp}); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if i := strings.Index(text, "\n@@"); i >= 0 {
		text = text[i+1:]
	} else {
		text = ""
	}
	return strings.TrimSuffix(text, "\n")
}

type chunk struct {
	content string
	op      fdiff.Operation
}

func (c chunk) Content() string                { return c.content }
func (c chunk) Type() fdiff.Operation          { return c.op }
func (f file) Hash() plumbing.Hash             { return plumbing.ComputeHash(plumbing.BlobObject, []byte(f.path)) }
func (f file) Mode() filemode.FileMode         { return filemode.Regular }
func (f file) Path() string                    { return f.path }
func (p filePatch) IsBinary() bool             { return false }
func (p filePatch) Files() (_, _ fdiff.File)   { return p.from, p.to }
func (p filePatch) Chunks() []fdiff.Chunk      { return p.chunks }
func (p patch) FilePatches() []fdiff.FilePatch { return []fdiff.FilePatch{p.fp} }
func (p patch) Message() string                { return "" }

type file struct{ path string }
type filePatch struct {
	chunks   []fdiff.Chunk
	from, to fdiff.File
}
type patch struct{ fp filePatch }

func TestReverseUndoesAPatch(t *testing.T) {
	long := strings.Repeat("line\n", 40)
	for _, tc := range []struct{ name, old, cur string }{
		{"a line added", "FROM a\nCMD x\n", "FROM a\nRUN y\nCMD x\n"},
		{"a line removed", "FROM a\nRUN y\nCMD x\n", "FROM a\nCMD x\n"},
		{"far apart hunks", "top\n" + long + "mid\n" + long + "end\n", "TOP\n" + long + "mid\n" + long + "END\n"},
		{"the last newline removed", "FROM a\nCMD x\n", "FROM a\nCMD x"},
		{"the last newline added", "FROM a\nCMD x", "FROM a\nCMD x\n"},
		{"no newline on either side", "FROM a\nCMD x", "FROM a\nCMD y"},
		{"everything replaced", "a\nb\n", "c\n"},
		{"carriage returns", "FROM a\r\nCMD x\r\n", "FROM a\r\nRUN y\r\nCMD x\r\n"},
		{"empty lines", "a\n\n\nb\n", "a\n\nc\n\nb\n"},
		{"emptied", "a\nb\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := patchOf(t, tc.old, tc.cur)
			got, err := prbase.Reverse([]byte(tc.cur), p)
			if err != nil || string(got) != tc.old {
				t.Errorf("Reverse = %q, %v; want %q\npatch:\n%s", got, err, tc.old, p)
			}
		})
	}
}

func TestReverseRefusesAPatchOfAnotherFile(t *testing.T) {
	p := patchOf(t, "FROM a\nCMD x\n", "FROM a\nRUN y\nCMD x\n")
	for _, cur := range []string{"FROM b\nRUN y\nCMD x\n", "", "FROM a\n"} {
		if got, err := prbase.Reverse([]byte(cur), p); err == nil {
			t.Errorf("Reverse(%q) = %q, want an error", cur, got)
		}
	}
	for _, bad := range []string{"garbage", "@@ -1,2 +1,3 @@\n FROM a\n", "@@ -9 +9 @@\n-x\n+y"} {
		if _, err := prbase.Reverse([]byte("FROM a\nRUN y\nCMD x\n"), bad); err == nil {
			t.Errorf("Reverse with patch %q should fail", bad)
		}
	}
}

func FuzzReverse(f *testing.F) {
	f.Add("FROM a\nCMD x\n", "FROM a\nRUN y\nCMD x\n")
	f.Add("a\nb\nc", "a\nc\n")
	f.Fuzz(func(t *testing.T, old, cur string) {
		if len(old) > 4096 || len(cur) > 4096 {
			return
		}
		p := patchOf(t, old, cur)
		got, err := prbase.Reverse([]byte(cur), p)
		if err != nil || string(got) != old {
			t.Fatalf("Reverse = %q, %v; want %q\npatch:\n%s", got, err, old, p)
		}
		// Hostile patches: never a panic.
		_, _ = prbase.Reverse([]byte(old), cur)
	})
}

// TestRebuildServesTheBaseSide: added files vanish, removed and modified
// ones come back as they were, renamed ones under their old names, and
// a file without a patch is served as it is and named as unknown.
func TestRebuildServesTheBaseSide(t *testing.T) {
	head := fstest.MapFS{
		"svc/Dockerfile":     {Data: []byte("FROM a\nRUN y\nCMD x\n")},
		"svc/new.txt":        {Data: []byte("new\n")},
		"api/Dockerfile":     {Data: []byte("FROM b\n")},
		"logo.png":           {Data: []byte{0, 1, 2}},
		"docs/readme.md":     {Data: []byte("same\n")},
		"web/Dockerfile.dev": {Data: []byte("FROM c\n")},
	}
	b := prbase.Rebuild(head, []prbase.Change{
		{Path: "svc/Dockerfile", Status: "modified", Patch: patchOf(t, "FROM a\nCMD x\n", "FROM a\nRUN y\nCMD x\n")},
		{Path: "svc/new.txt", Status: "added", Patch: patchOf(t, "", "new\n")},
		{Path: "old/Dockerfile", Status: "removed", Patch: patchOf(t, "FROM old\n", "")},
		{Path: "api/Dockerfile", Previous: "legacy/Dockerfile", Status: "renamed"},
		{Path: "logo.png", Status: "modified"},
		{Path: "web/Dockerfile.dev", Status: "modified", Patch: "@@ -1 +1 @@\n-FROM z\n+FROM nope"},
	})
	want := map[string]string{"svc/Dockerfile": "FROM a\nCMD x\n", "old/Dockerfile": "FROM old\n", "legacy/Dockerfile": "FROM b\n",
		"docs/readme.md": "same\n", "logo.png": "\x00\x01\x02", "web/Dockerfile.dev": "FROM c\n"}
	for p, content := range want {
		got, err := fs.ReadFile(b, p)
		if err != nil || string(got) != content {
			t.Errorf("%s = %q, %v; want %q", p, got, err, content)
		}
	}
	for _, gone := range []string{"svc/new.txt", "api/Dockerfile"} {
		if _, err := fs.Stat(b, gone); err == nil {
			t.Errorf("%s is on the base side", gone)
		}
	}
	if strings.Join(b.Unknown, ",") != "logo.png,web/Dockerfile.dev" {
		t.Errorf("Unknown = %v", b.Unknown)
	}
	if b.Renamed["legacy/Dockerfile"] != "api/Dockerfile" {
		t.Errorf("Renamed = %v", b.Renamed)
	}
	var walked []string
	if err := fs.WalkDir(b, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			walked = append(walked, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(walked, ","); got != "docs/readme.md,legacy/Dockerfile,logo.png,old/Dockerfile,svc/Dockerfile,web/Dockerfile.dev" {
		t.Errorf("a walk of the base side finds %s", got)
	}
}
