package rules

import (
	"regexp"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// SecretsInArgEnv finds secrets passed through ARG or ENV.
var SecretsInArgEnv = &analyzer.Rule{
	ID:       "secrets-in-arg-env",
	Category: analyzer.CategorySecurity,
	Severity: analyzer.SeverityWarning,
	Title:    "Secret passed through ARG or ENV",
	Rationale: `ENV values are stored in the image configuration and ARG values in its build history: anyone who ` +
		`can pull the image can read them with docker inspect or docker history, long after the credential ` +
		`was meant to be used once. BuildKit secret mounts (RUN --mount=type=secret) hand a secret to one ` +
		`RUN without writing it to any layer. Names are matched with an allow-list (PUBLIC_KEY, *_VERSION, ` +
		`*_FILE, *_PATH, *_URL, *_ID, *_NAME, …) because guessing from names alone is noisy; values that look ` +
		`like real credentials (AWS access keys, GitHub tokens, private keys) are flagged whatever the name. ` +
		`Unlike hadolint and BuildKit, an AWS_ACCESS_KEY_ID name alone is not reported: the key ID names the ` +
		`key and AWS does not treat it as secret; the AWS_SECRET_ACCESS_KEY passed beside it is reported.`,
	Bad:         "FROM node:22-slim\nARG NPM_TOKEN\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > .npmrc && npm ci\n",
	Good:        "FROM node:22-slim\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n",
	Equivalents: []string{"buildkit:SecretsUsedInArgOrEnv", "hadolint:DL3064"},
	Check: func(p *analyzer.Pass) {
		for in := range p.File.Each("") {
			var keys, values []string
			switch c := in.Command.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					keys = append(keys, kv.Key)
					v := ""
					if kv.Value != nil {
						v = *kv.Value
					}
					values = append(values, v)
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					keys = append(keys, kv.Key)
					values = append(values, kv.Value)
				}
			default:
				continue
			}
			for i, k := range keys {
				if kind := credentialValue(values[i]); kind != "" {
					p.Reportf(in, "%s %s holds what looks like %s; it is stored in the image for anyone who can pull it. Revoke it, and pass secrets with RUN --mount=type=secret instead", in.Keyword, k, kind)
					continue
				}
				if secretName(k) {
					p.Reportf(in, "%s %s looks like a secret and is stored in the image %s; use RUN --mount=type=secret,id=%s for the RUN that needs it (read /run/secrets/%s), or provide it at run time",
						in.Keyword, k, map[string]string{"ARG": "build history", "ENV": "configuration"}[in.Keyword], strings.ToLower(k), strings.ToLower(k))
				}
			}
		}
	},
}

var secretTokens = map[string]bool{
	"PASSWORD": true, "PASSWD": true, "PASS": true, "PWORD": true, "SECRET": true, "SECRETS": true, "TOKEN": true,
	"APIKEY": true, "CREDENTIALS": true, "CREDENTIAL": true, "CREDS": true, "PASSPHRASE": true, "AUTHTOKEN": true,
}

// keyQualifiers make a following KEY a secret: API_KEY, PRIVATE_KEY …
// (GPG_KEY, SORT_KEY or CACHE_KEY are not).
var keyQualifiers = map[string]bool{
	"API": true, "ACCESS": true, "PRIVATE": true, "SECRET": true, "SIGNING": true, "ENCRYPTION": true,
	"MASTER": true, "CLIENT": true, "LICENSE": true, "AUTH": true, "SSH": true, "ADMIN": true, "SERVICE": true,
}

var allowedSuffixes = []string{"_VERSION", "_FILE", "_PATH", "_DIR", "_ENABLED", "_NAME", "_HEADER", "_URL", "_URI",
	"_ENDPOINT", "_HOST", "_PORT", "_TTL", "_EXPIRY", "_TIMEOUT", "_LENGTH", "_TYPE", "_LOCATION", "_MOUNT", "_ID"}

// secretName reports whether an ARG or ENV name suggests a secret.
func secretName(name string) bool {
	up := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	tokens := strings.FieldsFunc(up, func(r rune) bool { return r == '_' })
	for _, t := range tokens {
		if t == "PUBLIC" || t == "PUB" {
			return false
		}
	}
	for _, s := range allowedSuffixes {
		if strings.HasSuffix(up, s) && !(s == "_ID" && strings.HasSuffix(up, "_SECRET_ID")) {
			return false
		}
	}
	if up == "TOKEN_URL" {
		return false
	}
	for i, t := range tokens {
		if secretTokens[t] {
			return true
		}
		if t == "KEY" && i > 0 && keyQualifiers[tokens[i-1]] {
			return true
		}
		if strings.HasSuffix(t, "PASSWORD") || strings.HasSuffix(t, "SECRET") || strings.HasSuffix(t, "TOKEN") || t == "PRIVATEKEY" || t == "ACCESSKEY" || t == "SECRETKEY" {
			return true
		}
	}
	return false
}

var credentialPatterns = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`), "an AWS access key"},
	{regexp.MustCompile(`\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}`), "a GitHub token"},
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`), "a private key"},
	{regexp.MustCompile(`\bxox[bpars]-[A-Za-z0-9-]{10,}`), "a Slack token"},
	{regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20}\b`), "a GitLab token"},
	{regexp.MustCompile(`\b[a-z][a-z0-9+.-]*://[^/\s:@$]+:[^/\s@$]+@`), "a URL with a password"},
}

// credentialValue names the kind of credential a value looks like, "".
func credentialValue(v string) string {
	for _, p := range credentialPatterns {
		if p.re.MatchString(v) {
			return p.kind
		}
	}
	return ""
}
