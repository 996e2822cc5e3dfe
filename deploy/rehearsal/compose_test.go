// Package rehearsal runs deploy/README.md's docker compose installation
// from its own text against a real Docker Engine, with the strict GitHub
// double standing in for github.com: register the app, write the
// environment, start the stack, install the app, push, and get the pull
// request. It is not part of `go test ./...`'s default work: it needs a
// Docker Engine, the Compose plugin and the images deploy/compose names,
// which scripts/rehearse/compose.sh provides before running it.
package rehearsal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/app/githubtest"
	"github.com/dockopt/dockopt/internal/buildkittest"
)

// registryPort is where the buildkit stand-in image looks for base images
// (scripts/rehearse/images/buildkit/rehearsal-entrypoint.sh).
const registryPort = "15000"

const shopDockerfile = `FROM node:20
WORKDIR /app
COPY . .
RUN echo "built" > /app/status
EXPOSE 3000
CMD node server.js
`

func TestComposeInstallation(t *testing.T) {
	if os.Getenv("DOCKOPT_REHEARSAL") == "" {
		t.Skip("rehearses deploy/README.md against a real Docker Engine; run scripts/rehearse/compose.sh")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := composeSteps(t, filepath.Join(root, "deploy", "README.md"))

	// GitHub, reachable from this process and from the containers: the
	// Docker bridge's address is one of this host's own.
	host := bridgeAddress(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	gh := githubtest.NewServer(t, githubtest.WithEnterprisePrefix(), githubtest.WithListener(ln))
	buildkittest.StartRegistry(t, ":"+registryPort)

	// The README's commands run in a copy of the checkout's deploy folder,
	// so what they write (dockopt.env, .env) never lands in the repository.
	work := t.TempDir()
	compose := filepath.Join(work, "deploy", "compose")
	if err := os.MkdirAll(compose, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(root, "deploy", "compose", "docker-compose.yml"), filepath.Join(compose, "docker-compose.yml"))
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := run(context.Background(), compose, "POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-unset} docker compose logs --no-color --tail 60")
			t.Logf("docker compose logs:\n%s", out)
			out, _ = run(context.Background(), compose, `POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-unset} docker compose exec -T postgres psql -U dockopt -d dockopt -c "SELECT id, kind, state, attempt, queue, unique_key IS NOT NULL AS uniq, errors FROM river_job ORDER BY id"`)
			t.Logf("job queue:\n%s", out)
		}
		// Compose interpolates the file even to take it down; the password
		// is unknown when an earlier step failed.
		out, err := run(context.Background(), compose, "POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-unset} docker compose down --volumes --remove-orphans")
		if err != nil {
			t.Logf("docker compose down: %v\n%s", err, out)
		}
	})

	t.Run("1 register", func(t *testing.T) {
		// The one change to the README's command: GitHub's address, which
		// the README gives for GitHub Enterprise Server. `docker run -it`
		// wants a terminal; script(1) gives it one.
		cmd := strings.Replace(blocks[0], " register ", " register --github-url "+gh.URL()+" ", 1)
		if cmd == blocks[0] {
			t.Fatalf("the register block no longer reads `… register …`:\n%s", blocks[0])
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		done := make(chan error, 1)
		var out bytes.Buffer
		go func() {
			c := exec.CommandContext(ctx, "script", "-qefc", "bash -euo pipefail -c "+shellQuote(cmd), "/dev/null")
			c.Dir, c.Stdout, c.Stderr = work, &out, &out
			done <- c.Run()
		}()
		page := waitForPage(t, ctx, "http://localhost:3000/", done, &out)
		final := openInBrowser(t, ctx, page)
		if err := <-done; err != nil {
			t.Fatalf("register: %v\n%s", err, out.String())
		}
		t.Logf("register printed:\n%s", out.String())
		if !strings.Contains(final, "dockopt.env") {
			t.Errorf("the page after GitHub's redirect does not say where the credentials went:\n%s", final)
		}
		subs := gh.Manifests()
		if len(subs) != 1 || subs[0].Org != "acme" {
			t.Fatalf("GitHub received manifests %+v, want one for the organization acme", subs)
		}
		hook, _ := subs[0].Manifest["hook_attributes"].(map[string]any)
		if hook["url"] != "https://dockopt.example.com/webhook" {
			t.Errorf("manifest webhook URL %v", hook["url"])
		}
		if fi, err := os.Stat(filepath.Join(compose, "dockopt.env")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("dockopt.env mode: %v %v", fi.Mode(), err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("2 environment", func(t *testing.T) {
		out, err := run(context.Background(), compose, stripCd(blocks[1]))
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		// What the two files give the services, as compose itself reads
		// them: dockopt's credentials from dockopt.env, the database
		// password from .env.
		env := composeEnvironment(t, compose)
		app := env["dockopt"]
		if app["DOCKOPT_APP_ID"] != fmt.Sprint(gh.AppID) || app["DOCKOPT_WEBHOOK_SECRET"] != gh.WebhookSecret {
			t.Fatalf("dockopt does not get the app GitHub created: %v", keys(app))
		}
		if app["DOCKOPT_GITHUB_URL"] != gh.URL() {
			t.Errorf("DOCKOPT_GITHUB_URL=%q, want %q", app["DOCKOPT_GITHUB_URL"], gh.URL())
		}
		if !strings.HasPrefix(app["DOCKOPT_PRIVATE_KEY"], "-----BEGIN RSA PRIVATE KEY-----\n") {
			t.Errorf("DOCKOPT_PRIVATE_KEY does not reach dockopt as a PEM key")
		}
		if pw := env["postgres"]["POSTGRES_PASSWORD"]; len(pw) != 48 || !strings.Contains(app["DOCKOPT_DATABASE_URL"], ":"+pw+"@") {
			t.Errorf("the .env password does not reach both PostgreSQL and dockopt's database URL")
		}
	})

	t.Run("3 start", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := run(ctx, compose, stripCd(blocks[2]))
		t.Logf("%s", out)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if n := strings.Count(out, "(healthy)"); n != 3 {
			t.Errorf("docker compose ps shows %d healthy services, want 3", n)
		}
		if lines := strings.Split(strings.TrimSpace(out), "\n"); lines[len(lines)-1] != "ok" {
			t.Errorf("/readyz did not answer ok")
		}
		checkHardening(t, compose)
	})
	if t.Failed() {
		t.FailNow()
	}

	// Steps 4 and 5 happen on GitHub; the double plays them, and delivers
	// to the published port as a TLS proxy in front of it would.
	inst := gh.AddInstallation("acme")
	repo := gh.AddRepo(inst, "acme", "shop", map[string]string{
		"Dockerfile": shopDockerfile,
		"server.js":  "require('http').createServer((q, s) => s.end('ok')).listen(3000)\n",
	})
	webhook := "http://127.0.0.1:8080/webhook"
	deliver := func(w githubtest.Webhook) {
		t.Helper()
		resp, err := gh.Send(context.Background(), webhook, w)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s delivery: %s %s", w.Event, resp.Status, body)
		}
	}

	t.Run("4 install and 5 push", func(t *testing.T) {
		deliver(gh.InstallationCreatedEvent(inst, "alice"))
		before := gh.Branch(repo, "main")
		after := gh.Push(repo, "main", map[string]string{"README.md": "# shop\n"}, "Add a README", "alice")
		deliver(gh.PushEvent(repo, "main", before, after, "alice"))

		deadline := time.Now().Add(3 * time.Minute)
		var prs []githubtest.PullRequest
		for time.Now().Before(deadline) {
			if prs = gh.PullRequests(repo); len(prs) > 0 {
				break
			}
			time.Sleep(time.Second)
		}
		if len(prs) != 1 {
			t.Fatalf("pull requests after the push: %d, want 1", len(prs))
		}
		pr := prs[0]
		t.Logf("pull request #%d %q from %s", pr.Number, pr.Title, pr.Head)
		if pr.Head != "dockopt/main" || pr.Base != "main" {
			t.Errorf("pull request %s → %s", pr.Head, pr.Base)
		}
		optimized, ok := gh.File(repo, pr.Head, "Dockerfile")
		if !ok || optimized == shopDockerfile {
			t.Fatalf("the pull request does not change the Dockerfile:\n%s", optimized)
		}
		t.Logf("optimized Dockerfile:\n%s", optimized)
		report, ok := gh.File(repo, pr.Head, ".dockopt/REPORT.md")
		if !ok {
			report = pr.Body
		}
		// Build verification ran in the rootless BuildKit service: the
		// report says what BuildKit built and quotes the sizes it
		// measured, not estimates (templates states both only when a
		// build ran).
		for _, claim := range []string{"Checked on BuildKit:", "builds ✓", "measured by building both versions with BuildKit"} {
			if !strings.Contains(report, claim) {
				t.Errorf("the report lacks %q; BuildKit did not verify the change:\n%s", claim, report)
			}
		}
		for _, line := range strings.Split(report, "\n") {
			if strings.Contains(line, "builds ✓") || strings.Contains(line, ", measured") {
				t.Logf("report: %s", strings.TrimSpace(line))
			}
		}
		var done *githubtest.CheckRun
		for time.Now().Before(deadline) {
			for _, cr := range gh.CheckRuns(repo) {
				if cr.HeadSHA == after && cr.Status == "completed" {
					done = &cr
				}
			}
			if done != nil {
				break
			}
			time.Sleep(time.Second)
		}
		if done == nil {
			t.Fatalf("no completed check run on %s: %+v", after, gh.CheckRuns(repo))
		}
		t.Logf("check run %q: %s, %d annotations: %s", done.Name, done.Conclusion, len(done.Annotations), done.Title)
		// The first commit dockopt analyzes on a branch has only existing
		// debt: the check run (fail_on: new, the default) reports it in
		// its summary, neutral, and annotates nothing.
		if done.Conclusion != "neutral" || len(done.Annotations) != 0 {
			t.Errorf("the first analyzed push concluded %s with %d annotations, want neutral with none", done.Conclusion, len(done.Annotations))
		}
		if !strings.Contains(done.Title+done.Summary, "existing") {
			t.Errorf("the check run does not report the existing findings:\n%s\n%s", done.Title, done.Summary)
		}
	})

	t.Run("upgrade keeps the queue", func(t *testing.T) {
		// The README's upgrade is "docker compose pull && docker compose up
		// -d --wait". Pulling needs the registries, so a new release is
		// played by a new tag of the same image, chosen as the README says
		// (DOCKOPT_IMAGE in .env); compose then replaces only dockopt,
		// which must stop gracefully while PostgreSQL keeps the queue.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		pgBefore, err := run(ctx, compose, "docker compose ps -q postgres")
		if err != nil {
			t.Fatal(err)
		}
		out, err := run(ctx, compose, `docker tag ghcr.io/dockopt/dockopt:0.1.0 ghcr.io/dockopt/dockopt:0.1.1-rehearsal &&
			echo DOCKOPT_IMAGE=ghcr.io/dockopt/dockopt:0.1.1-rehearsal >> .env &&
			docker compose up -d --wait && curl -fsS http://127.0.0.1:8080/readyz &&
			docker compose ps --format '{{.Service}} {{.Image}}'`)
		t.Cleanup(func() { run(context.Background(), compose, "docker rmi ghcr.io/dockopt/dockopt:0.1.1-rehearsal") })
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "dockopt ghcr.io/dockopt/dockopt:0.1.1-rehearsal") {
			t.Errorf("dockopt was not replaced by the new image:\n%s", out)
		}
		if pgAfter, _ := run(ctx, compose, "docker compose ps -q postgres"); pgAfter != pgBefore {
			t.Errorf("upgrading dockopt replaced PostgreSQL too (%s → %s)", strings.TrimSpace(pgBefore), strings.TrimSpace(pgAfter))
		}
		before := len(gh.CheckRuns(repo))
		head := gh.Branch(repo, "main")
		after := gh.Push(repo, "main", map[string]string{"docs/notes.md": "notes\n"}, "Notes", "alice")
		deliver(gh.PushEvent(repo, "main", head, after, "alice"))
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) && len(gh.CheckRuns(repo)) == before {
			time.Sleep(time.Second)
		}
		if len(gh.CheckRuns(repo)) == before {
			t.Fatalf("no check run for the push after recreating the stack")
		}
		if prs := gh.PullRequests(repo); len(prs) != 1 {
			t.Errorf("after the upgrade: %d pull requests, want the same one", len(prs))
		}
	})
}

