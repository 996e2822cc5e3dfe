//go:build linux && (amd64 || arm64)

package nonet

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// restrictThread installs a seccomp filter on the calling thread only (no
// SECCOMP_FILTER_FLAG_TSYNC), under which socket(2) fails with EACCES for
// AF_INET and AF_INET6. Unix sockets, files and everything else work.
func restrictThread() error { return installFilter(0) }

// restrictProcess installs the same filter on every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC); threads created later inherit it.
func restrictProcess() error { return installFilter(unix.SECCOMP_FILTER_FLAG_TSYNC) }

func installFilter(flags uintptr) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	const (
		offNr   = 0  // seccomp_data.nr
		offArch = 4  // seccomp_data.arch
		offArg0 = 16 // seccomp_data.args[0], low half on these little-endian machines
	)
	deny := unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)
	filter := []unix.SockFilter{
		/* 0 */ stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch),
		/* 1 */ jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, auditArch, 1, 0),
		// Another calling convention (x86's 32-bit entry): nothing in Go
		// uses one, so it is refused whole.
		/* 2 */ stmt(unix.BPF_RET|unix.BPF_K, deny),
		/* 3 */ stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr),
		// x32 system calls carry bit 30 on amd64.
		/* 4 */ jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, 0x40000000, 5, 0),
		/* 5 */ jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.SYS_SOCKET, 0, 3),
		/* 6 */ stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArg0),
		/* 7 */ jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.AF_INET, 2, 0),
		/* 8 */ jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.AF_INET6, 1, 0),
		/* 9 */ stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
		/* 10 */ stmt(unix.BPF_RET|unix.BPF_K, deny),
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	tid, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
	switch {
	case errno != 0:
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	case tid != 0:
		// With TSYNC, the kernel installs nothing when a thread has
		// filters of its own, and says which thread, not an errno.
		return fmt.Errorf("seccomp: thread %d has a filter of its own, so none was installed", tid)
	}
	return nil
}

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}
