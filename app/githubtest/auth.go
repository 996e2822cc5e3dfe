package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// JWT rules GitHub applies to App JWTs (docs: generating-a-json-web-token-
// jwt-for-a-github-app): RS256, iss = app ID, iat no later than the clock
// drift allows, exp in the future and at most 10 minutes after iat.
const (
	jwtMaxLifetime = 10 * time.Minute
	jwtClockSkew   = 60 * time.Second
)

type authKind int

const (
	authNone         authKind = iota // apps/create-from-manifest: the code is the credential
	authJWT                          // /app/... and apps/get-repo-installation
	authInstallation                 // everything a repository or installation token does
	authAny                          // rate-limit/get: any credential, or none
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

// appKey is generated once per process: 2048-bit generation takes long
// enough to matter when every test starts a server.
func appKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() { key, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return key, keyErr
}

// PrivateKeyPEM is the App's private key as GitHub hands it out (PKCS#1 PEM).
func (s *Server) PrivateKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.PrivateKey)})
}

type token struct {
	value   string
	inst    *Installation
	expires time.Time
	repos   map[int64]bool // nil: every repository of the installation
}

func (t *token) allows(r *Repo) bool { return t.repos == nil || t.repos[r.ID] }

func (s *Server) authenticate(c *ctx, kind authKind) bool {
	h := c.r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch kind {
	case authNone:
		return true
	case authJWT:
		if !strings.EqualFold(scheme, "bearer") || cred == "" {
			c.errorJSON(http.StatusUnauthorized, "A JSON web token could not be decoded")
			return false
		}
		if msg := s.checkJWT(cred, time.Now()); msg != "" {
			c.errorJSON(http.StatusUnauthorized, msg)
			return false
		}
		return true
	case authAny:
		if h == "" {
			return true
		}
	}
	if (!strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer")) || cred == "" {
		c.errorJSON(http.StatusUnauthorized, "Requires authentication")
		return false
	}
	tok := s.lookupToken(cred)
	if tok == nil {
		c.errorJSON(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	c.tok = tok
	c.call.Installation = tok.inst.ID
	return true
}

// lookupToken returns the unexpired installation token, or nil.
func (s *Server) lookupToken(value string) *token {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.tokens[value]
	if tok == nil || !s.Clock.Now().Before(tok.expires) {
		return nil
	}
	return tok
}

// checkJWT returns GitHub's message for a refused App JWT, or "".
func (s *Server) checkJWT(raw string, now time.Time) string {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithJSONNumber(), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &s.PrivateKey.PublicKey, nil })
	if err != nil {
		return "A JSON web token could not be decoded"
	}
	switch iss := claims["iss"].(type) {
	case string:
		if iss != strconv.FormatInt(s.AppID, 10) {
			return "Integration not found"
		}
	case json.Number:
		if iss.String() != strconv.FormatInt(s.AppID, 10) {
			return "Integration not found"
		}
	default:
		return "'Issuer' claim ('iss') must be an Integer"
	}
	iat, ok := intClaim(claims["iat"])
	if !ok {
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."
	}
	exp, ok := intClaim(claims["exp"])
	if !ok {
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."
	}
	if time.Unix(iat, 0).After(now.Add(jwtClockSkew)) {
		return "'Issued at' claim ('iat') must be an Integer representing a time in the past."
	}
	if !time.Unix(exp, 0).After(now) {
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."
	}
	if time.Duration(exp-iat)*time.Second > jwtMaxLifetime {
		return "'Expiration time' claim ('exp') is too far in the future"
	}
	return ""
}

// intClaim accepts only integral numbers: GitHub refuses 1.5e9 as iat.
func intClaim(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	return i, err == nil
}

// AppJWT mints a valid App JWT, for tests that call /app endpoints by hand.
func (s *Server) AppJWT() string {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(now.Add(-30 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Minute)),
		Issuer:    strconv.FormatInt(s.AppID, 10),
	})
	signed, err := t.SignedString(s.PrivateKey)
	if err != nil {
		s.t.Fatalf("githubtest: signing JWT: %v", err)
	}
	return signed
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func newTokenValue() string {
	var b strings.Builder
	b.WriteString("ghs_")
	for range 36 {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(tokenAlphabet))))
		b.WriteByte(tokenAlphabet[n.Int64()])
	}
	return b.String()
}

