package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestAdviseHugePagesMarksHeap checks that the advice reaches the kernel:
// the mapping of the advised block is marked for huge pages ("hg").
// Without it an analysis runs as correctly, only slower; this test is what
// notices a runtime or kernel change that silently undoes it.
func TestAdviseHugePagesMarksHeap(t *testing.T) {
	thp, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(thp), "[never]") {
		t.Skip("transparent huge pages are not available here")
	}
	t.Setenv("DOCKOPT_HUGEPAGES", "")
	start := adviseHugePages(8 << 20)
	if start == 0 {
		t.Fatal("the kernel refused the advice")
	}
	if flags := vmFlagsAt(t, start); !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("the block at %#x is in a mapping with flags %q, without hg", start, flags)
	}
}

// vmFlagsAt returns the VmFlags of the mapping of this process that holds
// addr.
func vmFlagsAt(t *testing.T, addr uintptr) string {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	inside := false
	for _, line := range strings.Split(string(smaps), "\n") {
		if span, _, ok := strings.Cut(line, " "); ok && strings.Count(span, "-") == 1 && !strings.HasSuffix(span, ":") {
			lo, hi, _ := strings.Cut(span, "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				inside = uint64(addr) >= start && uint64(addr) < end
				continue
			}
		}
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && inside {
			return strings.TrimSpace(flags)
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}
