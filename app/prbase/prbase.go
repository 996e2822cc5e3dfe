// Package prbase rebuilds the base version of a pull request's files from
// its head and the diff GitHub lists for it (pulls/list-files), so that
// the pull request can be judged against its base without a second
// clone: a file the pull request does not touch is the same on both
// sides, and a touched file's base version is its head version with the
// diff's hunks undone. The diff is against the merge base, which is
// exactly what the pull request introduces.
//
// The patches come from people's pull requests and are treated as hostile:
// a hunk that does not match the head file leaves that file unknown
// rather than guessed.
package prbase

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Change is one file of a pull request as pulls/list-files reports it.
type Change struct {
	Path string
	// Previous is the base's name of a renamed file.
	Previous string
	// Status is added, removed, modified, renamed, copied or changed.
	Status string
	// Patch is the unified diff's hunks, without the git header; GitHub
	// leaves it out for binary files and very large diffs.
	Patch string
}

// MaxFileSize bounds the head files read to rebuild a base version.
const MaxFileSize = 1 << 20

// Base is the base side of a pull request.
type Base struct {
	head fs.FS
	// files are the base versions of touched files; hidden are head
	// paths that do not exist on the base.
	files  map[string][]byte
	hidden map[string]bool
	dirs   map[string]bool
	// Unknown are files whose base version could not be rebuilt; they
	// are served as the head has them.
	Unknown []string
	// Renamed maps a base path to its head path.
	Renamed map[string]string
}

// Rebuild returns the base side of a pull request whose head is head.
func Rebuild(head fs.FS, changes []Change) *Base {
	b := &Base{head: head, files: map[string][]byte{}, hidden: map[string]bool{}, dirs: map[string]bool{}, Renamed: map[string]string{}}
	for _, c := range changes {
		p := path.Clean(c.Path)
		switch c.Status {
		case "added", "copied":
			b.hidden[p] = true
			continue
		case "removed":
			if c.Patch == "" {
				b.Unknown = append(b.Unknown, p)
				continue
			}
			old, err := Reverse(nil, c.Patch)
			if err != nil {
				b.Unknown = append(b.Unknown, p)
				continue
			}
			b.put(p, old)
			continue
		}
		from := p
		if c.Previous != "" && c.Previous != c.Path {
			from = path.Clean(c.Previous)
			b.hidden[p] = true
			b.Renamed[from] = p
		}
		cur, err := readBounded(head, p)
		if err != nil {
			b.Unknown = append(b.Unknown, p)
			continue
		}
		if c.Patch == "" {
			switch c.Status {
			case "renamed":
				b.put(from, cur)
			case "changed":
				// Only the file's mode changed; its content is the head's.
			default:
				b.Unknown = append(b.Unknown, p)
			}
			continue
		}
		old, err := Reverse(cur, c.Patch)
		if err != nil {
			b.Unknown = append(b.Unknown, p)
			if from != p {
				b.put(from, cur)
			}
			continue
		}
		b.put(from, old)
	}
	slices.Sort(b.Unknown)
	return b
}

func (b *Base) put(p string, data []byte) {
	delete(b.hidden, p)
	b.files[p] = data
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		b.dirs[d] = true
	}
}

