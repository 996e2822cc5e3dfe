package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/server"
)

var (
	keyOnce sync.Once
	keyPEM  string
)

// testKey is an RSA key in PKCS#1 PEM, the form GitHub hands out.
func testKey(t testing.TB) string {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return keyPEM
}

// env returns a getenv over a complete, valid environment with changes
// applied; an empty value unsets a variable.
func env(t testing.TB, changes map[string]string) func(string) string {
	vars := map[string]string{
		server.EnvAppID:         "12345",
		server.EnvPrivateKey:    testKey(t),
		server.EnvWebhookSecret: "s3cret",
	}
	for k, v := range changes {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := server.LoadConfig(nil, env(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AppID != 12345 || string(cfg.WebhookSecret) != "s3cret" || cfg.PrivateKey == nil || string(cfg.PrivateKeyPEM) != testKey(t) {
		t.Errorf("required values: %+v", cfg)
	}
	want := map[string]string{
		"database": "sqlite://dockopt.db", "api": "https://api.github.com/", "upload": "https://uploads.github.com/",
		"addr": ":8080", "bot": "dockopt[bot]", "buildkit": "",
	}
	got := map[string]string{
		"database": cfg.DatabaseURL, "api": cfg.GitHubAPIURL, "upload": cfg.GitHubUploadURL,
		"addr": cfg.Addr, "bot": cfg.BotLogin, "buildkit": cfg.BuildKitAddr,
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s = %q, want %q", k, got[k], want[k])
		}
	}
	if cfg.Workers != 4 || cfg.MaxAttempts != 8 || cfg.JobTimeout != 30*time.Minute || cfg.ShutdownTimeout != 25*time.Second || cfg.DeadJobAfter != 2*time.Minute ||
		cfg.AnalysisMemoryMiB != 512 || cfg.AnalysisTimeout != 2*time.Minute {
		t.Errorf("tuning defaults: %+v", cfg)
	}
}

func TestLoadConfigFlagsOverrideEnvironment(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, []byte(testKey(t)), 0o600)
	cfg, err := server.LoadConfig(
		[]string{"--app-id", "777", "--addr", "127.0.0.1:9999", "--data-dir", dir, "--workers", "2",
			"--github-url", "https://ghe.example.com/", "--buildkit-addr", "unix:///run/buildkit/buildkitd.sock",
			"--private-key-file", keyFile, "--pr-hourly-limit", "5"},
		env(t, map[string]string{server.EnvAppID: "1", server.EnvAddr: ":1", server.EnvWorkers: "9", server.EnvPrivateKey: "",
			server.EnvPRHourly: "1", server.EnvPRConcurrent: "20", server.EnvContentPerHour: "300"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AppID != 777 || cfg.Addr != "127.0.0.1:9999" || cfg.Workers != 2 {
		t.Errorf("flags did not win: %+v", cfg)
	}
	if cfg.PRHourlyLimit != 5 || cfg.PRConcurrentLimit != 20 || cfg.ContentPerHour != 300 {
		t.Errorf("pacing: hourly %d, concurrent %d, content %d; want 5 (flag), 20 and 300", cfg.PRHourlyLimit, cfg.PRConcurrentLimit, cfg.ContentPerHour)
	}
	if cfg.DatabaseURL != "sqlite://"+filepath.Join(dir, "dockopt.db") {
		t.Errorf("database under the data dir: %q", cfg.DatabaseURL)
	}
	if cfg.GitHubAPIURL != "https://ghe.example.com/api/v3/" || cfg.GitHubUploadURL != "https://ghe.example.com/api/uploads/" {
		t.Errorf("GHES URLs: %q %q", cfg.GitHubAPIURL, cfg.GitHubUploadURL)
	}
	if cfg.PrivateKey == nil {
		t.Error("key file not read")
	}
}

func TestLoadConfigKeyForms(t *testing.T) {
	// A key in one line with \n escapes, as some secret stores hold it.
	oneLine := strings.ReplaceAll(testKey(t), "\n", `\n`)
	if _, err := server.LoadConfig(nil, env(t, map[string]string{server.EnvPrivateKey: oneLine})); err != nil {
		t.Errorf("escaped newlines: %v", err)
	}
	// PKCS#8, as openssl genpkey writes it.
	block, _ := pem.Decode([]byte(testKey(t)))
	k, _ := x509.ParsePKCS1PrivateKey(block.Bytes)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if _, err := server.LoadConfig(nil, env(t, map[string]string{server.EnvPrivateKey: pkcs8})); err != nil {
		t.Errorf("PKCS#8: %v", err)
	}
	// The API URL of a GHES host is accepted as well as its web URL.
	cfg, err := server.LoadConfig(nil, env(t, map[string]string{server.EnvGitHubURL: "https://ghe.example.com/api/v3"}))
	if err != nil || cfg.GitHubAPIURL != "https://ghe.example.com/api/v3/" {
		t.Errorf("GHES API URL: %q, %v", cfg.GitHubAPIURL, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	cases := []struct {
		name    string
		changes map[string]string
		args    []string
		want    string // the variable the error names
	}{
		{"no app id", map[string]string{server.EnvAppID: ""}, nil, server.EnvAppID},
		{"non-numeric app id", map[string]string{server.EnvAppID: "dockopt"}, nil, server.EnvAppID},
		{"negative app id", map[string]string{server.EnvAppID: "-3"}, nil, server.EnvAppID},
		{"no key", map[string]string{server.EnvPrivateKey: ""}, nil, server.EnvPrivateKey},
		{"key not PEM", map[string]string{server.EnvPrivateKey: "ssh-rsa AAAA"}, nil, server.EnvPrivateKey},
		{"key garbled", map[string]string{server.EnvPrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"}, nil, server.EnvPrivateKey},
		{"key not RSA", map[string]string{server.EnvPrivateKey: ecPEM}, nil, server.EnvPrivateKey},
		{"key file missing", map[string]string{server.EnvPrivateKey: "", server.EnvPrivateKeyFile: "/nonexistent/key.pem"}, nil, server.EnvPrivateKeyFile},
		{"two keys", map[string]string{server.EnvPrivateKeyFile: "/k.pem"}, nil, server.EnvPrivateKey},
		{"no secret", map[string]string{server.EnvWebhookSecret: ""}, nil, server.EnvWebhookSecret},
		{"database scheme", map[string]string{server.EnvDatabaseURL: "mysql://db/dockopt"}, nil, server.EnvDatabaseURL},
		{"database no host", map[string]string{server.EnvDatabaseURL: "postgres:///dockopt"}, nil, server.EnvDatabaseURL},
		{"database empty sqlite", map[string]string{server.EnvDatabaseURL: "sqlite://"}, nil, server.EnvDatabaseURL},
		{"github url without scheme", map[string]string{server.EnvGitHubURL: "ghe.example.com"}, nil, server.EnvGitHubURL},
		{"addr without port", map[string]string{server.EnvAddr: "localhost"}, nil, server.EnvAddr},
		{"addr bad port", map[string]string{server.EnvAddr: ":http2"}, nil, server.EnvAddr},
		{"buildkit without scheme", map[string]string{server.EnvBuildKitAddr: "/run/buildkit/buildkitd.sock"}, nil, server.EnvBuildKitAddr},
		{"bot login", map[string]string{server.EnvBotLogin: "@dockopt"}, nil, server.EnvBotLogin},
		{"workers", map[string]string{server.EnvWorkers: "0"}, nil, server.EnvWorkers},
		{"max attempts", map[string]string{server.EnvMaxAttempts: "many"}, nil, server.EnvMaxAttempts},
		{"job timeout", map[string]string{server.EnvJobTimeout: "10"}, nil, server.EnvJobTimeout},
		{"shutdown timeout", map[string]string{server.EnvShutdownTimeout: "-1s"}, nil, server.EnvShutdownTimeout},
		{"dead job after", map[string]string{server.EnvDeadJobAfter: "2"}, nil, server.EnvDeadJobAfter},
		{"analysis memory", map[string]string{server.EnvAnalysisMemory: "0"}, nil, server.EnvAnalysisMemory},
		{"analysis timeout", map[string]string{server.EnvAnalysisTimeout: "2"}, nil, server.EnvAnalysisTimeout},
		{"log level", map[string]string{server.EnvLogLevel: "loud"}, nil, server.EnvLogLevel},
		{"pr concurrent limit", map[string]string{server.EnvPRConcurrent: "0"}, nil, server.EnvPRConcurrent},
		{"pr hourly limit", map[string]string{server.EnvPRHourly: "two"}, nil, server.EnvPRHourly},
		{"content over GitHub's limit", map[string]string{server.EnvContentPerHour: "900"}, nil, server.EnvContentPerHour},
		{"bad flag value", nil, []string{"--app-id", "x"}, server.EnvAppID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := server.LoadConfig(c.args, env(t, c.changes))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), c.want+": ") || strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("error %q, want one error naming %s", err, c.want)
			}
		})
	}
	// Everything wrong at once: every problem is reported.
	_, err := server.LoadConfig(nil, func(string) string { return "" })
	for _, v := range []string{server.EnvAppID, server.EnvPrivateKey, server.EnvWebhookSecret} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("empty environment: %v, want %s named", err, v)
		}
	}
	if _, err := server.LoadConfig([]string{"--no-such-flag"}, env(t, nil)); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := server.LoadConfig([]string{"extra"}, env(t, nil)); err == nil {
		t.Error("positional argument accepted")
	}
}
