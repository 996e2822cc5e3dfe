package server

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dockopt/dockopt/app/metrics"
	"github.com/dockopt/dockopt/app/queue"
	"github.com/dockopt/dockopt/app/sandbox"
)

// Config is what `dockopt-app serve` runs with.
type Config struct {
	AppID int64
	// PrivateKeyPEM is the app's private key as GitHub issued it; PrivateKey
	// is the same key parsed (ghinstallation wants the PEM).
	PrivateKeyPEM []byte
	PrivateKey    *rsa.PrivateKey
	WebhookSecret []byte
	// DatabaseURL is postgres://… or sqlite://PATH.
	DatabaseURL string
	// GitHubAPIURL and GitHubUploadURL end with "/": https://api.github.com/
	// and https://uploads.github.com/, or a GHES host's /api/v3/ and
	// /api/uploads/.
	GitHubAPIURL    string
	GitHubUploadURL string
	Addr            string
	BuildKitAddr    string // empty: no real builds
	BotLogin        string
	DataDir         string
	Workers         int
	MaxAttempts     int
	JobTimeout      time.Duration
	// ShutdownTimeout bounds a graceful stop: in-flight requests, then
	// running jobs; jobs still running are then cancelled, which takes up
	// to queue.CancelGrace more. The deployment's grace period before
	// SIGKILL must cover both (the chart and compose file set 40 s).
	ShutdownTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before it is
	// taken to belong to a dead process and run again (default: the job
	// timeout plus five minutes). Tests of crash recovery set it short.
	RescueStuckJobsAfter time.Duration
	// AnalysisMemoryMiB and AnalysisTimeout are the budget of one
	// repository's analysis in its child process (app/sandbox).
	AnalysisMemoryMiB int
	AnalysisTimeout   time.Duration
	// DeadJobAfter is how long a running job's process may show no sign
	// of life before the job runs again (queue.DefaultDeadJobAfter).
	DeadJobAfter time.Duration
	// LeaderElectionDisabled keeps this replica out of River's maintenance
	// (rescuing stuck jobs, pruning); another replica must do it.
	LeaderElectionDisabled bool
	LogLevel               slog.Level
	// PRConcurrentLimit and PRHourlyLimit pace each installation's pull
	// requests (at most that many open, that many new in any hour);
	// ContentPerHour is its budget of content-creating requests. Zero
	// means the worker's defaults (10, 2 and 450).
	PRConcurrentLimit int
	PRHourlyLimit     int
	ContentPerHour    int

	// Logger and Metrics are not read from the environment: Command sets
	// them, and the job handlers it builds share them (Server.Logger,
	// Server.Metrics). New makes them when nil.
	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

// DefaultShutdownTimeout is ShutdownTimeout unless DOCKOPT_SHUTDOWN_TIMEOUT
// says otherwise: under Kubernetes' default 30 s grace period together with
// queue.CancelGrace it would not fit, so the chart sets 40 s.
const DefaultShutdownTimeout = 25 * time.Second

// Environment variables read by LoadConfig; flags override them.
const (
	EnvAppID           = "DOCKOPT_APP_ID"
	EnvPrivateKey      = "DOCKOPT_PRIVATE_KEY"
	EnvPrivateKeyFile  = "DOCKOPT_PRIVATE_KEY_FILE"
	EnvWebhookSecret   = "DOCKOPT_WEBHOOK_SECRET"
	EnvDatabaseURL     = "DOCKOPT_DATABASE_URL"
	EnvGitHubURL       = "DOCKOPT_GITHUB_URL"
	EnvAddr            = "DOCKOPT_ADDR"
	EnvBuildKitAddr    = "DOCKOPT_BUILDKIT_ADDR"
	EnvBotLogin        = "DOCKOPT_BOT_LOGIN"
	EnvDataDir         = "DOCKOPT_DATA_DIR"
	EnvWorkers         = "DOCKOPT_WORKERS"
	EnvMaxAttempts     = "DOCKOPT_MAX_ATTEMPTS"
	EnvJobTimeout      = "DOCKOPT_JOB_TIMEOUT"
	EnvShutdownTimeout = "DOCKOPT_SHUTDOWN_TIMEOUT"
	EnvDeadJobAfter    = "DOCKOPT_DEAD_JOB_AFTER"
	EnvAnalysisMemory  = "DOCKOPT_ANALYSIS_MEMORY_MIB"
	EnvAnalysisTimeout = "DOCKOPT_ANALYSIS_TIMEOUT"
	EnvLogLevel        = "DOCKOPT_LOG_LEVEL"
	EnvPRConcurrent    = "DOCKOPT_PR_CONCURRENT_LIMIT"
	EnvPRHourly        = "DOCKOPT_PR_HOURLY_LIMIT"
	EnvContentPerHour  = "DOCKOPT_CONTENT_PER_HOUR"
)

// ErrHelp is returned by LoadConfig for -h/--help, after printing usage.
var ErrHelp = flag.ErrHelp

// LoadConfig reads the configuration from args (flags, without the command
// name) and getenv. Flags override the environment. Every missing or
// malformed value is reported, each naming its variable.
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	return loadConfig(args, getenv, io.Discard)
}

func loadConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("dockopt-app serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(usage, "usage: dockopt-app serve [flags]\n\nRuns the GitHub App: takes webhook deliveries, queues them and runs the jobs.\nEvery flag can be given in the environment instead; secrets only there.\n\nflags:\n")
		fs.PrintDefaults()
	}
	// Secrets have no flag: command lines are visible to every user of the
	// machine. The key can be given as a file.
	v := map[string]*string{}
	str := func(env, name, usage string) {
		v[env] = fs.String(name, "", usage+" (env "+env+")")
	}
	str(EnvAppID, "app-id", "GitHub App ID")
	str(EnvPrivateKeyFile, "private-key-file", "file holding the app's PEM private key")
	str(EnvDatabaseURL, "database-url", "postgres://… or sqlite://PATH (default sqlite://DATA_DIR/dockopt.db)")
	str(EnvGitHubURL, "github-url", "GitHub Enterprise Server URL, e.g. https://ghe.example.com (default github.com)")
	str(EnvAddr, "addr", "listen address (default :8080)")
	str(EnvBuildKitAddr, "buildkit-addr", "BuildKit daemon address, e.g. unix:///run/buildkit/buildkitd.sock (default: no builds)")
	str(EnvBotLogin, "bot-login", "the app's bot login (default dockopt[bot])")
	str(EnvDataDir, "data-dir", "directory for the SQLite database (default .)")
	str(EnvWorkers, "workers", "jobs run at once (default 4)")
	str(EnvMaxAttempts, "max-attempts", "runs of a failing job before it is given up (default 8)")
	str(EnvJobTimeout, "job-timeout", "time limit of one job (default 30m)")
	str(EnvAnalysisMemory, "analysis-memory-mib", "memory budget of one repository's analysis, run in a child process (default "+strconv.Itoa(sandbox.DefaultMemoryMiB)+")")
	str(EnvAnalysisTimeout, "analysis-timeout", "time budget of one repository's analysis (default "+sandbox.DefaultTimeout.String()+")")
	str(EnvDeadJobAfter, "dead-job-after", "a running job whose process shows no sign of life for this long runs again (default "+queue.DefaultDeadJobAfter.String()+")")
	str(EnvShutdownTimeout, "shutdown-timeout", "time given to requests and jobs on shutdown (default "+DefaultShutdownTimeout.String()+")")
	str(EnvLogLevel, "log-level", "debug, info, warn or error (default info)")
	str(EnvPRConcurrent, "pr-concurrent-limit", "dockopt pull requests open at once per installation (default 10)")
	str(EnvPRHourly, "pr-hourly-limit", "new dockopt pull requests per installation in any hour (default 2)")
	str(EnvContentPerHour, "content-per-hour", "content-creating GitHub requests per installation in any hour, at most 500 (default 450)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	get := func(env string) string {
		if p, ok := v[env]; ok && *p != "" {
			return strings.TrimSpace(*p)
		}
		return strings.TrimSpace(getenv(env))
	}

	var cfg Config
	var errs []error
	fail := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{env}, args...)...))
	}

	switch s := get(EnvAppID); {
	case s == "":
		fail(EnvAppID, "required: the GitHub App's numeric ID")
	default:
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			fail(EnvAppID, "%q is not a positive number", s)
		}
		cfg.AppID = id
	}

	keyText, keyFile := getenv(EnvPrivateKey), get(EnvPrivateKeyFile)
	keyVar := EnvPrivateKey
	switch {
	case keyText != "" && keyFile != "":
		fail(EnvPrivateKey, "set either %s or %s, not both", EnvPrivateKey, EnvPrivateKeyFile)
	case keyFile != "":
		keyVar = EnvPrivateKeyFile
		b, err := os.ReadFile(keyFile)
		if err != nil {
			fail(EnvPrivateKeyFile, "%v", err)
		}
		keyText = string(b)
	case keyText == "":
		fail(EnvPrivateKey, "required (or %s): the app's private key in PEM", EnvPrivateKeyFile)
	}
	if keyText != "" {
		// Some deployment tools cannot hold newlines in a variable.
		if !strings.Contains(keyText, "\n") {
			keyText = strings.ReplaceAll(keyText, `\n`, "\n")
		}
		key, err := ParseRSAKey([]byte(keyText))
		if err != nil {
			fail(keyVar, "%v", err)
		}
		cfg.PrivateKeyPEM, cfg.PrivateKey = []byte(keyText), key
	}

	if s := getenv(EnvWebhookSecret); s == "" {
		fail(EnvWebhookSecret, "required: the webhook secret set in the app's settings (unsigned deliveries are never accepted)")
	} else {
		cfg.WebhookSecret = []byte(s)
	}

	cfg.DataDir = get(EnvDataDir)
	if cfg.DataDir == "" {
		cfg.DataDir = "."
	}
	cfg.DatabaseURL = get(EnvDatabaseURL)
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = "sqlite://" + filepath.Join(cfg.DataDir, "dockopt.db")
	}
	if err := checkDatabaseURL(cfg.DatabaseURL); err != nil {
		fail(EnvDatabaseURL, "%v", err)
	}

	cfg.GitHubAPIURL, cfg.GitHubUploadURL = "https://api.github.com/", "https://uploads.github.com/"
	if s := get(EnvGitHubURL); s != "" {
		api, upload, err := gitHubURLs(s)
		if err != nil {
			fail(EnvGitHubURL, "%v", err)
		}
		cfg.GitHubAPIURL, cfg.GitHubUploadURL = api, upload
	}

	cfg.Addr = get(EnvAddr)
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if _, port, err := net.SplitHostPort(cfg.Addr); err != nil {
		fail(EnvAddr, "%q is not host:port (for example :8080)", cfg.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		fail(EnvAddr, "%q has no valid port", cfg.Addr)
	}

	if s := get(EnvBuildKitAddr); s != "" {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			fail(EnvBuildKitAddr, "%q needs a scheme, e.g. unix:///run/buildkit/buildkitd.sock or tcp://buildkitd:1234", s)
		}
		cfg.BuildKitAddr = s
	}

	cfg.BotLogin = get(EnvBotLogin)
	if cfg.BotLogin == "" {
		cfg.BotLogin = "dockopt[bot]"
	}
	if strings.ContainsAny(cfg.BotLogin, " /@") {
		fail(EnvBotLogin, "%q is not a GitHub login (e.g. dockopt[bot])", cfg.BotLogin)
	}

	positive := func(env string, def int) int {
		s := get(env)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			fail(env, "%q is not a positive whole number", s)
		}
		return n
	}
	cfg.Workers = positive(EnvWorkers, 4)
	cfg.MaxAttempts = positive(EnvMaxAttempts, 8)
	cfg.AnalysisMemoryMiB = positive(EnvAnalysisMemory, sandbox.DefaultMemoryMiB)
	cfg.PRConcurrentLimit = positive(EnvPRConcurrent, 0)
	cfg.PRHourlyLimit = positive(EnvPRHourly, 0)
	if cfg.ContentPerHour = positive(EnvContentPerHour, 0); cfg.ContentPerHour > 500 {
		fail(EnvContentPerHour, "%d is more than GitHub's 500 an hour", cfg.ContentPerHour)
	}

	duration := func(env string, def time.Duration) time.Duration {
		s := get(env)
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			fail(env, "%q is not a positive duration such as 30s or 10m", s)
		}
		return d
	}
	cfg.JobTimeout = duration(EnvJobTimeout, 30*time.Minute)
	cfg.ShutdownTimeout = duration(EnvShutdownTimeout, DefaultShutdownTimeout)
	cfg.DeadJobAfter = duration(EnvDeadJobAfter, queue.DefaultDeadJobAfter)
	cfg.AnalysisTimeout = duration(EnvAnalysisTimeout, sandbox.DefaultTimeout)

	if s := get(EnvLogLevel); s != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(s)); err != nil {
			fail(EnvLogLevel, "%q is not debug, info, warn or error", s)
		}
	}
	return cfg, errors.Join(errs...)
}

