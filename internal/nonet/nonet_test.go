package nonet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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

// Once Run made its threads, TSYNC could not cover them: RestrictProcess
// says so rather than claim a restriction it did not make. (The pool is
// started by the tests above in this process, so this needs no child.)
func TestRestrictProcessAfterRunIsRefused(t *testing.T) {
	requireAvailable(t)
	if err := Run(func() {}); err != nil {
		t.Fatal(err)
	}
	if err := RestrictProcess(); err == nil || ProcessRestricted() {
		t.Fatalf("RestrictProcess after Run: err=%v restricted=%v; want a refusal", err, ProcessRestricted())
	}
	addr, connected := listen(t)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("the test process lost its network: %v", err)
	}
	c.Close()
	if !connected() {
		t.Error("no connection")
	}
}

func TestRunSurvivesGoexit(t *testing.T) {
	requireAvailable(t)
	for range 2 * runtime.GOMAXPROCS(0) {
		returned := make(chan bool)
		go func() {
			finished := false
			defer func() { returned <- finished }()
			Run(runtime.Goexit)
			finished = true
		}()
		if <-returned {
			t.Fatal("Run returned after f called runtime.Goexit; want the caller to end as f did")
		}
	}
	// Every worker that ended was replaced.
	ran := false
	if err := Run(func() { ran = true }); err != nil || !ran {
		t.Errorf("Run after Goexits: ran=%v err=%v", ran, err)
	}
}

// restrictedChild is set in the child process TestRestrictProcess starts.
const restrictedChild = "NONET_TEST_RESTRICTED_CHILD"

// RestrictProcess covers what Run cannot: goroutines the restricted code
// starts, such as Go's DNS lookups and its dual-stack dials. It is tried
// in a child process, which it restricts for good.
func TestRestrictProcess(t *testing.T) {
	if addr := os.Getenv(restrictedChild); addr != "" {
		restrictedChildMain(addr)
		return
	}
	requireAvailable(t)
	addr, connected := listen(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestrictProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), restrictedChild+"="+addr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"goroutine dial: permission denied", "lookup: refused", "run dial: permission denied", "unix: ok"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child said\n%s\nwant %q", out, want)
		}
	}
	if connected() {
		t.Error("the restricted child connected to the listener")
	}
}

func restrictedChildMain(addr string) {
	// Restricted from a thread that then ends, so that what follows can
	// only be refused if every other thread was restricted too.
	restricted := make(chan error)
	go func() {
		runtime.LockOSThread()
		restricted <- RestrictProcess()
	}()
	if err := <-restricted; err != nil {
		fmt.Println("RestrictProcess:", err)
		os.Exit(1)
	}
	say := func(what string, err error) {
		switch {
		case err == nil:
			fmt.Println(what + ": ok")
		case errors.Is(err, syscall.EACCES):
			fmt.Println(what + ": permission denied")
		default:
			fmt.Println(what+":", err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := net.DialTimeout("tcp", addr, 2*time.Second)
		say("goroutine dial", err)
	})
	wg.Wait()
	// A lookup runs on goroutines of its own; its socket to the resolver
	// is refused.
	_, err := net.DefaultResolver.LookupHost(context.Background(), "git.example.com")
	if err != nil && strings.Contains(err.Error(), "permission denied") {
		fmt.Println("lookup: refused")
	} else {
		fmt.Println("lookup:", err)
	}
	var runErr error
	Run(func() { _, runErr = net.DialTimeout("tcp", addr, 2*time.Second) })
	say("run dial", runErr)
	dir, _ := os.MkdirTemp("", "nonet")
	defer os.RemoveAll(dir)
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err == nil {
		ln.Close()
	}
	say("unix", err)
	os.Exit(0)
}
