package analyzer_test

import (
	"bytes"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// The fixtures under testdata/realshapes are repositories written in the
// style of the ones issue #11 lists (official images with gosu
// entrypoints, a generated variant tree, database and gRPC servers, an
// Alpine image using busybox wget, a devcontainer, a Windows image, an
// Apache image on :80, tomcat). These tests pin the facts rules read.

var (
	shapesMu sync.Mutex
	shapes   = map[string]map[string]*analyzer.FileResult{}
)

// shape analyzes one fixture repository (no rules: facts only) and
// returns its files by path.
func shape(t *testing.T, name string) map[string]*analyzer.FileResult {
	t.Helper()
	shapesMu.Lock()
	defer shapesMu.Unlock()
	if m, ok := shapes[name]; ok {
		return m
	}
	res, err := analyzer.New(nil).Analyze(t.Context(), os.DirFS(path.Join("testdata/realshapes", name)), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*analyzer.FileResult{}
	for _, fr := range res.Files {
		if fr.Error != "" {
			t.Fatalf("%s/%s: %s", name, fr.Path, fr.Error)
		}
		m[fr.Path] = fr
	}
	shapes[name] = m
	return m
}

// stageFacts returns the facts of a fixture file's stage (-1: final).
func stageFacts(t *testing.T, shapeName, file string, stage int) (*analyzer.FileResult, *analyzer.StageFacts) {
	t.Helper()
	fr := shape(t, shapeName)[file]
	if fr == nil {
		t.Fatalf("%s: no file %s", shapeName, file)
	}
	s := fr.Dockerfile.FinalStage()
	if stage >= 0 {
		s = fr.Dockerfile.Stages[stage]
	}
	return fr, fr.Facts().Stage(s)
}

// lineOf returns the first line of a fixture file that contains text.
func lineOf(t *testing.T, fr *analyzer.FileResult, text string) int {
	t.Helper()
	i := bytes.Index(fr.Dockerfile.Source, []byte(text))
	if i < 0 {
		t.Fatalf("%s: no %q", fr.Path, text)
	}
	return fr.Dockerfile.Line(i)
}

func TestRoleOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		role        analyzer.Role
		why         string
		stages      []analyzer.Role // when set, the role of every stage
	}{
		{"redis-official", "Dockerfile", analyzer.RoleBase, "entrypoint script", nil},
		{"memcached", "Dockerfile", analyzer.RoleBase, "entrypoint script", nil},
		{"postgres-variants", "16/bookworm/Dockerfile", analyzer.RoleBase, "variant folder", nil},
		{"postgres-variants", "16/alpine3.20/Dockerfile", analyzer.RoleBase, "entrypoint script", nil},
		{"base-images", "python/3.12/Dockerfile", analyzer.RoleBase, "ONBUILD", nil},
		{"base-images", "ci-toolbox/Dockerfile", analyzer.RoleBase, "generic shell", nil},
		{"grpc-service", "Dockerfile", analyzer.RoleApplication, "go.mod", []analyzer.Role{analyzer.RoleBuild, analyzer.RoleApplication}},
		{"node-alpine", "Dockerfile", analyzer.RoleApplication, "package.json", nil},
		{"apache-php", "Dockerfile", analyzer.RoleApplication, "composer.json", nil},
		{"tomcat-war", "Dockerfile", analyzer.RoleApplication, "pom.xml", []analyzer.Role{analyzer.RoleBuild, analyzer.RoleApplication}},
		{"windows-node", "Dockerfile", analyzer.RoleApplication, "package.json", []analyzer.Role{analyzer.RoleBuild, analyzer.RoleApplication}},
		{"devcontainer", ".devcontainer/Dockerfile", analyzer.RoleDev, ".devcontainer", nil},
		{"devcontainer", "Dockerfile.dev", analyzer.RoleDev, "Dockerfile.dev", nil},
		{"devcontainer", "Dockerfile", analyzer.RoleApplication, "package.json",
			[]analyzer.Role{analyzer.RoleBuild, analyzer.RoleDev, analyzer.RoleBuild, analyzer.RoleApplication}},
		{"app-with-fixtures", "Dockerfile", analyzer.RoleApplication, "requirements.txt", nil},
		{"app-with-fixtures", "test/e2e/Dockerfile", analyzer.RoleFixture, "test/", nil},
		{"app-with-fixtures", "testdata/fixtures/broken-base/Dockerfile", analyzer.RoleFixture, "testdata/", nil},
		{"git-ssh", "Dockerfile", analyzer.RoleApplication, "", nil},
		{"dind-runner", "Dockerfile", analyzer.RoleApplication, "daemon.json", nil},
	}
	for _, c := range cases {
		fr := shape(t, c.shape)[c.file]
		if fr == nil {
			t.Errorf("%s: no file %s", c.shape, c.file)
			continue
		}
		f := fr.Facts()
		got := f.Role()
		if got.Role != c.role || !strings.Contains(got.Why, c.why) {
			t.Errorf("%s/%s: role %s (%s), want %s because of %q", c.shape, c.file, got.Role, got.Why, c.role, c.why)
		}
		if fr.Role != got.Role {
			t.Errorf("%s/%s: FileResult.Role %q, facts say %q", c.shape, c.file, fr.Role, got.Role)
		}
		for i, want := range c.stages {
			s := fr.Dockerfile.Stages[i]
			if r := f.StageRole(s); r.Role != want {
				t.Errorf("%s/%s stage %d (%s): role %s (%s), want %s", c.shape, c.file, i, s.Name, r.Role, r.Why, want)
			}
			if fr.Stages[i].Role != string(want) {
				t.Errorf("%s/%s stage %d: StageInfo.Role %q, want %q", c.shape, c.file, i, fr.Stages[i].Role, want)
			}
		}
	}
}

func TestGeneratedOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file         string
		generated           bool
		template, generator string
	}{
		{"postgres-variants", "16/bookworm/Dockerfile", true, "Dockerfile-debian.template", "apply-templates.sh"},
		{"postgres-variants", "16/alpine3.20/Dockerfile", true, "Dockerfile-alpine.template", "apply-templates.sh"},
		{"postgres-variants", "17/bookworm/Dockerfile", true, "Dockerfile-debian.template", "apply-templates.sh"},
		{"rust-variants", "1.80/bookworm/Dockerfile", true, "Dockerfile-debian.template", "apply-templates.sh"},
		{"rust-variants", "1.80/bookworm/slim/Dockerfile", true, "Dockerfile-slim.template", "apply-templates.sh"},
		{"rust-variants", "1.80/alpine3.20/Dockerfile", true, "Dockerfile-alpine.template", "apply-templates.sh"},
		{"redis-official", "Dockerfile", false, "", ""},
		{"base-images", "python/3.12/Dockerfile", false, "", ""},
		{"devcontainer", "Dockerfile", false, "", ""},
	}
	for _, c := range cases {
		g := shape(t, c.shape)[c.file].Facts().Generated()
		// The reason names the file's own template, not the first found.
		wrongWhy := g.Generated && c.template != "" && strings.Contains(g.Why, ".template") && !strings.Contains(g.Why, c.template)
		if g.Generated != c.generated || g.Template != c.template || g.Generator != c.generator || wrongWhy {
			t.Errorf("%s/%s: generated=%v template=%q generator=%q (%s), want %v %q %q",
				c.shape, c.file, g.Generated, g.Template, g.Generator, g.Why, c.generated, c.template, c.generator)
		}
	}
}

func TestDistroOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		stage       int
		family      analyzer.Distro
		userland    string
	}{
		{"redis-official", "Dockerfile", -1, analyzer.DistroDebian, analyzer.UserlandGNU},
		{"node-alpine", "Dockerfile", -1, analyzer.DistroAlpine, analyzer.UserlandBusybox},
		{"grpc-service", "Dockerfile", 0, analyzer.DistroDebian, analyzer.UserlandGNU},
		{"grpc-service", "Dockerfile", -1, analyzer.DistroDistroless, analyzer.UserlandNone},
		{"windows-node", "Dockerfile", -1, analyzer.DistroWindows, analyzer.UserlandWindows},
		{"tomcat-war", "Dockerfile", -1, analyzer.DistroDebian, analyzer.UserlandGNU},
		{"app-with-fixtures", "test/e2e/Dockerfile", -1, analyzer.DistroDebian, analyzer.UserlandGNU},
		{"postgres-variants", "16/alpine3.20/Dockerfile", -1, analyzer.DistroAlpine, analyzer.UserlandBusybox},
	}
	for _, c := range cases {
		_, sf := stageFacts(t, c.shape, c.file, c.stage)
		if d := sf.Distro(); d.Family != c.family || d.Userland != c.userland {
			t.Errorf("%s/%s stage %d: %s/%s (%s), want %s/%s", c.shape, c.file, c.stage, d.Family, d.Userland, d.Why, c.family, c.userland)
		}
	}
}

func TestToolsOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		stage       int
		// at is text on the line asked about; "" asks about the
		// finished stage.
		at      string
		tool    string
		want    analyzer.Presence
		busybox bool
		whyHas  string
	}{
		// Official-image style: wget and ca-certificates are installed for
		// a download, then purged by apt-mark auto + --auto-remove.
		{"redis-official", "Dockerfile", -1, "", "wget", analyzer.Absent, false, "purges"},
		{"redis-official", "Dockerfile", -1, "", "ca-certificates", analyzer.Absent, false, "purges"},
		{"redis-official", "Dockerfile", -1, "ENV REDIS_VERSION", "wget", analyzer.Absent, false, "purges"},
		{"redis-official", "Dockerfile", -1, "", "gosu", analyzer.Present, false, "/usr/local/bin/gosu"},
		{"redis-official", "Dockerfile", -1, "", "redis-cli", analyzer.Present, false, "proves"},
		{"redis-official", "Dockerfile", -1, "", "curl", analyzer.Absent, false, "debian:bookworm-slim"},
		{"redis-official", "Dockerfile", -1, "", "bash", analyzer.Present, false, ""},
		{"memcached", "Dockerfile", -1, "", "wget", analyzer.Absent, false, "removes wget"},
		{"postgres-variants", "16/bookworm/Dockerfile", -1, "", "pg_isready", analyzer.Present, false, "postgresql-16"},
		{"postgres-variants", "16/bookworm/Dockerfile", -1, "", "wget", analyzer.Absent, false, "purges"},
		{"postgres-variants", "16/alpine3.20/Dockerfile", -1, "RUN apk add --no-cache bash", "bash", analyzer.Absent, false, "alpine:3.20"},
		{"postgres-variants", "16/alpine3.20/Dockerfile", -1, "ENV PG_MAJOR", "bash", analyzer.Present, false, "installs bash"},
		{"postgres-variants", "16/alpine3.20/Dockerfile", -1, "", "su-exec", analyzer.Present, false, ""},
		// apk del of the virtual package leaves busybox's wget applet.
		{"postgres-variants", "16/alpine3.20/Dockerfile", -1, "", "wget", analyzer.Present, true, "busybox"},
		{"postgres-variants", "16/alpine3.20/Dockerfile", -1, "", "make", analyzer.Absent, false, ".build-deps"},
		{"node-alpine", "Dockerfile", -1, "wget -q -O", "wget", analyzer.Present, true, "busybox applet"},
		{"node-alpine", "Dockerfile", -1, "", "python3", analyzer.Absent, false, ".gyp"},
		{"node-alpine", "Dockerfile", -1, "", "tini", analyzer.Present, false, "apk"},
		{"node-alpine", "Dockerfile", -1, "", "curl", analyzer.Absent, false, ""},
		{"node-alpine", "Dockerfile", -1, "", "bash", analyzer.Absent, false, ""},
		{"grpc-service", "Dockerfile", -1, "", "grpc_health_probe", analyzer.Present, false, "/bin/grpc_health_probe"},
		{"grpc-service", "Dockerfile", -1, "", "/bin/grpc_health_probe", analyzer.Present, false, ""},
		{"grpc-service", "Dockerfile", -1, "", "sh", analyzer.Absent, false, "distroless"},
		{"grpc-service", "Dockerfile", 0, "", "wget", analyzer.Present, false, "golang"},
		{"git-ssh", "Dockerfile", -1, "", "sshd", analyzer.Present, false, "openssh"},
		{"devcontainer", ".devcontainer/Dockerfile", -1, "", "pg_isready", analyzer.Present, false, "postgresql-client"},
		{"devcontainer", ".devcontainer/Dockerfile", -1, "", "redis-cli", analyzer.Present, false, "redis-tools"},
		{"windows-node", "Dockerfile", -1, "USER ContainerAdministrator", "sh", analyzer.Absent, false, "nanoserver"},
		{"tomcat-war", "Dockerfile", -1, "", "curl", analyzer.Unknown, false, ""},
		{"tomcat-war", "Dockerfile", 0, "", "curl", analyzer.Unknown, false, "maven"},
		{"apache-php", "Dockerfile", -1, "", "curl", analyzer.Present, false, "php:8.3-apache"},
		{"python-cache", "Dockerfile", -1, "", "curl", analyzer.Absent, false, ""},
	}
	for _, c := range cases {
		fr, sf := stageFacts(t, c.shape, c.file, c.stage)
		line := 0
		if c.at != "" {
			line = lineOf(t, fr, c.at)
		}
		got := sf.Tool(line, c.tool)
		if got.Presence != c.want || got.Busybox != c.busybox || !strings.Contains(got.Why, c.whyHas) {
			t.Errorf("%s/%s stage %d line %d: %s is %v (busybox %v, %s), want %v (busybox %v, because of %q)",
				c.shape, c.file, c.stage, line, c.tool, got.Presence, got.Busybox, got.Why, c.want, c.busybox, c.whyHas)
		}
		if p, why := sf.ToolAt(line, c.tool); p != got.Presence || why != got.Why {
			t.Errorf("ToolAt and Tool disagree on %s", c.tool)
		}
	}
}

