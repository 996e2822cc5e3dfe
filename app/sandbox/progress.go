package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"sort"
	"sync"

	"github.com/dockopt/dockopt/analyzer"
)

// progressEvent is one line the child writes on its progress pipe: work on
// Path starts in Phase, or ends (Phase "").
type progressEvent struct {
	Path  string `json:"path"`
	Phase string `json:"phase,omitempty"`
}

// withProgressTo has the analysis under ctx write its progress to w, one
// JSON line per event; the analysis calls it from several goroutines.
func withProgressTo(ctx context.Context, w io.Writer) context.Context {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return analyzer.WithProgress(ctx, func(path, phase string) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(progressEvent{Path: path, Phase: phase})
	})
}

// Bounds of what the parent keeps of the progress: the child works on a
// few files at once, so more than this is no longer an answer.
const (
	maxWorking     = 64
	maxProgressLen = 8 << 10
)

// workingOn is what the parent knows of the files the child is working
// on.
type workingOn struct {
	mu    sync.Mutex
	files map[string]string // path → phase
}

// read follows the child's progress until the pipe closes. Lines it cannot
// read are skipped: the progress is a help in a message, never a verdict.
func (w *workingOn) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxProgressLen)
	for {
		if !sc.Scan() {
			if sc.Err() == bufio.ErrTooLong {
				// Skip the rest of an overlong line and go on.
				sc = bufio.NewScanner(r)
				sc.Buffer(make([]byte, 0, 4096), maxProgressLen)
				continue
			}
			io.Copy(io.Discard, r)
			return
		}
		var ev progressEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Path == "" {
			continue
		}
		w.mu.Lock()
		switch {
		case ev.Phase == "":
			delete(w.files, ev.Path)
		case len(w.files) < maxWorking:
			w.files[ev.Path] = ev.Phase
		}
		w.mu.Unlock()
	}
}

// Work is a file a child was working on, and what it was doing with it:
// "analyzing" or "patching".
type Work struct {
	Path  string
	Phase string
}

// list is the files being worked on, in path order.
func (w *workingOn) list() []Work {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Work, 0, len(w.files))
	for path, phase := range w.files {
		out = append(out, Work{Path: path, Phase: phase})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
