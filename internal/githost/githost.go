// Package githost is a loopback stand-in for a git host, for tests that
// check dockopt never connects to the hosts a Dockerfile names.
package githost

import (
	"net"
	"sync/atomic"
	"testing"
)

// Host listens on 127.0.0.1 and counts the connections it is sent. Each is
// closed at once, so that a client that does connect fails and goes on,
// and a test fails on the count rather than hangs.
type Host struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// Port is Addr's port.
	Port string
	n    atomic.Int64
}

// Start starts a Host that counts the connections count says yes to (all
// of them when count is nil), and stops it when the test ends.
func Start(t testing.TB, count func(net.Conn) bool) *Host {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{Addr: ln.Addr().String()}
	_, h.Port, _ = net.SplitHostPort(h.Addr)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if count == nil || count(c) {
				h.n.Add(1)
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return h
}

// Connections is how many counted connections the host was sent so far.
func (h *Host) Connections() int64 { return h.n.Load() }
