package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// TestSecretsAgainstBuildKit compares secrets-in-arg-env with BuildKit's
// SecretsUsedInArgOrEnv: dockopt must report every real secret BuildKit
// reports, and stay quiet on the allow-listed names BuildKit flags.
func TestSecretsAgainstBuildKit(t *testing.T) {
	secrets := []string{"NPM_TOKEN", "DB_PASSWORD", "DJANGO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
		"API_KEY", "PRIVATE_KEY", "MYSQL_ROOT_PASSWORD", "CLIENT_SECRET", "AUTH_TOKEN", "REGISTRY_CREDENTIALS"}
	allowed := []string{"PUBLIC_KEY", "SIGNING_PUBLIC_KEY", "TOKEN_VERSION", "DB_PASSWORD_FILE", "SSH_KEY_PATH",
		"TOKEN_URL", "SECRET_NAME", "PASSWORD_ENABLED", "AUTH_HEADER", "GPG_KEY", "CLIENT_ID"}
	a := analyzer.New(All())
	check := func(name string) (dockopt, buildkit bool) {
		src := fmt.Sprintf("FROM alpine:3.22\nARG %s\nENV %s=value\n", name, name+"_E")
		if strings.HasSuffix(name, "_FILE") || strings.HasSuffix(name, "_PATH") || strings.HasSuffix(name, "_VERSION") ||
			strings.HasSuffix(name, "_URL") || strings.HasSuffix(name, "_NAME") || strings.HasSuffix(name, "_ENABLED") ||
			strings.HasSuffix(name, "_HEADER") || strings.HasSuffix(name, "_ID") {
			src = fmt.Sprintf("FROM alpine:3.22\nARG %s\n", name)
		}
		fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", []byte(src), nil, nil)
		for _, f := range fr.Findings {
			if f.Rule == SecretsInArgEnv.ID && f.Line == 2 {
				dockopt = true
			}
		}
		ws, _ := analyzer.BuildKitLint(t.Context(), []byte(src))
		for _, w := range ws {
			if w.Rule == "SecretsUsedInArgOrEnv" && w.StartLine == 2 {
				buildkit = true
			}
		}
		return dockopt, buildkit
	}
	bkSecrets, bkAllowed := 0, 0
	for _, n := range secrets {
		d, b := check(n)
		if !d {
			t.Errorf("%s: dockopt does not report it (BuildKit: %v)", n, b)
		}
		if b {
			bkSecrets++
		}
	}
	for _, n := range allowed {
		d, b := check(n)
		if d {
			t.Errorf("%s is allow-listed but dockopt reports it", n)
		}
		if b {
			bkAllowed++
		}
	}
	if bkSecrets == 0 {
		t.Error("BuildKit reported none of the secrets: the comparison proves nothing")
	}
	if bkAllowed == 0 {
		t.Error("BuildKit reported none of the allow-listed names: dockopt is not quieter than BuildKit on this list")
	}
	t.Logf("BuildKit flags %d/%d secrets and %d/%d allow-listed names; dockopt %d/%d and 0/%d",
		bkSecrets, len(secrets), bkAllowed, len(allowed), len(secrets), len(secrets), len(allowed))
}
