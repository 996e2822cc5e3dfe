package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/register"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/worker"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return server.CommandWith(ctx, args, stdout, stderr, func(d server.Deps) (queue.Processor, error) { return worker.New(d) })
}

func runRegister(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return register.Command(ctx, args, stdout, stderr)
}

// runHealthcheck asks the local server's /healthz, for the image's
// HEALTHCHECK: distroless images have no curl or wget.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	addr := os.Getenv(server.EnvAddr)
	if len(args) > 0 {
		addr = args[0]
	}
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "dockopt healthcheck: bad address %q: %v\n", addr, err)
		return 2
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		fmt.Fprintln(stderr, "dockopt healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "dockopt healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "dockopt healthcheck: /healthz answered %d\n", resp.StatusCode)
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}