// Inside one RUN, the commands before a point count: the toolchain of the
// virtual package exists while npm ci runs and is gone after apk del.
func TestToolInsideRun(t *testing.T) {
	fr, sf := stageFacts(t, "node-alpine", "Dockerfile", -1)
	src := fr.Dockerfile.Source
	during := bytes.Index(src, []byte("npm ci"))
	after := bytes.Index(src, []byte("# The GeoLite"))
	if got := sf.ToolAtOffset(during, "python3"); got.Presence != analyzer.Present {
		t.Errorf("python3 during npm ci: %v (%s)", got.Presence, got.Why)
	}
	if got := sf.ToolAtOffset(after, "python3"); got.Presence != analyzer.Absent {
		t.Errorf("python3 after apk del: %v (%s)", got.Presence, got.Why)
	}
}

func TestPortsOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		port        int
		protocol    string
		server      string
		probeTool   string // "" when no probe is known
		probe       analyzer.Presence
		line        int // -1: any
	}{
		{"redis-official", "Dockerfile", 6379, analyzer.ProtoRedis, "redis", "redis-cli", analyzer.Present, -1},
		{"postgres-variants", "16/bookworm/Dockerfile", 5432, analyzer.ProtoPostgreSQL, "postgres", "pg_isready", analyzer.Present, -1},
		{"postgres-variants", "16/alpine3.20/Dockerfile", 5432, analyzer.ProtoPostgreSQL, "postgres", "pg_isready", analyzer.Present, -1},
		{"memcached", "Dockerfile", 11211, analyzer.ProtoMemcache, "memcached", "", analyzer.Unknown, -1},
		{"grpc-service", "Dockerfile", 50051, analyzer.ProtoGRPC, "", "grpc_health_probe", analyzer.Present, -1},
		{"node-alpine", "Dockerfile", 3000, analyzer.ProtoHTTP, "", "wget", analyzer.Present, -1},
		{"apache-php", "Dockerfile", 80, analyzer.ProtoHTTP, "apache2", "curl", analyzer.Present, -1},
		{"tomcat-war", "Dockerfile", 8080, analyzer.ProtoHTTP, "tomcat", "curl", analyzer.Unknown, 12}, // its own EXPOSE, as tomcat's
		{"git-ssh", "Dockerfile", 22, analyzer.ProtoSSH, "sshd", "", analyzer.Unknown, -1},
		{"python-cache", "Dockerfile", 8000, analyzer.ProtoHTTP, "", "curl", analyzer.Absent, -1},
		{"windows-node", "Dockerfile", 3000, analyzer.ProtoHTTP, "", "curl", analyzer.Unknown, -1},
		{"devcontainer", "Dockerfile", 8080, analyzer.ProtoHTTP, "", "curl", analyzer.Absent, -1},
	}
	for _, c := range cases {
		_, sf := stageFacts(t, c.shape, c.file, -1)
		var got *analyzer.PortFact
		for _, p := range sf.Ports() {
			if p.Port == c.port {
				got = &p
				break
			}
		}
		if got == nil {
			t.Errorf("%s/%s: port %d not found in %+v", c.shape, c.file, c.port, sf.Ports())
			continue
		}
		if got.Protocol != c.protocol || got.Server != c.server {
			t.Errorf("%s/%s: port %d speaks %q (server %q; %s), want %q (%q)", c.shape, c.file, c.port, got.Protocol, got.Server, got.Why, c.protocol, c.server)
		}
		switch {
		case c.probeTool == "" && got.Probe != nil:
			t.Errorf("%s/%s: port %d has probe %+v, want none", c.shape, c.file, c.port, got.Probe)
		case c.probeTool != "" && (got.Probe == nil || got.Probe.Tool != c.probeTool || got.Probe.ToolPresence != c.probe):
			t.Errorf("%s/%s: port %d probe %+v, want %s (%v)", c.shape, c.file, c.port, got.Probe, c.probeTool, c.probe)
		}
		if c.line >= 0 && got.Line != c.line {
			t.Errorf("%s/%s: port %d on line %d, want %d", c.shape, c.file, c.port, got.Line, c.line)
		}
	}
}

func TestPrivilegedPortOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		port        int
	}{
		{"apache-php", "Dockerfile", 80},
		{"git-ssh", "Dockerfile", 22},
		{"node-alpine", "Dockerfile", 0},
		{"redis-official", "Dockerfile", 0},
		{"tomcat-war", "Dockerfile", 0},
	}
	for _, c := range cases {
		_, sf := stageFacts(t, c.shape, c.file, -1)
		if got, why := sf.PrivilegedPort(); got != c.port {
			t.Errorf("%s/%s: privileged port %d (%s), want %d", c.shape, c.file, got, why, c.port)
		}
	}
}

func TestUsersOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		runUser     string
		known       bool
		switches    analyzer.Presence
		how         string
		needsRoot   analyzer.Presence
	}{
		{"redis-official", "Dockerfile", "", true, analyzer.Present, "gosu", analyzer.Unknown},
		{"postgres-variants", "16/bookworm/Dockerfile", "", true, analyzer.Present, "gosu", analyzer.Unknown},
		{"postgres-variants", "16/alpine3.20/Dockerfile", "", true, analyzer.Present, "su-exec", analyzer.Unknown},
		{"memcached", "Dockerfile", "memcache", true, analyzer.Absent, "", analyzer.Unknown},
		{"apache-php", "Dockerfile", "", true, analyzer.Present, "www-data", analyzer.Unknown},
		{"tomcat-war", "Dockerfile", "", true, analyzer.Absent, "", analyzer.Unknown},
		{"grpc-service", "Dockerfile", "nonroot", true, analyzer.Absent, "", analyzer.Unknown},
		{"node-alpine", "Dockerfile", "", true, analyzer.Absent, "", analyzer.Unknown},
		{"windows-node", "Dockerfile", "ContainerUser", true, analyzer.Absent, "", analyzer.Unknown},
		{"devcontainer", ".devcontainer/Dockerfile", "vscode", true, analyzer.Absent, "", analyzer.Unknown},
		{"dind-runner", "Dockerfile", "", true, analyzer.Absent, "", analyzer.Present},
		// su runs git init for the git user, then exec "$@" starts sshd
		// as root: a side job that needs root, not a drop of privileges.
		{"git-ssh", "Dockerfile", "", true, analyzer.Absent, "", analyzer.Present},
		{"app-with-fixtures", "test/e2e/Dockerfile", "", false, analyzer.Absent, "", analyzer.Unknown},
	}
	for _, c := range cases {
		_, sf := stageFacts(t, c.shape, c.file, -1)
		u := sf.RunUser()
		if u.Name != c.runUser || u.Known != c.known {
			t.Errorf("%s/%s: runs as %q (known %v: %s), want %q (known %v)", c.shape, c.file, u.Name, u.Known, u.Why, c.runUser, c.known)
		}
		ep := sf.Entrypoint()
		if ep.SwitchesUser != c.switches || !strings.Contains(ep.How, c.how) || ep.NeedsRoot != c.needsRoot {
			t.Errorf("%s/%s: entrypoint switches %v via %q, needs root %v (%s); want %v via %q, needs root %v",
				c.shape, c.file, ep.SwitchesUser, ep.How, ep.NeedsRoot, ep.Why, c.switches, c.how, c.needsRoot)
		}
	}
}