func readBounded(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, errors.New("file too large")
	}
	return data, nil
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// Reverse undoes a patch: given the new version of a file and the hunks
// that made it, it returns the old version. It fails when a hunk's
// context or added lines are not what the new version holds there.
func Reverse(cur []byte, patch string) ([]byte, error) {
	lines := splitLines(cur)
	var out bytes.Buffer
	next := 0 // index into lines of the first line not yet copied
	plines := strings.Split(patch, "\n")
	for i := 0; i < len(plines); i++ {
		pl := plines[i]
		m := hunkHeader.FindStringSubmatch(pl)
		if m == nil {
			if pl == "" && i == len(plines)-1 {
				break
			}
			return nil, fmt.Errorf("line %d of the patch is outside a hunk", i+1)
		}
		start, _ := strconv.Atoi(m[3])
		newCount := 1
		if m[4] != "" {
			newCount, _ = strconv.Atoi(m[4])
		}
		oldCount := 1
		if m[2] != "" {
			oldCount, _ = strconv.Atoi(m[2])
		}
		first := start - 1
		if newCount == 0 {
			// An empty new side names the line before the hunk.
			first = start
		}
		if first < next || first > len(lines) {
			return nil, fmt.Errorf("hunk %q does not fit the file", pl)
		}
		for ; next < first; next++ {
			out.WriteString(lines[next])
		}
		seenOld, seenNew := 0, 0
		removed := false // the patch line before was a removed one
		for i+1 < len(plines) && (seenOld < oldCount || seenNew < newCount || strings.HasPrefix(plines[i+1], `\`)) {
			i++
			body := plines[i]
			if body == "" {
				// Some encoders drop the space of an empty context line.
				body = " "
			}
			switch body[0] {
			case ' ', '+':
				if next >= len(lines) || strings.TrimSuffix(lines[next], "\n") != body[1:] {
					return nil, fmt.Errorf("the patch does not match the file at line %d", next+1)
				}
				if body[0] == ' ' {
					out.WriteString(lines[next])
					seenOld++
				}
				removed = false
				next++
				seenNew++
			case '-':
				out.WriteString(body[1:] + "\n")
				removed = true
				seenOld++
			case '\\':
				// "\ No newline at end of file" after a removed line: the
				// old file ended there without one. After a context or
				// added line the head's own line already lacks it.
				if removed {
					out.Truncate(out.Len() - 1)
				}
				removed = false
			default:
				return nil, fmt.Errorf("line %d of the patch is not part of a hunk", i+1)
			}
		}
		if seenOld != oldCount || seenNew != newCount {
			return nil, fmt.Errorf("hunk %q has %d old and %d new lines, not what it says", pl, seenOld, seenNew)
		}
	}
	for ; next < len(lines); next++ {
		out.WriteString(lines[next])
	}
	return out.Bytes(), nil
}

// splitLines splits after each newline; the last line may lack one.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	out := strings.SplitAfter(string(b), "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// Open serves the base side: rebuilt files, the head's other files, and
// no file the pull request added.
func (b *Base) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := b.files[name]; ok {
		return &memFile{info: memInfo{name: path.Base(name), size: int64(len(data))}, r: bytes.NewReader(data)}, nil
	}
	if b.hidden[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f, err := b.head.Open(name)
	if errors.Is(err, fs.ErrNotExist) && b.dirs[name] {
		return &memFile{info: memInfo{name: path.Base(name), dir: true}, r: bytes.NewReader(nil)}, nil
	}
	return f, err
}

// Stat is Open's answer without opening.
func (b *Base) Stat(name string) (fs.FileInfo, error) {
	f, err := b.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// ReadDir lists the base side of a folder.
func (b *Base) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(b.head, name)
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && (b.dirs[name] || name == ".")) {
		return nil, err
	}
	byName := map[string]fs.DirEntry{}
	for _, e := range entries {
		p := path.Join(name, e.Name())
		if b.hidden[p] && b.files[p] == nil && !b.dirs[p] {
			continue
		}
		byName[e.Name()] = e
	}
	for p, data := range b.files {
		if path.Dir(p) == name {
			byName[path.Base(p)] = fs.FileInfoToDirEntry(memInfo{name: path.Base(p), size: int64(len(data))})
		}
	}
	for d := range b.dirs {
		if path.Dir(d) == name {
			if _, ok := byName[path.Base(d)]; !ok {
				byName[path.Base(d)] = fs.FileInfoToDirEntry(memInfo{name: path.Base(d), dir: true})
			}
		}
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y fs.DirEntry) int { return strings.Compare(x.Name(), y.Name()) })
	return out, nil
}

type memFile struct {
	info memInfo
	r    *bytes.Reader
}

func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
