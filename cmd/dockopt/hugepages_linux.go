package main

import (
	"os"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHugePages has the kernel back the heap an analysis grows into
// with 2 MiB pages where transparent huge pages are enabled on request
// ("madvise", the default of many distributions). The Go runtime no longer
// asks for them, so each 4 KiB of a new heap was a page fault of its own:
// 10,000 in a run over the benchmark corpus, a sixth of its CPU time on a
// VM where a fault costs 13 µs. A block of size bytes is allocated (which
// maps that much heap, untouched), advised and dropped: the collection it
// sets off once the collector is on again (it is more than the first heap
// target) hands its pages to the next allocations, and the first touch of
// each 2 MiB of it faults once. The collector is off while the block is
// held: a collection started by its allocation found it live, set the
// next target at twice its size, and let one run in six peak at 106 MiB
// instead of 57. Forcing a collection instead (runtime.GC) held start-up
// for 6-12 ms. A kernel without THP ignores or
// refuses the advice; nothing depends on it. DOCKOPT_HUGEPAGES=off leaves
// the heap alone, to measure the difference. It returns the address of
// the advised block, 0 when none was.
func adviseHugePages(size int) uintptr {
	if os.Getenv("DOCKOPT_HUGEPAGES") == "off" {
		return 0
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	block := make([]byte, size)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	if unix.Madvise(block, unix.MADV_HUGEPAGE) != nil {
		start = 0
	}
	return start
}
