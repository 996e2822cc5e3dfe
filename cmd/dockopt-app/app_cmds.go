package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/dockopt/dockopt/app/ghclient"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/register"
	"github.com/dockopt/dockopt/app/sandbox"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/worker"
	"github.com/dockopt/dockopt/internal/cli"
)

// runServe is where the GitHub App is put together: the server opens the
// database and takes deliveries, the worker's stores keep their tables in
// that database, and the worker, whose GitHub calls go through the
// server's metrics, runs every job.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return server.Command(ctx, args, stdout, stderr, func(srv *server.Server) ([]queue.Handler, error) {
		cfg := srv.Config()
		w, err := worker.Open(ctx, worker.Config{
			GitHub: &ghclient.Factory{AppID: cfg.AppID, Key: cfg.PrivateKey, APIURL: cfg.GitHubAPIURL, UploadURL: cfg.GitHubUploadURL,
				Base: srv.Metrics().RoundTripper(nil)},
			BotLogin: cfg.BotLogin, BuildKitAddr: cfg.BuildKitAddr, Logger: srv.Logger(),
			Pacing: worker.PacingLimits{MaxOpen: cfg.PRConcurrentLimit, PerHour: cfg.PRHourlyLimit},
			Budget: worker.BudgetLimits{PerHour: cfg.ContentPerHour},
			// Each checkout is analyzed in a child of this binary; the
			// server only publishes the child's result.
			Sandbox: &sandbox.Runner{Limits: sandbox.Limits{MemoryMiB: cfg.AnalysisMemoryMiB, Timeout: cfg.AnalysisTimeout}},
		}, srv.Queue())
		if err != nil {
			return nil, err
		}
		return w.Handlers(), nil
	})
}

func runRegister(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return register.Command(ctx, args, stdout, stderr)
}

// runHealthcheck asks the local server's /healthz, for the image's
// HEALTHCHECK: distroless images have no curl or wget.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	head := "usage: dockopt-app healthcheck [ADDR]\n\nAsks the local server's /healthz and exits 0 when it answers 200, 1 otherwise;\nfor the image's HEALTHCHECK, since distroless images have no curl or wget.\nADDR is host:port (default $" + server.EnvAddr + ", else :8080).\n"
	if code, done := cli.Parse(fs, head, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "dockopt-app healthcheck: one address at most, got %q\n", fs.Args())
		return 2
	}
	addr := os.Getenv(server.EnvAddr)
	if fs.NArg() == 1 {
		addr = fs.Arg(0)
	}
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "dockopt-app healthcheck: bad address %q: %v\n", addr, err)
		return 2
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		fmt.Fprintln(stderr, "dockopt-app healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "dockopt-app healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "dockopt-app healthcheck: /healthz answered %d\n", resp.StatusCode)
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}
