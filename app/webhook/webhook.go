// Package webhook receives GitHub's webhook deliveries: it authenticates
// them, turns the events dockopt cares about into jobs, and hands the jobs
// to the queue, answering within milliseconds (GitHub gives up after 10 s,
// platform-facts §3.2). It does no work of its own.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/app/jobs"
	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/queue"
)

// MaxBody is the largest payload accepted: GitHub does not deliver events
// over 25 MB (platform-facts §3.2), so anything larger is not from GitHub.
const MaxBody = 25 << 20

// BotBranchPrefix starts the names of the branches dockopt pushes its
// changes to; pushes there are its own and never trigger an analysis.
const BotBranchPrefix = "dockopt/"

// Queue is what the handler needs from the queue.
type Queue interface {
	Accept(ctx context.Context, d queue.Delivery, js []jobs.Args) (queue.Accepted, error)
}

// Config configures a Handler.
type Config struct {
	// Secret is the webhook secret shared with GitHub; required.
	Secret []byte
	// BotLogin is the app's bot account, e.g. "dockopt[bot]": its own pushes
	// and comments are ignored, and comments mentioning it are commands.
	BotLogin string
	Queue    Queue
	Metrics  *metrics.Metrics // optional
	Logger   *slog.Logger     // optional
	// MaxInFlight bounds the bytes of bodies read at once across requests;
	// zero means DefaultMaxInFlight. It must leave room for one MaxBody.
	MaxInFlight int64
}

// Handler serves POST /webhook.
type Handler struct {
	secret  []byte
	bot     string
	mention string
	queue   Queue
	metrics *metrics.Metrics
	log     *slog.Logger
	budget  *byteBudget
}

// New returns a handler. An empty secret is refused: without one anybody
// could queue work in the app's name.
func New(cfg Config) (*Handler, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("webhook: the webhook secret is empty")
	}
	if cfg.BotLogin == "" {
		return nil, errors.New("webhook: the bot login is empty")
	}
	if cfg.Queue == nil {
		return nil, errors.New("webhook: no queue")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxInFlight < MaxBody {
		return nil, fmt.Errorf("webhook: MaxInFlight %d is below the largest delivery GitHub sends (%d bytes)", cfg.MaxInFlight, MaxBody)
	}
	return &Handler{
		secret:  cfg.Secret,
		bot:     cfg.BotLogin,
		mention: "@" + strings.ToLower(strings.TrimSuffix(cfg.BotLogin, "[bot]")),
		queue:   cfg.Queue,
		metrics: cfg.Metrics,
		log:     cfg.Logger,
		budget:  &byteBudget{limit: cfg.MaxInFlight},
	}, nil
}

