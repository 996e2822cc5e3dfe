package analyzer_test

import (
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/analyzer"
)

type corpusFile struct {
	path string
	src  []byte
	bc   *analyzer.BuildContext
}

func loadCorpus(b *testing.B) []corpusFile {
	fsys := os.DirFS("testdata/corpus")
	targets, err := analyzer.Discover(b.Context(), fsys, ".", nil)
	if err != nil {
		b.Fatal(err)
	}
	var out []corpusFile
	for _, t := range targets {
		if strings.HasPrefix(t.Path, "bad/") {
			continue
		}
		src, err := fs.ReadFile(fsys, t.Path)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, corpusFile{t.Path, src, analyzer.ContextFor(fsys, t.Path, t.Context)})
	}
	if len(out) < 100 {
		b.Fatalf("corpus has %d Dockerfiles, want at least 100", len(out))
	}
	return out
}

// BenchmarkAnalyzeCorpus measures in-process analysis of each corpus
// Dockerfile (parse, every rule, BuildKit's checks) and reports the median
// per file. Target: under 0.5 ms.
//
//	go test ./analyzer -run '^$' -bench AnalyzeCorpus -benchtime 5x
func BenchmarkAnalyzeCorpus(b *testing.B) {
	files := loadCorpus(b)
	a := newAnalyzer()
	per := make([][]time.Duration, len(files))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, f := range files {
			start := time.Now()
			fr, _ := a.AnalyzeSource(b.Context(), f.path, f.src, f.bc, nil)
			per[j] = append(per[j], time.Since(start))
			if strings.HasPrefix(fr.Error, "internal error") {
				b.Fatal(fr.Error)
			}
		}
	}
	b.StopTimer()
	medians := make([]time.Duration, len(files))
	for j, d := range per {
		sort.Slice(d, func(x, y int) bool { return d[x] < d[y] })
		medians[j] = d[len(d)/2]
	}
	sort.Slice(medians, func(x, y int) bool { return medians[x] < medians[y] })
	b.ReportMetric(float64(medians[len(medians)/2].Microseconds())/1000, "ms/file-median")
	b.ReportMetric(float64(medians[len(medians)*9/10].Microseconds())/1000, "ms/file-p90")
	b.ReportMetric(float64(len(files)), "files")
}

// BenchmarkFactsCorpus measures the trust facts of each corpus Dockerfile:
// the role (computed during analysis, so it is measured with parsing, no
// rules) and then every other fact (generated, and per stage the tools,
// ports, users, entrypoint, written paths), reported as the median per file.
//
//	go test ./analyzer -run '^$' -bench FactsCorpus -benchtime 5x
func BenchmarkFactsCorpus(b *testing.B) {
	fsys := os.DirFS("testdata/corpus")
	targets, err := analyzer.Discover(b.Context(), fsys, ".", nil)
	if err != nil {
		b.Fatal(err)
	}
	a := analyzer.New(nil)
	var analyze time.Duration
	var per [][]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := a.AnalyzeTargets(b.Context(), fsys, targets, nil)
		if err != nil {
			b.Fatal(err)
		}
		analyze += time.Since(start)
		if per == nil {
			per = make([][]time.Duration, len(res.Files))
		}
		for j, fr := range res.Files {
			facts := fr.Facts()
			if facts == nil {
				continue
			}
			start := time.Now()
			facts.Generated()
			for _, s := range fr.Dockerfile.Stages {
				sf := facts.Stage(s)
				sf.Tool(0, "curl")
				sf.Ports()
				sf.Entrypoint()
				sf.AccountUses()
				sf.WrittenPaths()
				sf.UserExistsAt(0, "app")
			}
			per[j] = append(per[j], time.Since(start))
		}
	}
	b.StopTimer()
	var medians []time.Duration
	for _, d := range per {
		if len(d) == 0 {
			continue
		}
		sort.Slice(d, func(x, y int) bool { return d[x] < d[y] })
		medians = append(medians, d[len(d)/2])
	}
	sort.Slice(medians, func(x, y int) bool { return medians[x] < medians[y] })
	b.ReportMetric(float64(analyze.Microseconds())/1000/float64(b.N*len(targets)), "ms/file-parse+role")
	b.ReportMetric(float64(medians[len(medians)/2].Microseconds())/1000, "ms/file-facts-median")
	b.ReportMetric(float64(medians[len(medians)*9/10].Microseconds())/1000, "ms/file-facts-p90")
}
