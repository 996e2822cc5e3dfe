package analyzer

import (
	"slices"
	"testing"
)

func TestParseGradleCatalog(t *testing.T) {
	libs, bundles := parseGradleCatalog(`
[versions]
ktor = "3.1.1"
[libraries]
ktor-server-netty = { module = "io.ktor:ktor-server-netty", version.ref = "ktor" }
"quarkus-rest" = { group = "io.quarkus", name = "quarkus-rest" }
micronaut_http_server_netty = "io.micronaut:micronaut-http-server-netty:4.7.0" # engine
broken = "no-colon"
[bundles]
server = ["ktor-server-netty", # the engine
  "quarkus-rest"]
[plugins]
ktor = { id = "io.ktor.plugin", version.ref = "ktor" }
`)
	want := map[string]string{
		"ktor.server.netty":           "io.ktor:ktor-server-netty",
		"quarkus.rest":                "io.quarkus:quarkus-rest",
		"micronaut.http.server.netty": "io.micronaut:micronaut-http-server-netty",
	}
	if len(libs) != len(want) {
		t.Errorf("libraries = %v, want %v", libs, want)
	}
	for k, v := range want {
		if libs[k] != v {
			t.Errorf("libraries[%q] = %q, want %q", k, libs[k], v)
		}
	}
	if got := bundles["server"]; !slices.Equal(got, []string{"ktor.server.netty", "quarkus.rest"}) {
		t.Errorf("bundles[server] = %q", got)
	}
}
