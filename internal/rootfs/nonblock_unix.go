//go:build unix

package rootfs

import "syscall"

const nonBlocking = syscall.O_NONBLOCK
