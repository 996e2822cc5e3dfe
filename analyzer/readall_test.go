package analyzer

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"
)

// sizedFile is a file whose Stat gives a size of its own choosing, as a
// file that grows while it is read, or a /proc file (size 0), does.
type sizedFile struct {
	io.Reader
	size int64
}

func (f sizedFile) Stat() (fs.FileInfo, error) { return sizedInfo(f.size), nil }
func (f sizedFile) Close() error               { return nil }

type sizedInfo int64

func (s sizedInfo) Size() int64      { return int64(s) }
func (sizedInfo) Mode() fs.FileMode  { return 0o644 }
func (sizedInfo) Name() string       { return "f" }
func (sizedInfo) IsDir() bool        { return false }
func (sizedInfo) Sys() any           { return nil }
func (sizedInfo) ModTime() time.Time { return time.Time{} }

// readAll reads what io.ReadAll of a LimitReader reads, except that it
// stops at the size the file had when it was opened; a size of 0, or one
// larger than the file, is read to the end.
func TestReadAllReadsWhatTheFileHolds(t *testing.T) {
	content := strings.Repeat("RUN echo hello\n", 100) // 1,500 bytes
	for _, tc := range []struct {
		name string
		size int64
		max  int64
		// upTo is where the read should stop, before max: the size the
		// file had when it was opened.
		upTo int64
	}{
		{"the size it has", 1500, 4096, 1500},
		{"a size of 0, as /proc files give", 0, 4096, 1500},
		{"a size smaller than it has (it grew since it was opened)", 100, 4096, 100},
		{"a size larger than it has (it shrank)", 100000, 4096, 1500},
		{"over the limit", 1500, 1000, 1500},
		{"over the limit with a size of 0", 0, 1000, 1500},
		{"exactly the limit", 1500, 1500, 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := io.ReadAll(io.LimitReader(strings.NewReader(content[:tc.upTo]), tc.max))
			got, err := readAll(sizedFile{Reader: &lineReader{s: content}, size: tc.size}, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("read %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

// lineReader gives one line per Read, as a pipe or a slow disk may.
type lineReader struct{ s string }

func (r *lineReader) Read(b []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	line := r.s
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i+1]
	}
	n := copy(b, line)
	r.s = r.s[n:]
	return n, nil
}
