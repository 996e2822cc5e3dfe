package pipeline_test

import (
	"os"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
	"github.com/dockopt/dockopt/internal/pipeline"
)

// corpusDir is the folder the Run benchmarks read: $DOCKOPT_CORPUS (made
// with `go run ./scripts/corpus DIR`), else the analyzer's corpus.
func corpusDir() string {
	if d := os.Getenv("DOCKOPT_CORPUS"); d != "" {
		return d
	}
	return "../../analyzer/testdata/corpus"
}

func benchmarkRun(b *testing.B, fix bool) {
	a := analyzer.New(rules.All())
	fsys := os.DirFS(corpusDir())
	cfg, err := analyzer.LoadConfig(fsys)
	if err != nil {
		b.Fatal(err)
	}
	var files int
	for b.Loop() {
		req := pipeline.Request{Analyzer: a, FS: fsys, Config: cfg}
		if fix {
			opts := pipeline.FixOptions(cfg)
			req.Fix, req.StreamFixes = &opts, true
		}
		out, err := pipeline.Run(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		files = len(out.Result.Files)
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkRunAnalyze is what `dockopt analyze --format text` does after
// start-up: find and analyze every Dockerfile of the corpus.
//
//	DOCKOPT_CORPUS=/tmp/corpus go test ./internal/pipeline -run '^$' -bench RunAnalyze -cpuprofile /tmp/cpu.out
func BenchmarkRunAnalyze(b *testing.B) { benchmarkRun(b, false) }

// BenchmarkRunPatch adds what `--format json` does: patch every file to a
// fixed point and verify the result.
func BenchmarkRunPatch(b *testing.B) { benchmarkRun(b, true) }
