// Command loadtest fires signed push webhooks at a dockopt server at a fixed
// rate and prints the latency distribution of the answers.
//
//	go run ./app/server/loadtest -rate 200 -duration 10s
//
// Without -url it starts a server in process on a fresh SQLite database in a
// temporary directory, with a processor that does nothing, and targets it
// over loopback. With -url it targets a running server, which must listen on
// loopback and share -secret. In-flight requests are bounded by -inflight;
// a tick that finds them all busy is counted as dropped, not queued, so the
// offered rate stays honest.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/webhook"
)

func main() {
	target := flag.String("url", "", "webhook URL on loopback (default: start a server in process)")
	secret := flag.String("secret", "loadtest-secret", "webhook secret")
	rate := flag.Int("rate", 200, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to fire")
	inflight := flag.Int("inflight", 64, "most requests in flight at once")
	repos := flag.Int("repos", 100, "distinct repositories pushed to (pushes to one repository coalesce)")
	database := flag.String("database-url", "", "database of the in-process server (default: SQLite in a temporary directory)")
	process := flag.Bool("process", true, "in-process server: run the queued jobs with a no-op processor, as a busy server would (false: intake only)")
	flag.Parse()
	if *rate <= 0 || *duration <= 0 || *inflight <= 0 || *repos <= 0 || *rate > 10000 || *duration > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "loadtest: -rate 1..10000, -duration up to 10m, -inflight and -repos positive")
		os.Exit(2)
	}
	if err := run(*target, []byte(*secret), *rate, *duration, *inflight, *repos, *database, *process); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(target string, secret []byte, rate int, duration time.Duration, inflight, repos int, database string, process bool) error {
	var srv *server.Server
	if target == "" {
		var base string
		var stop func()
		var err error
		srv, base, stop, err = startServer(secret, database, process)
		if err != nil {
			return err
		}
		defer stop()
		target = base + "/webhook"
	} else if err := checkLoopback(target); err != nil {
		return err
	}

	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: inflight, MaxConnsPerHost: inflight},
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		statuses  = map[string]int{}
		dropped   atomic.Int64
		wg        sync.WaitGroup
		slots     = make(chan struct{}, inflight)
	)
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(duration)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		select {
		case slots <- struct{}{}:
		default:
			dropped.Add(1)
			continue
		}
		body := pushBody(fmt.Sprintf("repo%d", i%repos), fmt.Sprintf("%040x", i))
		req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("load-%s-%d", run, i))
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			start := time.Now()
			resp, err := client.Do(req)
			status := "error"
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = resp.Status
			}
			elapsed := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, elapsed)
			statuses[status]++
		}()
	}
	wg.Wait()

	if len(latencies) == 0 {
		return fmt.Errorf("no request completed")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	fmt.Printf("target    %s\n", target)
	fmt.Printf("offered   %d req/s for %s (%d requests, %d dropped at the in-flight bound of %d)\n",
		rate, duration, len(latencies), dropped.Load(), inflight)
	fmt.Printf("statuses  %v\n", statuses)
	fmt.Printf("latency   p50 %s  p90 %s  p99 %s  max %s\n",
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), latencies[len(latencies)-1].Round(10*time.Microsecond))
	if srv != nil {
		// The handler's own view, without the client's share of the CPU.
		var m dto.Metric
		if err := srv.Metrics().WebhookDuration.Write(&m); err == nil {
			h := m.GetHistogram()
			var line string
			for _, b := range h.GetBucket() {
				if b.GetUpperBound() == 0.002 || b.GetUpperBound() == 0.005 || b.GetUpperBound() == 0.01 {
					line += fmt.Sprintf("  ≤%gms %.2f%%", b.GetUpperBound()*1000, 100*float64(b.GetCumulativeCount())/float64(h.GetSampleCount()))
				}
			}
			fmt.Printf("handler  %s (webhook_duration_seconds)\n", line)
		}
	}
	return nil
}

// checkLoopback keeps the generator off other people's servers.
func checkLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	ips, err := net.LookupIP(u.Hostname())
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s is not a loopback address", u.Hostname())
		}
	}
	return nil
}

func pushBody(repo, sha string) []byte {
	return []byte(`{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000001","after":"` + sha + `",
"repository":{"id":1,"name":"` + repo + `","full_name":"load/` + repo + `","default_branch":"main","owner":{"login":"load"}},
"pusher":{"name":"alice"},"sender":{"login":"alice","type":"User"},"installation":{"id":42}}`)
}

// startServer runs dockopt's server. With process, a processor that does
// nothing runs every job, so that River's producer and completer load the
// database as in production.
func startServer(secret []byte, database string, process bool) (srv *server.Server, base string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "dockopt-loadtest")
	if err != nil {
		return nil, "", nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if database == "" {
		database = "sqlite://" + filepath.Join(dir, "dockopt.db")
	}
	env := map[string]string{
		server.EnvAppID:         "1",
		server.EnvPrivateKey:    string(keyPEM),
		server.EnvWebhookSecret: string(secret),
		server.EnvDatabaseURL:   database,
	}
	cfg, err := server.LoadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		return nil, "", nil, err
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var handlers []queue.Handler
	if process {
		handlers = append(handlers, queue.Handle(func(context.Context, jobs.AnalyzePush) error { return nil }))
	}
	srv, err = server.New(cfg)
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, handlers...) }()
	return srv, "http://" + ln.Addr().String(), func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	}, nil
}