// ParseRSAKey parses an app private key in PEM (PKCS#1 or PKCS#8).
func ParseRSAKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not a PEM block (expected -----BEGIN RSA PRIVATE KEY-----)")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the %s PEM block does not parse as a private key", block.Type)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T; GitHub App keys are RSA", k)
	}
	return rk, nil
}

func checkDatabaseURL(s string) error {
	switch {
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return errors.New("the PostgreSQL URL has no host (postgres://user@host:5432/db)")
		}
	case strings.HasPrefix(s, "sqlite://"), strings.HasPrefix(s, "sqlite:"), strings.HasPrefix(s, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(s, "sqlite://"), "sqlite:"), "file:")
		if path == "" || strings.Contains(path, "?") {
			return fmt.Errorf("%q: want sqlite://PATH, with no query", s)
		}
	default:
		return fmt.Errorf("%q: want postgres://… or sqlite://PATH", s)
	}
	return nil
}

// gitHubURLs derives the REST and upload URLs of a GHES host from its web
// URL (or its /api/v3 URL).
func gitHubURLs(s string) (api, upload string, err error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", fmt.Errorf("%q is not an http(s) URL such as https://ghe.example.com", s)
	}
	if u.Host == "github.com" || u.Host == "api.github.com" {
		return "https://api.github.com/", "https://uploads.github.com/", nil
	}
	path := strings.TrimSuffix(u.Path, "/")
	path = strings.TrimSuffix(path, "/api/v3")
	base := u.Scheme + "://" + u.Host + path
	return base + "/api/v3/", base + "/api/uploads/", nil
}
