package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/queue/queuetest"
	"github.com/dockopt/dockopt/app/server"
	"github.com/dockopt/dockopt/app/webhook"
)

// BenchmarkWebhookAck measures one signed push from request to 202, in
// process, on SQLite: signature check, parsing, and the commit of the
// delivery row and its job. "with-workers" also runs River's producer and
// a no-op handler, which compete for SQLite's one connection.
func BenchmarkWebhookAck(b *testing.B) {
	for _, withWorkers := range []bool{false, true} {
		name := "intake-only"
		if withWorkers {
			name = "with-workers"
		}
		b.Run(name, func(b *testing.B) {
			srv, err := server.New(testConfig(b, queuetest.SQLite(b)))
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if withWorkers {
				srv.Queue().Start(ctx, every(func(context.Context, any) error { return nil })...)
				defer srv.Queue().Stop(context.Background())
			}
			defer srv.Close()
			h := srv.Handler()
			secret := []byte("s3cret")
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := pushBody(fmt.Sprintf("repo%d", i%100), fmt.Sprintf("%040x", i))
				req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
				req.Header.Set("X-GitHub-Event", "push")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", i))
				req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				lat = append(lat, time.Since(start))
				if rec.Code != http.StatusAccepted {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