// Response is the JSON body of every answer, for people reading GitHub's
// "Recent deliveries" page.
type Response struct {
	Status string  `json:"status"`
	Reason string  `json:"reason,omitempty"`
	Jobs   []int64 `json:"jobs,omitempty"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.metrics != nil {
		defer func(start time.Time) { h.metrics.WebhookDuration.Observe(time.Since(start).Seconds()) }(time.Now())
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.answer(w, http.StatusMethodNotAllowed, "-", Response{Status: "method-not-allowed"})
		return
	}
	// A missing or malformed signature is refused before the body is read.
	sig, ok := parseSignature(r.Header.Get("X-Hub-Signature-256"))
	if !ok {
		h.refuseUnsigned(r)
		h.answer(w, http.StatusUnauthorized, "-", Response{Status: "unauthorized"})
		return
	}
	body, release, err := h.signedBody(w, r, sig)
	defer release()
	switch {
	case errors.Is(err, errTooLarge):
		h.log.WarnContext(r.Context(), "webhook refused: body over 25 MB", "remote", r.RemoteAddr)
		h.answer(w, http.StatusRequestEntityTooLarge, "-", Response{Status: "too-large"})
		return
	case errors.Is(err, errBusy):
		// Only a flood gets here; GitHub's own deliveries are a few KB.
		h.log.WarnContext(r.Context(), "webhook refused: too many bytes in flight", "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", "1")
		h.answer(w, http.StatusServiceUnavailable, "-", Response{Status: "busy", Reason: "too many deliveries in flight; retry"})
		return
	case errors.Is(err, errBadSignature):
		h.refuseUnsigned(r)
		h.answer(w, http.StatusUnauthorized, "-", Response{Status: "unauthorized"})
		return
	case err != nil:
		h.answer(w, http.StatusBadRequest, "-", Response{Status: "bad-request", Reason: "unreadable body"})
		return
	}

	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	log := h.log.With("delivery", delivery, "event", event)
	if event == "" || delivery == "" {
		h.answer(w, http.StatusBadRequest, event, Response{Status: "bad-request", Reason: "X-GitHub-Event and X-GitHub-Delivery are required"})
		return
	}
	payload, err := jsonPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.answer(w, http.StatusBadRequest, event, Response{Status: "bad-request", Reason: err.Error()})
		return
	}
	if event == "ping" {
		log.InfoContext(r.Context(), "webhook ping")
		h.answer(w, http.StatusOK, event, Response{Status: "pong"})
		return
	}
	parsed, err := github.ParseWebHook(event, payload)
	if err != nil {
		if strings.Contains(err.Error(), "unknown X-Github-Event") {
			h.answer(w, http.StatusAccepted, event, Response{Status: "ignored", Reason: "event not handled"})
			return
		}
		log.WarnContext(r.Context(), "webhook payload does not parse", "error", err)
		h.answer(w, http.StatusBadRequest, event, Response{Status: "bad-request", Reason: "payload does not parse"})
		return
	}

	m := h.route(parsed, delivery)
	log = log.With("action", m.action, "installation", m.installation, "repository", m.repository)
	if len(m.jobs) == 0 {
		log.DebugContext(r.Context(), "webhook ignored", "reason", m.ignored)
		h.answer(w, http.StatusAccepted, event, Response{Status: "ignored", Reason: m.ignored})
		return
	}
	acc, err := h.queue.Accept(r.Context(), queue.Delivery{ID: delivery, Event: event, Action: m.action}, m.jobs)
	if err != nil {
		// GitHub marks the delivery failed; it can be redelivered once the
		// database is back.
		log.ErrorContext(r.Context(), "webhook not queued", "error", err)
		h.answer(w, http.StatusServiceUnavailable, event, Response{Status: "error", Reason: "could not queue the delivery"})
		return
	}
	log.InfoContext(r.Context(), "webhook accepted", "outcome", string(acc.Outcome), "job_ids", acc.JobIDs)
	h.answer(w, http.StatusAccepted, event, Response{Status: string(acc.Outcome), Jobs: acc.JobIDs, Reason: outcomeReason[acc.Outcome]})
}

// refuseUnsigned logs a delivery whose signature is missing or wrong. The
// event name is not trusted yet, so it does not become a label.
func (h *Handler) refuseUnsigned(r *http.Request) {
	h.log.WarnContext(r.Context(), "webhook refused: bad or missing X-Hub-Signature-256",
		"remote", r.RemoteAddr, "delivery", r.Header.Get("X-GitHub-Delivery"))
}

var outcomeReason = map[queue.Outcome]string{
	queue.Done:     "this delivery was already processed",
	queue.InFlight: "this delivery is already queued",
	queue.Requeued: "this delivery failed before; queued again",
}

func (h *Handler) answer(w http.ResponseWriter, code int, event string, resp Response) {
	if h.metrics != nil {
		h.metrics.Webhooks.WithLabelValues(event, resp.Status).Inc()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(resp)
}

// ValidSignature reports whether header is "sha256=" followed by the hex
// HMAC-SHA256 of body under secret. Only the SHA-256 header counts: the
// legacy SHA-1 one is never a fallback, and an empty secret matches nothing.
func ValidSignature(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	got, ok := parseSignature(header)
	if !ok {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value of body, as GitHub computes it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// jsonPayload returns the JSON of a delivery. Apps always send JSON, but a
// repository webhook may be set to form encoding, where the JSON is the
// "payload" field; the signature covers the raw body either way.
func jsonPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("form body does not parse")
	}
	return []byte(form.Get("payload")), nil
}
