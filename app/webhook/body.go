package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
)

// DefaultMaxInFlight bounds the bytes of webhook bodies held in memory at
// once. Until its signature is checked a body is anybody's, and it must be
// read whole before the check can be made: without a bound, forty unsigned
// 24 MB posts held 1.4 GB. 64 MiB lets two of GitHub's largest deliveries
// (25 MB) through together and thousands of ordinary ones (a few KB).
const DefaultMaxInFlight = 64 << 20

// readChunk is how much of a body of unknown length is read, and reserved,
// at a time.
const readChunk = 32 << 10

// errBusy means the in-flight budget is spent: the delivery is refused
// with 503 and Retry-After before more of it is read.
var errBusy = errors.New("webhook: too many bytes in flight")

// errTooLarge means the body is over MaxBody.
var errTooLarge = errors.New("webhook: body over 25 MB")

// errBadSignature means the body's HMAC does not match the header.
var errBadSignature = errors.New("webhook: bad signature")

// byteBudget is a counting semaphore of bytes that never blocks: a request
// that does not fit is refused at once, so a flood cannot queue up either.
type byteBudget struct {
	mu    sync.Mutex
	limit int64
	used  int64
}

func (b *byteBudget) tryTake(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// signature is a parsed X-Hub-Signature-256 header.
type signature []byte

// parseSignature accepts only "sha256=" and 64 hex digits; anything else is
// refused before a byte of the body is read.
func parseSignature(header string) (signature, bool) {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return nil, false
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil || len(sum) != sha256.Size {
		return nil, false
	}
	return sum, true
}

// signedBody reads r's body while computing its HMAC, holding at most
// MaxBody bytes and never more than the budget allows across requests.
// The returned release gives the reserved bytes back; call it when the body
// is no longer needed.
func (h *Handler) signedBody(w http.ResponseWriter, r *http.Request, want signature) (body []byte, release func(), err error) {
	var reserved int64
	release = func() { h.budget.give(reserved); reserved = 0 }
	take := func(n int64) bool {
		if !h.budget.tryTake(n) {
			return false
		}
		reserved += n
		return true
	}
	if r.ContentLength > MaxBody {
		return nil, release, errTooLarge
	}
	var buf []byte
	if r.ContentLength > 0 {
		// A declared length is reserved whole, before anything is read;
		// net/http never reads past it.
		if !take(r.ContentLength) {
			return nil, release, errBusy
		}
		buf = make([]byte, 0, r.ContentLength)
	}
	mac := hmac.New(sha256.New, h.secret)
	src := io.TeeReader(http.MaxBytesReader(w, r.Body, MaxBody), mac)
	chunk := make([]byte, readChunk)
	for {
		n, rerr := src.Read(chunk)
		if len(buf)+n > cap(buf) {
			// Reserve what the grown buffer will hold before allocating it.
			grown := min(max(2*cap(buf), len(buf)+n, readChunk), MaxBody+readChunk)
			if need := int64(grown) - reserved; need > 0 && !take(need) {
				return nil, release, errBusy
			}
			buf = append(make([]byte, 0, grown), buf...)
		}
		buf = append(buf, chunk[:n]...)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			var tooBig *http.MaxBytesError
			if errors.As(rerr, &tooBig) {
				return nil, release, errTooLarge
			}
			return nil, release, rerr
		}
	}
	if !hmac.Equal(want, mac.Sum(nil)) {
		return nil, release, errBadSignature
	}
	return buf, release, nil
}