func TestEntrypointScriptIsRead(t *testing.T) {
	_, sf := stageFacts(t, "postgres-variants", "16/bookworm/Dockerfile", -1)
	ep := sf.Entrypoint()
	if ep.Script != "16/bookworm/docker-entrypoint.sh" || ep.Line == 0 {
		t.Errorf("entrypoint read from %q line %d, want 16/bookworm/docker-entrypoint.sh and the gosu line", ep.Script, ep.Line)
	}
}

func TestAccountsOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		at          string // "" for the finished stage
		user        string
		want        analyzer.Presence
	}{
		{"redis-official", "Dockerfile", "", "redis", analyzer.Present},
		{"redis-official", "Dockerfile", "groupadd", "redis", analyzer.Absent},
		{"redis-official", "Dockerfile", "", "root", analyzer.Present},
		{"redis-official", "Dockerfile", "", "app", analyzer.Absent},
		{"node-alpine", "Dockerfile", "", "node", analyzer.Present},
		{"windows-node", "Dockerfile", "", "node", analyzer.Absent},
		{"windows-node", "Dockerfile", "", "root", analyzer.Absent},
		{"windows-node", "Dockerfile", "", "ContainerUser", analyzer.Present},
		{"grpc-service", "Dockerfile", "", "nonroot", analyzer.Present},
		{"grpc-service", "Dockerfile", "", "65532", analyzer.Present},
		{"git-ssh", "Dockerfile", "", "git", analyzer.Present},
		{"app-with-fixtures", "test/e2e/Dockerfile", "", "pwuser", analyzer.Unknown},
		{"devcontainer", ".devcontainer/Dockerfile", "", "vscode", analyzer.Present},
	}
	for _, c := range cases {
		fr, sf := stageFacts(t, c.shape, c.file, -1)
		line := 0
		if c.at != "" {
			line = lineOf(t, fr, c.at)
		}
		if got, why := sf.UserExistsAt(line, c.user); got != c.want {
			t.Errorf("%s/%s line %d: account %s is %v (%s), want %v", c.shape, c.file, line, c.user, got, why, c.want)
		}
	}
}

func TestAccountUsesOnRealShapes(t *testing.T) {
	_, sf := stageFacts(t, "git-ssh", "Dockerfile", -1)
	want := map[string]bool{
		"git/created with the explicit shell /usr/bin/git-shell":                     false,
		"git/su runs commands through its login shell":                               false,
		"nobody/sshd runs AuthorizedKeysCommand as this account":                     false,
		"git/sshd lets this account log in":                                          false,
		"git/sshd serves a git account, whose forced commands run through its shell": false,
	}
	for _, u := range sf.AccountUses() {
		k := u.User + "/" + u.How
		if _, ok := want[k]; ok {
			want[k] = true
		}
		if u.Path == "git-ssh/entrypoint.sh" || (u.Path != "" && !strings.HasSuffix(u.Path, ".sh") && !strings.HasSuffix(u.Path, "sshd_config")) {
			t.Errorf("use %+v: path should be relative to the analyzed root", u)
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("missing account use %s in %+v", k, sf.AccountUses())
		}
	}
	_, redis := stageFacts(t, "redis-official", "Dockerfile", -1)
	if uses := redis.AccountUses(); len(uses) != 0 {
		t.Errorf("redis: account uses %+v, want none (its accounts get no shell and nothing logs in)", uses)
	}
}

