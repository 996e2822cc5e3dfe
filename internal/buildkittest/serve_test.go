package buildkittest

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestServe is not a test: it keeps a test daemon and its registry of
// stand-in images running for measurements by hand, such as
// `dockopt analyze --buildkit` on the examples (scripts/measure-smoke.sh).
// With $DOCKOPT_SERVE_BUILDKIT set to a file name, it writes the daemon's
// address there and serves until SIGTERM or SIGINT.
func TestServe(t *testing.T) {
	addrFile := os.Getenv("DOCKOPT_SERVE_BUILDKIT")
	if addrFile == "" {
		t.Skip("set DOCKOPT_SERVE_BUILDKIT=FILE to serve a test daemon by hand")
	}
	e := Start(t)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := os.WriteFile(addrFile, []byte(e.Addr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("buildkitd at %s; stop with SIGTERM", e.Addr)
	<-ctx.Done()
}