// composeSteps returns the shell blocks of the README's docker compose
// installation, in order: register, environment, start.
func composeSteps(t *testing.T, readme string) []string {
	t.Helper()
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## From nothing to a working installation (docker compose)"
	_, section, ok := strings.Cut(string(data), heading+"\n")
	if !ok {
		t.Fatalf("%s has no section %q", readme, heading)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) != 3 {
		t.Fatalf("the docker compose section has %d shell blocks, want 3 (register, environment, start):\n%q", len(blocks), blocks)
	}
	return blocks
}

// stripCd drops a block's `cd deploy/compose`: the later blocks run where
// the first one left the person, and the rehearsal already runs them there.
func stripCd(block string) string {
	var keep []string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "cd deploy/compose") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

func run(ctx context.Context, dir, script string) (string, error) {
	c := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	c.Dir = dir
	out, err := c.CombinedOutput()
	return string(out), err
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func bridgeAddress(t *testing.T) string {
	t.Helper()
	ifc, err := net.InterfaceByName("docker0")
	if err != nil {
		t.Fatalf("no docker0 bridge: is the Docker Engine running? %v", err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	t.Fatalf("docker0 has no IPv4 address")
	return ""
}

// waitForPage polls the register page until it answers, failing early if
// the command ended.
func waitForPage(t *testing.T, ctx context.Context, u string, done chan error, out *bytes.Buffer) string {
	t.Helper()
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return u
			}
		}
		select {
		case err := <-done:
			t.Fatalf("register ended before serving its page: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("register's page never answered\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// openInBrowser opens the page register printed in headless Chromium, as
// the person would: the page's own script (allowed by its Content-Security-
// Policy hash) posts the manifest to GitHub, GitHub redirects back, and the
// final page is returned. Without Chromium the form is posted by hand, which
// proves less: no script runs and no CSP is enforced.
func openInBrowser(t *testing.T, ctx context.Context, page string) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the rehearsal opens the register page in Chromium; scripts/rehearse/compose.sh installs it")
	}
	// The flags keep Chromium from calling Google's services, which this
	// machine cannot reach; root needs --no-sandbox.
	c := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000",
		"--dump-dom", page)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	dom, err := c.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(dom)
}

// composeEnvironment is each service's environment as docker compose
// resolves it (env_file, environment, interpolation from .env).
func composeEnvironment(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	out, err := run(context.Background(), dir, "docker compose config --format json")
	if err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
	var cfg struct {
		Services map[string]struct {
			Environment map[string]string `json:"environment"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("docker compose config: %v", err)
	}
	env := map[string]map[string]string{}
	for name, svc := range cfg.Services {
		env[name] = svc.Environment
	}
	return env
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkHardening asks the engine what it actually applied to the running
// containers, since a compose key the engine ignores would pass any check
// of the file itself.
func checkHardening(t *testing.T, dir string) {
	t.Helper()
	out, err := run(context.Background(), dir, `docker inspect --format '{{.Name}} user={{.Config.User}} ro={{.HostConfig.ReadonlyRootfs}} capdrop={{.HostConfig.CapDrop}} capadd={{.HostConfig.CapAdd}} secopt={{.HostConfig.SecurityOpt}} privileged={{.HostConfig.Privileged}} ports={{json .HostConfig.PortBindings}}' $(docker compose ps -q)`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("applied:\n%s", out)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, "privileged=true") {
			t.Errorf("privileged container: %s", line)
		}
		if !strings.Contains(line, "capdrop=[ALL]") {
			t.Errorf("capabilities not dropped: %s", line)
		}
		switch {
		case strings.HasPrefix(line, "/dockopt-dockopt"):
			for _, want := range []string{"user=65532:65532", "ro=true", "no-new-privileges:true", `"HostIp":"127.0.0.1","HostPort":"8080"`} {
				if !strings.Contains(line, want) {
					t.Errorf("dockopt container lacks %s: %s", want, line)
				}
			}
		case strings.HasPrefix(line, "/dockopt-postgres"):
			for _, want := range []string{"user=70:70", "ro=true", "no-new-privileges:true", "ports={}"} {
				if !strings.Contains(line, want) {
					t.Errorf("postgres container lacks %s: %s", want, line)
				}
			}
		}
	}
	// PostgreSQL is reachable on the internal network dockopt shares with
	// it, and from nowhere else: not from the network that faces GitHub.
	probe := "docker run --rm --network %s --entrypoint pg_isready postgres:17-alpine --host=postgres --timeout=3"
	if out, err := run(context.Background(), dir, fmt.Sprintf(probe, "dockopt_back")); err != nil {
		t.Errorf("PostgreSQL is not reachable on the internal network: %v\n%s", err, out)
	}
	if out, err := run(context.Background(), dir, fmt.Sprintf(probe, "dockopt_front")); err == nil {
		t.Errorf("PostgreSQL is reachable from the front network:\n%s", out)
	}
}