func TestWrittenPathsOnRealShapes(t *testing.T) {
	cases := []struct {
		shape, file string
		path, owner string
		whyHas      string
	}{
		{"redis-official", "Dockerfile", "/data", "redis", "VOLUME"},
		{"postgres-variants", "16/bookworm/Dockerfile", "/var/lib/postgresql/data", "postgres", "data directory"},
		{"postgres-variants", "16/bookworm/Dockerfile", "/var/run/postgresql", "postgres", "install -d"},
		{"tomcat-war", "Dockerfile", "/usr/local/tomcat/webapps", "root", "tomcat"},
		{"tomcat-war", "Dockerfile", "/usr/local/tomcat/logs", "root", "tomcat"},
		{"apache-php", "Dockerfile", "/var/www/html/storage", "www-data", "chown"},
		{"apache-php", "Dockerfile", "/var/www/html", "root", "WORKDIR"},
		{"git-ssh", "Dockerfile", "/srv/git/repositories", "git", "VOLUME"},
		{"node-alpine", "Dockerfile", "/usr/src/app/data", "root", "mkdir"},
		{"windows-node", "Dockerfile", "C:/app", "", "WORKDIR"},
	}
	for _, c := range cases {
		_, sf := stageFacts(t, c.shape, c.file, -1)
		var got *analyzer.WrittenPath
		for _, w := range sf.WrittenPaths() {
			if w.Path == c.path {
				got = &w
			}
		}
		if got == nil {
			t.Errorf("%s/%s: %s is not among the written paths %+v", c.shape, c.file, c.path, sf.WrittenPaths())
			continue
		}
		if got.Owner != c.owner || !strings.Contains(strings.Join(got.Why, "; "), c.whyHas) {
			t.Errorf("%s/%s: %s owned by %q (%s), written because %v; want %q and %q", c.shape, c.file, c.path, got.Owner, got.OwnerWhy, got.Why, c.owner, c.whyHas)
		}
	}
}

