// Package server runs `dockopt-app serve`: the webhook endpoint, the queue's
// workers, health checks and metrics, in one process.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/webhook"
)

// Server is a configured `dockopt-app serve`.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Metrics
	queue   *queue.Queue
	handler http.Handler
	// working is set while Serve runs jobs.
	working bool
}

// New opens the queue's database (running its migrations) and prepares the
// HTTP routes. The jobs' handlers are given to Serve, so that whatever
// builds them can first use what New opened (the database, the metrics).
func New(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q, err := queue.Open(ctx, cfg.DatabaseURL, queue.Options{
		Workers:                cfg.Workers,
		MaxAttempts:            cfg.MaxAttempts,
		JobTimeout:             cfg.JobTimeout,
		RescueStuckJobsAfter:   cfg.RescueStuckJobsAfter,
		DeadJobAfter:           cfg.DeadJobAfter,
		LeaderElectionDisabled: cfg.LeaderElectionDisabled,
		Logger:                 s.log,
		Metrics:                s.metrics,
	})
	if err != nil {
		return nil, err
	}
	s.queue = q
	hook, err := webhook.New(webhook.Config{
		Secret:   cfg.WebhookSecret,
		BotLogin: cfg.BotLogin,
		Queue:    q,
		Metrics:  s.metrics,
		Logger:   s.log,
	})
	if err != nil {
		q.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", hook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.metrics.Handler())
	s.handler = mux
	return s, nil
}

// Handler serves /webhook, /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Queue is the server's queue.
func (s *Server) Queue() *queue.Queue { return s.queue }

// Metrics is the server's metrics registry: GitHub clients' transport
// reports through Metrics().RoundTripper.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Config is the configuration the server runs with.
func (s *Server) Config() Config { return s.cfg }

// ready answers 503 when the database does not answer: a load balancer then
// sends deliveries to a replica that can record them.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.queue.Ping(ctx); err != nil {
		s.log.WarnContext(r.Context(), "not ready: database unreachable", "error", err)
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// Run listens on the configured address and serves until ctx is done; see
// Serve.
func (s *Server) Run(ctx context.Context, handlers ...queue.Handler) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		s.queue.Close()
		return fmt.Errorf("%s: %w", EnvAddr, err)
	}
	return s.Serve(ctx, ln, handlers...)
}

// Serve runs the jobs with the handlers, one per kind, and serves HTTP on
// ln until ctx is done, then shuts down within ShutdownTimeout: it stops
// accepting connections, finishes the requests in flight, lets running
// jobs finish, and closes the database. Jobs still running at the deadline
// are cancelled and retried by the next start; nothing accepted is lost,
// since every 202 follows a commit. Without handlers the server takes
// deliveries only, leaving the jobs to other replicas sharing the
// PostgreSQL database.
func (s *Server) Serve(ctx context.Context, ln net.Listener, handlers ...queue.Handler) error {
	defer s.queue.Close()
	if len(handlers) > 0 {
		if err := s.queue.Start(ctx, handlers...); err != nil {
			ln.Close()
			return err
		}
		s.working = true
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// GitHub waits 10 s for an answer; a client slower than this is
		// not GitHub.
		ReadTimeout: 30 * time.Second,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "database", redact(s.cfg.DatabaseURL), "workers", s.cfg.Workers, "processor", s.working)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		s.stopJobs(context.Background())
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	timeout := s.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = 25 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	httpErr := srv.Shutdown(sctx)
	if httpErr != nil {
		srv.Close()
	}
	jobsErr := s.stopJobs(sctx)
	<-serveErr
	s.log.Info("stopped")
	return errors.Join(httpErr, jobsErr)
}

func (s *Server) stopJobs(ctx context.Context) error {
	if !s.working {
		return nil
	}
	return s.queue.Stop(ctx)
}

// Close releases a server that will not Run.
func (s *Server) Close() error { return s.queue.Close() }

// redact hides a password in a database URL for logs.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// Command runs `dockopt-app serve ARGS` and returns the exit status: 0 after a
// clean shutdown, 1 on a runtime error, 2 on a configuration error.
// handlers builds the jobs' handlers once the server is open, from its
// configuration, database, logger and metrics; the caller (the program's
// composition root) decides what runs the jobs. No handlers: intake only.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer, handlers func(*Server) ([]queue.Handler, error)) int {
	// The flags' usage goes to stdout when asked for with -h or --help,
	// to stderr with the error otherwise, as every subcommand does.
	var usage bytes.Buffer
	cfg, err := loadConfig(args, os.Getenv, &usage)
	if errors.Is(err, ErrHelp) {
		stdout.Write(usage.Bytes())
		return 0
	}
	stderr.Write(usage.Bytes())
	if err != nil {
		fmt.Fprintf(stderr, "dockopt-app serve: configuration:\n%v\n", indent(err.Error()))
		return 2
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	cfg.Metrics = metrics.New()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv, err := New(cfg)
	if err != nil {
		cfg.Logger.Error("cannot start", "error", err)
		return 1
	}
	var hs []queue.Handler
	if handlers != nil {
		if hs, err = handlers(srv); err != nil {
			srv.Close()
			cfg.Logger.Error("cannot build the job handlers", "error", err)
			return 1
		}
	}
	if err := srv.Run(ctx, hs...); err != nil {
		cfg.Logger.Error("serve failed", "error", err)
		return 1
	}
	return 0
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
