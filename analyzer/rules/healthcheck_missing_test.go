package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

// TestNextStandaloneHostname: the reason a probe of the standalone
// server.js is withheld names the HOSTNAME the Dockerfile sets; an
// address that includes 127.0.0.1 lets the probe through.
func TestNextStandaloneHostname(t *testing.T) {
	a := analyzer.New(All())
	fsys := fstest.MapFS{"package.json": &fstest.MapFile{Data: []byte(`{"dependencies":{"next":"14.2.3"}}`)}}
	bc := analyzer.ContextFor(fsys, "Dockerfile", ".")
	for _, c := range []struct{ env, want string }{
		{"", "Docker sets HOSTNAME to the container's id"},
		{"ENV HOSTNAME=localhost\n", "HOSTNAME is set to localhost, so the server listens only on the one address Node resolves it to, which may be ::1"},
		{"ENV HOSTNAME=web\n", "HOSTNAME is set to web, so the server listens only on the one address Node resolves that name to"},
		{"ENV HOSTNAME=10.0.0.5\n", "HOSTNAME is set to 10.0.0.5, so the server listens on that address only"},
		{"ENV HOSTNAME=::1\n", "HOSTNAME is set to ::1, so the server listens on that address only"},
		{"ENV HOSTNAME=\"\"\n", "HOSTNAME is set empty"},
		{"ENV HOSTNAME=0.0.0.0\n", ""},
		{"ENV HOSTNAME=\"::\"\n", ""},
		{"ENV HOSTNAME=127.0.0.1\n", ""},
	} {
		src := "FROM node:20-alpine\nWORKDIR /app\nCOPY .next/standalone ./\n" + c.env + "EXPOSE 3000\nCMD [\"node\", \"server.js\"]\n"
		fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", []byte(src), bc, nil)
		if fr.Error != "" {
			t.Fatalf("%q: %s", c.env, fr.Error)
		}
		i := slices.IndexFunc(fr.Findings, func(f analyzer.Finding) bool { return f.Rule == HealthcheckMissing.ID })
		if i < 0 {
			t.Fatalf("%q: no healthcheck-missing finding", c.env)
		}
		f := fr.Findings[i]
		withheld := strings.Contains(f.Message, "Next.js's standalone output")
		switch {
		case c.want == "" && withheld:
			t.Errorf("%q: probe withheld: %s", c.env, f.Message)
		case c.want != "" && !strings.Contains(f.Message, c.want):
			t.Errorf("%q: %s\nwant it to say %q", c.env, f.Message, c.want)
		}
	}
}

// TestCopiedServerConfigBudget checks that healthcheck-missing reads a
// bounded amount of copied nginx configuration: past it, the probe of the
// base image's port is withheld, not proposed from what was read so far.
// The same file copied many times is read once.
func TestCopiedServerConfigBudget(t *testing.T) {
	a := analyzer.New(All())
	big := strings.Repeat("server { server_name example.com; }\n", 5000) // 180 KB
	fsys := fstest.MapFS{"site/index.html": &fstest.MapFile{Data: []byte("<!doctype html>")}}
	var many, same strings.Builder
	for i := range 16 {
		name := fmt.Sprintf("conf/site%d.conf", i)
		fsys[name] = &fstest.MapFile{Data: []byte(big)}
		fmt.Fprintf(&many, "COPY %s /etc/nginx/conf.d/\n", name)
		fmt.Fprintf(&same, "COPY conf/site0.conf /etc/nginx/conf.d/\n")
	}
	bc := analyzer.ContextFor(fsys, "Dockerfile", ".")
	message := func(copies string) string {
		src := []byte("FROM nginx:1.27-alpine\n" + copies + "COPY site /usr/share/nginx/html\n")
		fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", src, bc, nil)
		if fr.Error != "" {
			t.Fatal(fr.Error)
		}
		for _, f := range fr.Findings {
			if f.Rule == HealthcheckMissing.ID {
				if f.Fix == nil {
					return f.Message
				}
				return f.Message + " | fix: " + f.Fix.Message
			}
		}
		return ""
	}
	// The twelfth file (line 13) takes the reading past 2 MiB.
	want := "no fix: line 13 copies more configuration into /etc/nginx than dockopt reads; it may move nginx off port 80, which the base image EXPOSEs for its stock configuration"
	if got := message(many.String()); !strings.HasSuffix(got, want) {
		t.Errorf("sixteen large configurations:\n got %s\nwant …%s", got, want)
	}
	if got := message(same.String()); strings.Contains(got, "no fix") || !strings.Contains(got, "| fix:") {
		t.Errorf("one configuration copied sixteen times is not judged: %s", got)
	}
}

// TestKestrelScanBudget checks that the ASP.NET entry points read for a
// Kestrel binding are bounded: past 1 MiB, the code may bind Kestrel
// where dockopt did not look, and the EXPOSE is taken as written rather
// than replaced by the image's 8080.
func TestKestrelScanBudget(t *testing.T) {
	a := analyzer.New(All())
	big := strings.Repeat("// var x = 1;\n", 45000) // 630 KB
	fsys := fstest.MapFS{
		"api/Program.cs":    &fstest.MapFile{Data: []byte(big)},
		"worker/Program.cs": &fstest.MapFile{Data: []byte(big)},
	}
	bc := analyzer.ContextFor(fsys, "Dockerfile", ".")
	src := []byte("FROM mcr.microsoft.com/dotnet/aspnet:8.0\n" +
		"RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n" +
		"WORKDIR /app\nCOPY . .\nEXPOSE 5000\nENTRYPOINT [\"dotnet\", \"Api.dll\"]\n")
	fr, _ := a.AnalyzeSource(t.Context(), "Dockerfile", src, bc, nil)
	if fr.Error != "" {
		t.Fatal(fr.Error)
	}
	fixed := ""
	for _, f := range fr.Findings {
		if f.Rule == HealthcheckMissing.ID && f.Fix != nil {
			for _, e := range f.Fix.Edits {
				fixed += e.New
			}
		}
	}
	if !strings.Contains(fixed, "http://127.0.0.1:5000/") {
		t.Errorf("the probe does not go to the EXPOSEd 5000: %q", fixed)
	}
}