func TestMountsOnRealShapes(t *testing.T) {
	fr, sf := stageFacts(t, "python-cache", "Dockerfile", -1)
	runAt := func(text string) *analyzer.Instruction {
		line := lineOf(t, fr, text)
		for _, in := range fr.Dockerfile.Instructions {
			if in.StartLine <= line && line <= in.EndLine {
				return in
			}
		}
		t.Fatalf("no instruction at %q", text)
		return nil
	}
	apt := runAt("rm -f /etc/apt/apt.conf.d/docker-clean")
	pip := runAt("pip install --no-cache-dir")
	tmpfs := runAt("compileall")
	secret := runAt("type=secret")

	type m struct{ typ, target string }
	mounts := func(in *analyzer.Instruction) []m {
		var out []m
		for _, x := range sf.Mounts(in) {
			out = append(out, m{x.Type, x.Target})
		}
		return out
	}
	check := func(name string, got, want []m) {
		if len(got) != len(want) {
			t.Errorf("%s mounts %+v, want %+v", name, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s mount %d = %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	check("apt", mounts(apt), []m{{"cache", "/var/cache/apt"}, {"cache", "/var/lib/apt/lists"}})
	check("pip", mounts(pip), []m{{"cache", "/root/.cache/pip"}, {"bind", "/tmp/requirements.txt"}})
	check("tmpfs", mounts(tmpfs), []m{{"tmpfs", "/tmp"}})
	check("secret", mounts(secret), []m{{"secret", ""}})
	if b := sf.Mounts(pip)[1]; !b.ReadOnly || b.Source != "requirements.txt" {
		t.Errorf("bind mount %+v: want read-only from requirements.txt", b)
	}

	// The author's pip cache mount collides with --no-cache-dir.
	cleans := sf.CacheCleaning(pip)
	if len(cleans) != 1 || cleans[0].What != "pip --no-cache-dir" || cleans[0].Dir != "/root/.cache/pip" {
		t.Errorf("pip RUN cleaning %+v", cleans)
	}
	if c := sf.CacheCleaning(apt); len(c) != 0 {
		t.Errorf("apt RUN keeps its cache on purpose, got cleaning %+v", c)
	}

	// A cache mount over /app/wheels would hide the COPY before it.
	if got := sf.FilledBefore(pip, "/app/wheels"); len(got) != 1 || got[0].Line != lineOf(t, fr, "COPY vendor/wheels") {
		t.Errorf("FilledBefore(/app/wheels) = %+v, want the COPY", got)
	}
	if got := sf.FilledBefore(pip, "/root/.cache/pip"); len(got) != 0 {
		t.Errorf("FilledBefore(/root/.cache/pip) = %+v, want nothing", got)
	}
	if got := sf.FilledBefore(tmpfs, "/usr/local/lib"); len(got) == 0 {
		t.Error("FilledBefore(/usr/local/lib) should name the base image's own files")
	}
}

// A cache mount under a directory a COPY filled hides what the build
// context brought there, unless .dockerignore keeps it out.
func TestFilledBeforeReadsTheContext(t *testing.T) {
	df := "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/app/node_modules npm ci\n"
	for _, c := range []struct {
		ignore string
		want   int
	}{{"", 1}, {"node_modules\n", 0}} {
		files := map[string]string{"package.json": "{}", "node_modules/left-pad/index.js": "module.exports = 1\n"}
		if c.ignore != "" {
			files[".dockerignore"] = c.ignore
		}
		fr := analyzeOne(t, df, files)
		sf := fr.Facts().Final()
		run := fr.Dockerfile.FinalStage().Instructions[2]
		if got := sf.FilledBefore(run, "/app/node_modules"); len(got) != c.want {
			t.Errorf(".dockerignore %q: FilledBefore = %+v, want %d entries", c.ignore, got, c.want)
		}
	}
}

// Facts are the same on every run, whatever order they are asked in.
func TestFactsDeterministic(t *testing.T) {
	describe := func() string {
		var b strings.Builder
		for _, name := range []string{"postgres-variants", "git-ssh", "node-alpine"} {
			res, err := analyzer.New(nil).Analyze(t.Context(), os.DirFS("testdata/realshapes/"+name), ".", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, fr := range res.Files {
				f := fr.Facts()
				sf := f.Final()
				b.WriteString(fr.Path + string(f.Role().Role) + f.Role().Why + f.Generated().Template)
				for _, p := range sf.Ports() {
					b.WriteString(p.Why)
				}
				for _, w := range sf.WrittenPaths() {
					b.WriteString(w.Path + w.Owner + w.OwnerWhy)
				}
				for _, u := range sf.AccountUses() {
					b.WriteString(u.User + u.How)
				}
				b.WriteString(sf.Entrypoint().Why)
			}
		}
		return b.String()
	}
	first := describe()
	for i := 0; i < 3; i++ {
		if again := describe(); again != first {
			t.Fatal("facts differ between runs")
		}
	}
}

// A shell-form ENTRYPOINT runs /bin/sh -c with its line and ignores CMD:
// the facts' start command and the file's agree on that.
func TestStartCommandIgnoresCMDAfterAShellEntrypoint(t *testing.T) {
	for _, c := range []struct {
		df   string
		want string
	}{
		{"FROM node:20\nENTRYPOINT node server.js\nCMD [\"--port\", \"9000\"]\n", "node server.js"},
		{"FROM node:20\nENTRYPOINT [\"node\", \"server.js\"]\nCMD [\"--port\", \"9000\"]\n", "node server.js --port 9000"},
		{"FROM node:20\nCMD node server.js\n", "node server.js"},
	} {
		fr := analyzeOne(t, c.df, nil)
		facts := strings.Join(fr.Facts().Final().StartCommand(), " ")
		file := strings.Join(analyzer.StartCommand(fr.Dockerfile), " ")
		if facts != c.want || file != c.want {
			t.Errorf("%q: facts start %q, file start %q, want %q", c.df, facts, file, c.want)
		}
	}
}
