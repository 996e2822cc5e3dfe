package analyzer_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// An analysis that releases each file's model as it ends reports exactly
// what one that keeps the models reports, and says that the released files
// can be neither converted nor asked for their facts.
func TestReleasingModelsReportsTheSame(t *testing.T) {
	for _, dir := range []string{"testdata/corpus", "testdata/realshapes"} {
		t.Run(dir, func(t *testing.T) {
			fsys := os.DirFS(dir)
			c, err := analyzer.New(rules.All()).Configure(nil)
			if err != nil {
				t.Fatal(err)
			}
			kept, err := c.Analyze(t.Context(), fsys, ".")
			if err != nil {
				t.Fatal(err)
			}
			released, err := c.ReleasingModels().Analyze(t.Context(), fsys, ".")
			if err != nil {
				t.Fatal(err)
			}
			if len(kept.Files) != len(released.Files) || len(kept.Files) == 0 {
				t.Fatalf("%d files kept, %d released", len(kept.Files), len(released.Files))
			}
			if !reflect.DeepEqual(kept.Groups, released.Groups) {
				t.Errorf("finding groups differ")
			}
			for i, k := range kept.Files {
				r := released.Files[i]
				if k.Path != r.Path || k.Kind != r.Kind || k.Role != r.Role || k.Error != r.Error ||
					!reflect.DeepEqual(k.Findings, r.Findings) || !reflect.DeepEqual(k.Strengths, r.Strengths) ||
					!reflect.DeepEqual(k.Stages, r.Stages) || !reflect.DeepEqual(k.Generated, r.Generated) {
					t.Errorf("%s: the released analysis reports differently", k.Path)
				}
				if r.Dockerfile == nil {
					continue
				}
				if r.Facts() != nil {
					t.Errorf("%s: a released file still gives facts", r.Path)
				}
				if r.ConvertError(t.Context()) == nil {
					t.Errorf("%s: a released file claims to convert", r.Path)
				}
			}
		})
	}
}
