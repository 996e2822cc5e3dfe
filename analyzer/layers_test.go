package analyzer

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPureCoreImportsNoApp holds the layering of DESIGN.md: the analyzer,
// the patcher and the templates are pure and run from the CLI without
// GitHub, so nothing they link may come from app/ or cmd/.
func TestPureCoreImportsNoApp(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./analyzer/...", "./patcher/...", "./templates/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, outer := range []string{"github.com/dockopt/dockopt/app", "github.com/dockopt/dockopt/cmd"} {
			if p == outer || strings.HasPrefix(p, outer+"/") {
				t.Errorf("the pure core links %s", p)
			}
		}
	}
}
