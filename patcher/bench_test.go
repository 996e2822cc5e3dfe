package patcher_test

import (
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/patcher"
)

// BenchmarkPatchCorpus measures patching plus static verification of each
// corpus Dockerfile and reports the median per file. Target: under 5 ms.
//
//	go test ./patcher -run '^$' -bench PatchCorpus -benchtime 3x
func BenchmarkPatchCorpus(b *testing.B) {
	fsys := os.DirFS("../analyzer/testdata/corpus")
	a := analyzer.New(rules.All())
	targets, err := analyzer.Discover(b.Context(), fsys, ".", nil)
	if err != nil {
		b.Fatal(err)
	}
	var files []*analyzer.FileResult
	for _, t := range targets {
		if strings.HasPrefix(t.Path, "bad/") {
			continue
		}
		src, _ := fs.ReadFile(fsys, t.Path)
		fr, _ := a.AnalyzeSource(b.Context(), t.Path, src, analyzer.ContextFor(fsys, t.Path, t.Context), nil)
		if fr.Error == "" {
			files = append(files, fr)
		}
	}
	per := make([][]time.Duration, len(files))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, fr := range files {
			start := time.Now()
			patcher.PatchFile(b.Context(), a, fr, nil, patcher.Options{})
			per[j] = append(per[j], time.Since(start))
		}
	}
	b.StopTimer()
	med := make([]time.Duration, len(files))
	for j, d := range per {
		sort.Slice(d, func(x, y int) bool { return d[x] < d[y] })
		med[j] = d[len(d)/2]
	}
	sort.Slice(med, func(x, y int) bool { return med[x] < med[y] })
	b.ReportMetric(float64(med[len(med)/2].Microseconds())/1000, "ms/file-median")
	b.ReportMetric(float64(med[len(med)*9/10].Microseconds())/1000, "ms/file-p90")
}

// repeatedLines is a Dockerfile of n copies of one instruction after FROM:
// every copy has a finding with a fix, the worst case for a patcher that
// re-analyzes per fix or compares every pair of edits.
func repeatedLines(n int, line string) []byte {
	var b strings.Builder
	b.WriteString("FROM debian:12\n")
	for range n {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// BenchmarkPatchLines measures analysis plus patching of files of N copies
// of one RUN line, each with a fix; time per line should stay flat as N
// grows (it grew with N when each fix was checked against every other).
//
//	go test ./patcher -run '^$' -bench PatchLines -benchtime 1x
func BenchmarkPatchLines(b *testing.B) {
	a := analyzer.New(rules.All())
	// Files larger than analyzer.MaxConvertInstructions are not patched.
	for _, n := range []int{250, 500, 1000, 1500} {
		src := repeatedLines(n, "RUN apt-get install -y curl")
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				fr, _ := a.AnalyzeSource(b.Context(), "Dockerfile", src, nil, nil)
				patcher.PatchFile(b.Context(), a, fr, nil, patcher.Options{})
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/line")
		})
	}
}
