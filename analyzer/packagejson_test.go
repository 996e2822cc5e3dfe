package analyzer

import (
	"testing"
	"testing/fstest"
)

// TestParsePackageJSON: the context's package.json is read with its
// optionalDependencies, which npm installs like dependencies (and fetches
// from git when their spec says so); a file that is not a JSON object
// reads as none.
func TestParsePackageJSON(t *testing.T) {
	pkg, ok := ParsePackageJSON([]byte(`{"name":"api","dependencies":{"express":"^4"},"optionalDependencies":{"fsevents-shim":"github:acme/fsevents-shim"},"devDependencies":{"eslint":"^9"}}`))
	if !ok {
		t.Fatal("ParsePackageJSON: not ok")
	}
	if got := pkg.OptionalDependencies["fsevents-shim"]; got != "github:acme/fsevents-shim" {
		t.Errorf("optionalDependencies[fsevents-shim] = %q", got)
	}
	if pkg.Dependencies["express"] != "^4" || pkg.DevDependencies["eslint"] != "^9" {
		t.Errorf("dependencies %v, devDependencies %v", pkg.Dependencies, pkg.DevDependencies)
	}
	for _, bad := range []string{"", "[]", `{"dependencies":["x"]}`, "{"} {
		if _, ok := ParsePackageJSON([]byte(bad)); ok {
			t.Errorf("ParsePackageJSON(%q) is ok", bad)
		}
	}
	bc := ContextFor(fstest.MapFS{"package.json": &fstest.MapFile{Data: []byte(`{"optionalDependencies":{"x":"1.0.0"}}`)}}, "Dockerfile", ".")
	if bc.Package == nil || bc.Package.OptionalDependencies["x"] != "1.0.0" {
		t.Errorf("the context's package is %+v, want its optionalDependencies", bc.Package)
	}
}
