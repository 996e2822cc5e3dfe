package analyzer

import (
	"fmt"
	"slices"
	"strings"
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

// A configuration that names more ports than a real one does (a hostile
// Caddyfile or nginx.conf with tens of thousands of sites) is not read
// past maxListenPorts: each port was compared with all those before it
// (0.9 s of CPU for 65,000 Caddy sites) and all were named in a message.
func TestConfigListenPortsBounded(t *testing.T) {
	var sites strings.Builder
	for p := 1; p <= 1000; p++ {
		fmt.Fprintf(&sites, ":%d {\n}\n", 1000+p)
	}
	cl := configListen{server: "caddy", dir: "/etc/caddy", line: 2}
	cl.add(caddyfileSites(sites.String()))
	if cl.known() || len(cl.ports) > 32 {
		t.Errorf("1000 sites: known %v with %d ports, want not known past 32", cl.known(), len(cl.ports))
	}
	if want := "the configuration copied into /etc/caddy on line 2 makes caddy listen on more than 32 ports, more than dockopt reads"; cl.unknown() != want {
		t.Errorf("unknown() = %q, want %q", cl.unknown(), want)
	}
}