// InstallationToken issues a token directly, for tests that need one
// without going through the App JWT flow (a clone by hand, say).
func (s *Server) InstallationToken(inst *Installation) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueToken(inst, nil).value
}

func (s *Server) issueToken(inst *Installation, repos map[int64]bool) *token {
	t := &token{value: newTokenValue(), inst: inst, expires: s.Clock.Now().Add(s.cfg.tokenLifetime), repos: repos}
	s.tokens[t.value] = t
	return t
}

// secondaryLimit enforces the content-creation budgets per installation
// (per minute and per hour, sliding windows) on the fake clock and answers
// like GitHub when either runs out: 403 with Retry-After until the oldest
// request of the full window leaves it.
func (s *Server) secondaryLimit(c *ctx, creates bool) bool {
	if c.tok == nil || !creates {
		return true
	}
	id := c.tok.inst.ID
	now := s.Clock.Now()
	s.mu.Lock()
	until := s.blockedUntil[id]
	if !now.Before(until) {
		writes := s.contentWrites[id]
		for _, w := range []struct {
			window time.Duration
			limit  int
		}{{time.Minute, s.cfg.contentLimit}, {time.Hour, s.cfg.hourlyLimit}} {
			recent := writesSince(writes, now.Add(-w.window))
			if len(recent) >= w.limit {
				until = later(until, recent[len(recent)-w.limit].Add(w.window))
			}
		}
		if now.Before(until) {
			s.blockedUntil[id] = until
		} else {
			s.contentWrites[id] = append(writes, now)
		}
	}
	s.mu.Unlock()
	if now.Before(until) {
		writeSecondaryLimit(c, int(until.Sub(now).Seconds())+1)
		return false
	}
	return true
}

// writesSince returns the tail of the sorted times that are after since.
func writesSince(times []time.Time, since time.Time) []time.Time {
	i := sort.Search(len(times), func(i int) bool { return times[i].After(since) })
	return times[i:]
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// MaxContentWritesInAnyHour is the largest number of content-creating
// requests the installation had accepted within any sliding hour: what a
// test of pacing checks against ContentCreationPerHour.
func (s *Server) MaxContentWritesInAnyHour(installationID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	writes := s.contentWrites[installationID]
	most := 0
	for i, t := range writes {
		j := sort.Search(len(writes), func(j int) bool { return !writes[j].Before(t.Add(time.Hour)) })
		most = max(most, j-i)
	}
	return most
}

func writeSecondaryLimit(c *ctx, retryAfter int) {
	f := SecondaryRateLimit(retryAfter, 1)
	applyFault(c.w, c.r, f)
}

// Primary rate limit bookkeeping is reported, not enforced: dockopt's
// volume is far below 5,000 requests an hour.
const primaryLimit = 5000

func (s *Server) rateHeaders(c *ctx) {
	used := 0
	if c.tok != nil {
		used = s.requestsThisHour(c.tok.inst.ID)
	}
	h := c.w.Header()
	h.Set("X-Ratelimit-Limit", strconv.Itoa(primaryLimit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(max(primaryLimit-used-1, 0)))
	h.Set("X-Ratelimit-Used", strconv.Itoa(used+1))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(s.Clock.Now().Truncate(time.Hour).Add(time.Hour).Unix(), 10))
	h.Set("X-Ratelimit-Resource", "core")
}

func (s *Server) requestsThisHour(inst int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestsThisHourLocked(inst)
}

// requestsThisHourLocked approximates the hour's usage by every request so
// far: calls carry no timestamps, and tests are far shorter than an hour.
func (s *Server) requestsThisHourLocked(inst int64) int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Installation == inst && c.Route != "GIT" && c.Operation != "rate-limit/get" {
			n++
		}
	}
	return n
}

// NewManifestCode returns the one-time code GitHub hands the App's
// redirect_url after a manifest registration; POST /app-manifests/{code}/
// conversions exchanges it (within an hour, once) for this server's App
// credentials.
func (s *Server) NewManifestCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randomHex(10)
	s.manifestCodes[code] = s.Clock.Now().Add(time.Hour)
	return code
}

func (s *Server) String() string { return fmt.Sprintf("githubtest.Server(%s)", s.URL()) }
