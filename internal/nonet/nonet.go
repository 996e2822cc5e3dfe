// Package nonet runs a function on an operating-system thread that cannot
// open internet sockets.
//
// BuildKit's Dockerfile conversion connects to the host of every git
// repository an ADD names over SSH, to read its host key (llb.Git calls
// sshutil.SSHKeyScan, with no timeout and no context). A Dockerfile in a
// repository dockopt analyzes would otherwise make the App, or a test, open
// TCP connections to any address it names and wait for the kernel to give
// up on each (about two minutes for an address that never answers). The
// scan is best effort in BuildKit: refused, the conversion goes on and only
// the graph's known-hosts attribute is missing, which nothing of dockopt's
// reads.
//
// Run restricts only the goroutine that runs f: goroutines f starts run
// on other threads, among them Go's DNS lookups and its dials of a name
// with both IPv4 and IPv6 addresses. BuildKit dials an address on the
// goroutine that converts, which the analyzer's tests check on every
// BuildKit upgrade. RestrictProcess covers every thread, for a process
// that needs no internet at all.
package nonet

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// ErrUnavailable is returned, wrapped with the reason, when this system
// cannot take internet sockets away from a thread.
var ErrUnavailable = errors.New("no thread without network can be made here")

type job struct {
	f    func()
	done chan any
}

var (
	startOnce sync.Once
	jobs      chan job
	startErr  error
)

// Available reports whether Run can restrict a thread here, and if not, why.
func Available() error {
	startOnce.Do(start)
	return startErr
}

// processRestricted is set once RestrictProcess succeeded: every thread
// is restricted then, so Run calls f where it is.
var processRestricted atomic.Bool

// poolStarted is set when Run's first threads are made.
var poolStarted atomic.Bool

// RestrictProcess takes internet sockets away from every thread of the
// process, present and future, for good: for a process that needs none
// (the App's analysis child without a TCP builder, `dockopt analyze`
// without one). Unlike Run, it also covers the goroutines that code
// starts, such as Go's DNS lookups and its dials of a name with both IPv4
// and IPv6 addresses. It must come before the first Run, whose threads
// carry filters of their own that the kernel cannot synchronize.
func RestrictProcess() error {
	if poolStarted.Load() {
		return fmt.Errorf("%w: Run's threads carry filters of their own already", ErrUnavailable)
	}
	if err := restrictProcess(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	processRestricted.Store(true)
	return nil
}

// ProcessRestricted reports whether RestrictProcess took internet sockets
// from the whole process.
func ProcessRestricted() bool { return processRestricted.Load() }

// Run calls f on a thread that cannot open IPv4 or IPv6 sockets, and
// waits for it; in a restricted process, any thread will do, so f runs
// where it is. A panic in f is raised again in the caller. Without such a
// thread (Available) it returns the reason and does not call f. f must
// not call Run: with every thread busy, it would wait for itself.
func Run(f func()) error {
	if processRestricted.Load() {
		f()
		return nil
	}
	if err := Available(); err != nil {
		return err
	}
	j := job{f: f, done: make(chan any, 1)}
	jobs <- j
	switch p := <-j.done; p {
	case nil:
		return nil
	case errGoexit:
		// As if f had run here: t.Fatal in f ends the caller's test.
		runtime.Goexit()
	default:
		panic(p)
	}
	return nil
}

// start makes one restricted thread per processor. A restricted thread
// never goes back to the scheduler's pool: its goroutine stays locked to
// it for life, and threads created while it runs are cloned from the
// runtime's template thread, not from it.
func start() {
	poolStarted.Store(true)
	n := runtime.GOMAXPROCS(0)
	jobs = make(chan job)
	ready := make(chan error, n)
	for range n {
		go serve(ready)
	}
	for range n {
		if err := <-ready; err != nil && startErr == nil {
			startErr = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
}

func serve(ready chan<- error) {
	// Never unlocked: when this goroutine ends, the runtime ends its
	// thread with it, filter and all.
	runtime.LockOSThread()
	if err := restrictThread(); err != nil {
		if ready != nil {
			ready <- err
		}
		return
	}
	if ready != nil {
		ready <- nil
	}
	for j := range jobs {
		j.run()
	}
}

// errGoexit tells Run's caller that f called runtime.Goexit (as t.Fatal
// does) on a pool thread; the caller then calls it too, rather than wait
// for a result that never comes.
var errGoexit = errors.New("nonet: the function called runtime.Goexit")

// run calls j.f on a pool thread and sends its panic, or nil, on j.done.
// An f that calls runtime.Goexit ends this worker, so another is started.
func (j job) run() {
	returned := false
	defer func() {
		p := recover()
		if !returned && p == nil {
			p = errGoexit
			go serve(nil)
		}
		j.done <- p
	}()
	j.f()
	returned = true
}
