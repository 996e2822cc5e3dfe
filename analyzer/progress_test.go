package analyzer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

// TestProgressTellsEachFileStartAndEnd: the analysis tells the context's
// Progress when each file starts and ends, several at once, and no file
// is left open once it returns.
func TestProgressTellsEachFileStartAndEnd(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := range 12 {
		fsys[fmt.Sprintf("s%02d/Dockerfile", i)] = &fstest.MapFile{Data: []byte("FROM debian:12\n")}
	}
	var mu sync.Mutex
	open := map[string]string{}
	started := map[string]int{}
	ctx := analyzer.WithProgress(context.Background(), func(path, phase string) {
		mu.Lock()
		defer mu.Unlock()
		if phase == "" {
			if _, ok := open[path]; !ok {
				t.Errorf("%s ended without starting", path)
			}
			delete(open, path)
			return
		}
		open[path] = phase
		started[path+" "+phase]++
	})
	a := analyzer.New([]*analyzer.Rule{{ID: "quiet", Category: analyzer.CategoryReliability, Severity: analyzer.SeverityInfo,
		Title: "quiet", Rationale: strings.Repeat("why ", 12), Check: func(*analyzer.Pass) {}}})
	if _, err := a.Analyze(ctx, fsys, ".", nil); err != nil {
		t.Fatal(err)
	}
	for path := range fsys {
		if started[path+" analyzing"] != 1 {
			t.Errorf("%s: analysis started %d times, want 1", path, started[path+" analyzing"])
		}
	}
	if len(open) != 0 {
		t.Errorf("left open: %v", open)
	}
}
