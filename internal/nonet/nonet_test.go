package nonet

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func requireAvailable(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("not on this system: %v", err)
	}
}

// listen returns a loopback listener and a function that reports whether
// anything connected to it so far.
func listen(t *testing.T) (string, func() bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func() bool {
		// A connection the kernel accepted waits in the backlog, so a
		// short deadline sees any that was made before the call.
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
		c, err := ln.Accept()
		if err == nil {
			c.Close()
			return true
		}
		return false
	}
}

func TestRunRefusesInternetSockets(t *testing.T) {
	requireAvailable(t)
	addr, connected := listen(t)
	for _, network := range []string{"tcp4", "tcp6", "udp4"} {
		target := addr
		if network == "tcp6" {
			target = "[::1]:9"
		}
		var err error
		if runErr := Run(func() { _, err = net.DialTimeout(network, target, 2*time.Second) }); runErr != nil {
			t.Fatal(runErr)
		}
		if !errors.Is(err, syscall.EACCES) {
			t.Errorf("%s dial on the restricted thread: err = %v, want permission denied", network, err)
		}
	}
	if connected() {
		t.Error("the listener was connected to from the restricted thread")
	}
}

func TestRunLeavesFilesAndUnixSocketsAlone(t *testing.T) {
	requireAvailable(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var dialErr, fileErr error
	if err := Run(func() {
		var c net.Conn
		if c, dialErr = net.Dial("unix", sock); dialErr == nil {
			c.Close()
		}
		fileErr = os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600)
	}); err != nil {
		t.Fatal(err)
	}
	if dialErr != nil || fileErr != nil {
		t.Errorf("unix socket: %v; file: %v", dialErr, fileErr)
	}
}

// The restriction must stay on the threads Run owns: the App's own
// connections (GitHub, PostgreSQL, buildkitd) run on every other thread,
// including threads created while a restricted one was running.
func TestOtherThreadsKeepTheNetwork(t *testing.T) {
	requireAvailable(t)
	addr, connected := listen(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		Run(func() {
			// Goroutines started here run on other threads, some created
			// now, while this one is restricted.
			for range 4 {
				wg.Go(func() {
					c, err := net.DialTimeout("tcp", addr, 2*time.Second)
					if err != nil {
						errs <- err
						return
					}
					c.Close()
				})
			}
			wg.Wait()
		})
	}
	close(errs)
	for err := range errs {
		t.Errorf("dial outside the restricted thread: %v", err)
	}
	if !connected() {
		t.Error("no connection reached the listener")
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial from the test's goroutine afterwards: %v", err)
	}
	c.Close()
}

func TestRunRaisesThePanicInTheCaller(t *testing.T) {
	requireAvailable(t)
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want boom", p)
		}
		// The thread survives a panic and serves the next call.
		ran := false
		if err := Run(func() { ran = true }); err != nil || !ran {
			t.Errorf("Run after a panic: ran=%v err=%v", ran, err)
		}
	}()
	Run(func() { panic("boom") })
	t.Fatal("Run returned after f panicked")
}
