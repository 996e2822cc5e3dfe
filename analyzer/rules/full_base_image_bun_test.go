package rules

import (
	"maps"
	"slices"
	"testing"
)

// bun.lock keys nested packages by their node_modules path and scoped
// ones with their scope; the name is the one the entry's value leads with.
// Workspace dependency lines are strings and name nothing locked.
func TestBunLockNames(t *testing.T) {
	lock := `{
  "lockfileVersion": 1,
  "workspaces": { "": { "dependencies": { "node-gyp": "^10", }, }, },
  "trustedDependencies": [
    "esbuild",
  ],
  "packages": {
    "@scope/addon": ["@scope/addon@1.0.0", "", {}, "sha512-x"],

    "sharp/nan": ["nan@2.19.0", "", {}, "sha512-y"],
  }
}`
	got := slices.Sorted(maps.Keys(bunLockNames([]byte(lock))))
	if want := []string{"@scope/addon", "nan"}; !slices.Equal(got, want) {
		t.Errorf("bunLockNames = %q, want %q", got, want)
	}
}
