package analyzer

import (
	"slices"
	"testing"
)

func TestCaddyfileSites(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"stock", ":80 {\n\troot * /usr/share/caddy\n\tfile_server\n}\n", []string{":80"}},
		{"domain", "example.com, www.example.com {\n\treverse_proxy app:3000\n}\n", []string{"443", "443"}},
		{"http scheme", "http://example.com {\n\trespond ok\n}\n", []string{"80"}},
		{"one site", "localhost:2080\n\nreverse_proxy :9000\n", []string{":2080"}},
		{"placeholder", ":{$PORT} {\n\tfile_server\n}\n", []string{":{$PORT}"}},
		{"global http_port", "{\n\thttp_port 8080\n}\n:80 {\n\tfile_server\n}\n", []string{"{http_port}", ":80"}},
		{"snippet and import", "(common) {\n\tencode gzip\n}\nimport sites/*\n:8080 {\n\timport common\n}\n", []string{"{import}", ":8080"}},
		{"comments", "# the site\n:8081 { # inline\n\tfile_server\n}\n", []string{":8081"}},
	} {
		if got := caddyfileSites(c.text); !slices.Equal(got, c.want) {
			t.Errorf("%s: caddyfileSites = %q, want %q", c.name, got, c.want)
		}
	}
}
