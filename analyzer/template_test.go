package analyzer_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
)

func TestTemplateNames(t *testing.T) {
	for name, want := range map[string]bool{
		"Dockerfile.template":        true,
		"Dockerfile-alpine.template": true,
		"Dockerfile.tmpl":            true,
		"Dockerfile.prod.tmpl":       true,
		"Dockerfile.j2":              true,
		"api.dockerfile.jinja":       true,
		"Containerfile.jinja2":       true,
		"Dockerfile":                 false,
		"Dockerfile.prod":            false,
		"nginx.conf.j2":              false,
		"values.yaml.tmpl":           false,
	} {
		if got := analyzer.IsTemplateName(name); got != want {
			t.Errorf("IsTemplateName(%q) = %v, want %v", name, got, want)
		}
	}
}

// A repository of generated variants: the templates are found and
// analyzed, placeholders and all; no finding of a template or of a
// generated file carries a fix, and the ones that had one say where the
// change belongs.
func TestTemplatesAndGeneratedFilesGetNoFix(t *testing.T) {
	res, err := newAnalyzer().Analyze(t.Context(), os.DirFS("testdata/realshapes/postgres-variants"), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]*analyzer.FileResult{}
	for _, fr := range res.Files {
		byPath[fr.Path] = fr
	}
	for _, p := range []string{"Dockerfile-alpine.template", "Dockerfile-debian.template"} {
		fr := byPath[p]
		if fr == nil || !fr.Template || fr.Error != "" || len(fr.Findings) == 0 {
			t.Fatalf("%s: want an analyzed template with findings, got %+v", p, fr)
		}
		if g := fr.Facts().Generated(); g.Generated {
			t.Errorf("%s: a template is not generated (%s)", p, g.Why)
		}
	}
	withheld := map[analyzer.Precondition]int{}
	for _, fr := range res.Files {
		if !fr.Template && fr.Generated == nil {
			t.Errorf("%s: want it told generated", fr.Path)
		}
		for _, f := range fr.Findings {
			if f.Fix != nil {
				t.Errorf("%s:%d %s offers a fix: %s", fr.Path, f.Line, f.Rule, f.Fix.Message)
			}
			if strings.Contains(f.Message, "xxxx") {
				t.Errorf("%s:%d %s quotes a filled placeholder: %s", fr.Path, f.Line, f.Rule, f.Message)
			}
			if f.Withheld == analyzer.PreconditionGenerated && !strings.Contains(f.Message, "generated from "+fr.Generated.Template) {
				t.Errorf("%s:%d %s: message does not point at the template: %s", fr.Path, f.Line, f.Rule, f.Message)
			}
			withheld[f.Withheld]++
		}
	}
	if withheld[analyzer.PreconditionGenerated] == 0 || withheld[analyzer.PreconditionTemplate] == 0 {
		t.Errorf("withheld by precondition %v: want fixes withheld from both generated files and templates", withheld)
	}
}

