package analyzer

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// A map of many keys merged through many aliases is read bounded: a 700
// KiB compose file of this shape took 20 seconds and 600 MiB.
func TestComposeEnvNamesBoundedThroughAliases(t *testing.T) {
	var src strings.Builder
	src.WriteString("x-env: &a\n")
	for i := range 2000 {
		fmt.Fprintf(&src, "  K%d: 1\n", i)
	}
	src.WriteString("environment:\n")
	for range 500 {
		src.WriteString("  - *a\n")
	}
	var doc struct {
		Environment yaml.Node `yaml:"environment"`
	}
	if err := yaml.Unmarshal([]byte(src.String()), &doc); err != nil {
		t.Fatal(err)
	}
	names, all := composeEnvNames(doc.Environment)
	if all || len(names) > maxComposeEnvNodes {
		t.Errorf("read %d names, all=%v; want at most %d and all=false", len(names), all, maxComposeEnvNodes)
	}
}
