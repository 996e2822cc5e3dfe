package buildkittest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFindStaticBusybox: the static busybox that scripts/install-buildkit.sh
// unpacks into bin/ is found on PATH; a dynamically linked or non-ELF one
// earlier on PATH is passed over.
func TestFindStaticBusybox(t *testing.T) {
	static, err := os.ReadFile("/bin/busybox")
	if err != nil || staticELF("/bin/busybox") != nil {
		t.Skip("no static /bin/busybox to copy")
	}
	script, unpacked := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(script, "busybox"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unpacked, "busybox"), static, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", script+string(filepath.ListSeparator)+unpacked)
	if got, want := findStaticBusybox(), filepath.Join(unpacked, "busybox"); got != want {
		t.Errorf("found %s, want %s", got, want)
	}
	t.Setenv("PATH", script)
	if got := findStaticBusybox(); got != "/bin/busybox" {
		t.Errorf("with no static busybox on PATH found %s, want /bin/busybox", got)
	}
}
