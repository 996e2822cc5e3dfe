package analyzer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
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

// A build file that names one large bundle on every line resolves it
// once: walking its aliases for each mention took seconds.
func TestGradleCatalogBundleNamedOften(t *testing.T) {
	var catalog strings.Builder
	catalog.WriteString("[libraries]\nktor = \"io.ktor:ktor-server-netty:3.1.1\"\n[bundles]\nx = [\"ktor\"")
	for i := range 20000 {
		fmt.Fprintf(&catalog, ", \"a%d\"", i)
	}
	catalog.WriteString("]\n")
	build := "dependencies {\n" + strings.Repeat("implementation(libs.bundles.x)\n", 2000) +
		"implementation(libs.ktor.get())\n" + strings.Repeat("implementation(libs.bundles.x)\n", 2000) + "}\n"
	if refs := catalogReferences(build); !slices.Equal(refs, []string{"bundles.x", "ktor"}) {
		t.Errorf("references = %q, want each named once: [bundles.x ktor]", refs)
	}
	fsys := fstest.MapFS{
		"build.gradle.kts":          {Data: []byte(build)},
		"gradle/libs.versions.toml": {Data: []byte(catalog.String())},
	}
	bc := ContextFor(fsys, "Dockerfile", ".")
	if mods := bc.gradleCatalogModules(build); !slices.Equal(mods, []string{"io.ktor:ktor-server-netty"}) {
		t.Errorf("modules = %q", mods)
	}
}