// Identical findings across the variants of one template are one group,
// led by the template's own finding when it has one, else by the first
// variant with the template's line; 17/bookworm, a twin of 16/bookworm,
// shows nothing of its own.
func TestGroupsOnRealShapes(t *testing.T) {
	res, err := newAnalyzer().Analyze(t.Context(), os.DirFS("testdata/realshapes/postgres-variants"), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	find := func(path, rule, text string) analyzer.Finding {
		t.Helper()
		for _, fr := range res.Files {
			for _, f := range fr.Findings {
				if fr.Path == path && f.Rule == rule && strings.Contains(f.Message, text) {
					return f
				}
			}
		}
		t.Fatalf("%s: no %s finding saying %q", path, rule, text)
		return analyzer.Finding{}
	}

	// ENV PG_MAJOR {{ env.version }}: the template's line has a placeholder,
	// so the variants lead, pointing at the template's line 22.
	lead := find("16/bookworm/Dockerfile", "legacy-key-value-format", "PG_MAJOR")
	g := lead.Group
	if g == nil || lead.Repeats() || g.Template != "Dockerfile-debian.template" || g.Line != 22 || len(g.Files) != 2 {
		t.Fatalf("PG_MAJOR group %+v (repeat %v), want two variants under Dockerfile-debian.template line 22", g, lead.Repeats())
	}
	if twin := find("17/bookworm/Dockerfile", "legacy-key-value-format", "PG_MAJOR"); twin.Group != g || !twin.Repeats() {
		t.Errorf("17/bookworm's PG_MAJOR finding is not a repeat of the group")
	}
	if once, ok := lead.Once(); !ok || once.Path != "Dockerfile-debian.template" || once.Line != 22 || !strings.Contains(once.Message, "the same in 2 files") {
		t.Errorf("shown once as %s:%d %q", once.Path, once.Line, once.Message)
	}

	// The template's own finding leads when it has one.
	own := find("Dockerfile-debian.template", "legacy-key-value-format", "PGDATA")
	if own.Group == nil || own.Repeats() || own.Group.Files[0].Path != "Dockerfile-debian.template" || own.Group.Variants() != 2 {
		t.Errorf("PGDATA group %+v, want the template first and two variants", own.Group)
	}

	// A finding only one variant has is not grouped.
	if eol := find("16/alpine3.20/Dockerfile", "eol-base-image", "alpine:3.20"); eol.Group != nil {
		t.Errorf("a finding of one file only is grouped: %+v", eol.Group)
	}

	for _, fr := range res.Files {
		if fr.Path != "17/bookworm/Dockerfile" {
			continue
		}
		for _, f := range fr.Findings {
			if !f.Repeats() {
				t.Errorf("17/bookworm/Dockerfile:%d %s is shown although its twin has it: %s", f.Line, f.Rule, f.Message)
			}
		}
	}
	shown := 0
	for _, g := range res.Groups {
		shown++
		if len(g.Files) < 2 {
			t.Errorf("group of one: %+v", g)
		}
	}
	if shown == 0 {
		t.Error("no groups")
	}
}

// A template is read with its placeholders filled in: its lines stay
// where they were, a line of template statements is a comment, and a
// finding on a line that held a placeholder is not reported.
func TestTemplatePlaceholders(t *testing.T) {
	tmpl := "FROM python:{{ .Version }}-slim\n" +
		"{% if dev %}\n" +
		"RUN pip install debugpy\n" +
		"{% endif %}\n" +
		"ENV APP_HOME {{ home }}\n" +
		"ENV MODE production\n" +
		"RUN apt-get update && apt-get install -y @PACKAGES@\n"
	fsys := fstest.MapFS{"Dockerfile.j2": {Data: []byte(tmpl)}}
	res, err := newAnalyzer().Analyze(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 {
		t.Fatalf("files %+v, want the template", res.Files)
	}
	fr := res.Files[0]
	if !fr.Template || fr.Error != "" {
		t.Fatalf("template %q: template=%v error=%q", fr.Path, fr.Template, fr.Error)
	}
	if n := len(fr.Dockerfile.Instructions); n != 5 {
		t.Errorf("%d instructions, want 5 (the statements are comments)", n)
	}
	var lines []int
	for _, f := range fr.Findings {
		lines = append(lines, f.Line)
		if f.Line == 1 || f.Line == 5 || f.Line == 7 {
			t.Errorf("finding on a line with a placeholder: %d %s %s", f.Line, f.Rule, f.Message)
		}
		if f.Fix != nil || (f.Withheld != "" && f.Withheld != analyzer.PreconditionTemplate && f.Withheld != analyzer.PreconditionRole) {
			t.Errorf("line %d %s: fix %+v withheld %q", f.Line, f.Rule, f.Fix, f.Withheld)
		}
	}
	found := false
	for _, f := range fr.Findings {
		found = found || f.Rule == "legacy-key-value-format" && f.Line == 6 && f.Withheld == analyzer.PreconditionTemplate
	}
	if !found {
		t.Errorf("findings on lines %v: want ENV MODE on line 6 reported with its fix withheld", lines)
	}
}

// The same finding twice in one generated file (two wget calls in one RUN
// of docker-library/python's variants) makes two groups, each of one
// finding per variant: a group never lists a file twice, and no file is
// told it repeats itself.
func TestGroupsKeepRepeatsWithinAFileApart(t *testing.T) {
	run := "RUN set -eux; wget -O python.tar.xz \"https://www.python.org/ftp/python/3.13.1/Python-3.13.1.tar.xz\"; wget -O python.tar.xz.asc \"https://www.python.org/ftp/python/3.13.1/Python-3.13.1.tar.xz.asc\"\n"
	variant := func(base string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA \"apply-templates.sh\"\n#\n# PLEASE DO NOT EDIT IT DIRECTLY.\n#\n\nFROM " + base + "\n" + run + "CMD [\"python3\"]\n")}
	}
	fsys := fstest.MapFS{
		"Dockerfile-linux.template":        {Data: []byte("FROM {{ env.variant }}\n" + run + "CMD [\"python3\"]\n")},
		"apply-templates.sh":               {Data: []byte("#!/usr/bin/env bash\ngawk -f .jq-template.awk Dockerfile-linux.template > \"$dir/Dockerfile\"\n")},
		"3.13/slim-bookworm/Dockerfile":    variant("debian:bookworm-slim"),
		"3.12/slim-bookworm/Dockerfile":    variant("debian:bookworm-slim"),
		"3.12/slim-bookworm/.dockerignore": {Data: []byte(".git\n")},
		"3.13/slim-bookworm/.dockerignore": {Data: []byte(".git\n")},
	}
	res, err := newAnalyzer().Analyze(t.Context(), fsys, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	wgetGroups := 0
	for _, g := range res.Groups {
		seen := map[string]bool{}
		for _, f := range g.Files {
			if seen[f.Path] {
				t.Errorf("group %s %q lists %s twice: %+v", g.Rule, g.Message, f.Path, g.Files)
			}
			seen[f.Path] = true
		}
		if g.Rule == "wget-progress" {
			wgetGroups++
		}
	}
	if wgetGroups != 2 {
		t.Errorf("%d wget-progress groups, want 2 (one per wget call, each across both variants)", wgetGroups)
	}
}

// A template is told by its name, and also by where it sits and what it
// holds: docker-library's jq templates (mysql's template/Dockerfile.oracle,
// rendered by apply-templates.sh with gawk -f .jq-template.awk) are named
// like Dockerfiles and begin with a {{ def … -}} line that no Dockerfile
// parser reads. Each is analyzed with its placeholders filled in, without
// an error and without a fix; Dockerfiles that only quote a Go template
// in a RUN, or sit in a templates folder with nothing of a template in
// them, stay Dockerfiles.
func TestTemplatesByFolderAndSyntax(t *testing.T) {
	mysqlTemplate := `{{ def dnf: if .oracle.variant | startswith("7") then "yum" else "microdnf" end -}}
FROM oraclelinux:{{ .oracle.variant }}

ENV GOSU_VERSION 1.19
RUN set -eux; \
	{{ dnf }} install -y \
		bzip2 \
		gzip \
{{ if .oracle.variant | startswith("7") then "" else ( -}}
# Oracle Linux 8+ is very slim :)
		findutils \
{{ ) end -}}
	; \
	{{ dnf }} clean all

ENV MYSQL_MAJOR {{ env.version }}
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 3306 33060
CMD ["mysqld"]
`
	applyTemplates := `#!/usr/bin/env bash
set -Eeuo pipefail
jqt='.jq-template.awk'
for version; do
	export version
	for variant in oracle debian; do
		dockerfile="Dockerfile.$variant"
		{
			generated_warning
			gawk -f "$jqt" "template/$dockerfile"
		} > "$version/$dockerfile"
	done
done
`
	for _, tc := range []struct {
		name     string
		files    map[string]string
		path     string
		template bool
	}{
		{"jq template in template/", map[string]string{
			"apply-templates.sh":            applyTemplates,
			"template/Dockerfile.oracle":    mysqlTemplate,
			"template/docker-entrypoint.sh": "#!/bin/sh\nexec \"$@\"\n",
			"8.4/Dockerfile.oracle":         "#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA \"apply-templates.sh\"\n#\nFROM oraclelinux:9-slim\nENV GOSU_VERSION 1.19\nCMD [\"mysqld\"]\n",
			"8.4/docker-entrypoint.sh":      "#!/bin/sh\nexec \"$@\"\n",
		}, "template/Dockerfile.oracle", true},
		{"jq template told by its syntax", map[string]string{
			"oracle/Dockerfile.in-progress": mysqlTemplate,
		}, "oracle/Dockerfile.in-progress", true},
		{"cookiecutter folder", map[string]string{
			"{{cookiecutter.project_slug}}/Dockerfile": "FROM python:{{ cookiecutter.python_version }}-slim\nENV MODE production\nCMD [\"python\"]\n",
		}, "{{cookiecutter.project_slug}}/Dockerfile", true},
		{"envsubst template in tmpl/ below update.sh", map[string]string{
			"update.sh": `#!/usr/bin/env bash
set -e
export VERSION=$1
export ALPINE_VERSION=3.23
for PLATFORM in alpine scratch; do
	TEMPLATE_DIR="${SCRIPT_DIRNAME_ABSOLUTEPATH}/tmpl/${PLATFORM}"
	PLATFORM_DIR="${SCRIPT_DIRNAME_ABSOLUTEPATH}/$(echo "$VERSION" | cut -d. -f1-2)/${PLATFORM}"
	rm -f "${PLATFORM_DIR}/Dockerfile"
	envsubst \$ALPINE_VERSION,\$VERSION < "${TEMPLATE_DIR}/tmpl${VERSION:0:2}.Dockerfile" > "${PLATFORM_DIR}/Dockerfile"
done
`,
			"tmpl/alpine/tmplv3.Dockerfile": `FROM alpine:$ALPINE_VERSION
RUN apk --no-cache add ca-certificates tzdata
RUN set -ex; \
	wget --quiet -O /tmp/traefik.tar.gz "https://github.com/traefik/traefik/releases/download/${VERSION}/traefik_${VERSION}_linux_amd64.tar.gz"; \
	tar xzvf /tmp/traefik.tar.gz -C /usr/local/bin traefik; \
	rm -f /tmp/traefik.tar.gz
COPY entrypoint.sh /
EXPOSE 80
ENTRYPOINT ["/entrypoint.sh"]
CMD ["traefik"]
`,
			"tmpl/alpine/entrypoint.sh": "#!/bin/sh\nexec \"$@\"\n",
			"v3.7/alpine/Dockerfile":    "FROM alpine:3.23\nRUN apk --no-cache add ca-certificates tzdata\nCOPY entrypoint.sh /\nCMD [\"traefik\"]\n",
			"v3.7/alpine/entrypoint.sh": "#!/bin/sh\nexec \"$@\"\n",
		}, "tmpl/alpine/tmplv3.Dockerfile", true},
		{"Go template quoted in a RUN", map[string]string{
			"Dockerfile": "FROM docker:27\nRUN docker version --format '{{.Server.Version}}'\nCMD [\"sh\"]\n",
		}, "Dockerfile", false},
		{"plain Dockerfile in a templates folder", map[string]string{
			"templates/node/Dockerfile": "FROM node:22-alpine\nENV NODE_ENV production\nCMD [\"node\", \"index.js\"]\n",
		}, "templates/node/Dockerfile", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, s := range tc.files {
				fsys[p] = &fstest.MapFile{Data: []byte(s)}
			}
			res, err := newAnalyzer().Analyze(t.Context(), fsys, ".", nil)
			if err != nil {
				t.Fatal(err)
			}
			var fr *analyzer.FileResult
			for _, f := range res.Files {
				if f.Path == tc.path {
					fr = f
				}
			}
			if fr == nil {
				t.Fatalf("%s not analyzed", tc.path)
			}
			if fr.Template != tc.template || fr.Error != "" {
				t.Fatalf("%s: template=%v error=%q, want template=%v and no error", tc.path, fr.Template, fr.Error, tc.template)
			}
			if !tc.template {
				return
			}
			if g := fr.Facts().Generated(); g.Generated {
				t.Errorf("a template is told generated: %s", g.Why)
			}
			for _, f := range fr.Findings {
				if f.Fix != nil {
					t.Errorf("%d %s offers a fix on a template: %s", f.Line, f.Rule, f.Fix.Message)
				}
				// A variable the generator fills is no build ARG.
				if f.Rule == "undefined-arg-in-from" || f.Rule == "invalid-default-arg-in-from" {
					t.Errorf("%d %s on a placeholder: %s", f.Line, f.Rule, f.Message)
				}
			}
		})
	}
}
