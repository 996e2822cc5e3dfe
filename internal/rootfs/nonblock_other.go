//go:build !unix

package rootfs

// nonBlocking is 0 where open takes no such flag; files open as Root.FS
// opens them.
const nonBlocking = 0
