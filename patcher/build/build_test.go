package build

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/internal/buildkittest"
	"github.com/dockopt/dockopt/internal/githost"
)

// writeContext lays out a build context from path → content.
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// One daemon serves every case: starting one costs more than most builds.
func TestBuild(t *testing.T) {
	env := buildkittest.Start(t)
	b := &Builder{Addr: env.Addr, Timeout: 2 * time.Minute}
	ctx := context.Background()

	build := func(t *testing.T, req Request) Result {
		t.Helper()
		res, err := b.Build(ctx, req)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		return res
	}
	mustBuild := func(t *testing.T, req Request) Result {
		t.Helper()
		res := build(t, req)
		if !res.OK {
			t.Fatalf("build failed:\n%s", res.Error)
		}
		t.Logf("built in %s: %d layers, %d bytes compressed, user %q", res.Duration, res.Layers, res.CompressedSize, res.User)
		return res
	}

	t.Run("run", func(t *testing.T) {
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nRUN echo hi > /x\n"})
		res := mustBuild(t, Request{ContextDir: dir})
		if res.Layers < 2 {
			t.Errorf("Layers = %d, want the base layer and the RUN layer", res.Layers)
		}
		if res.CompressedSize <= 0 {
			t.Errorf("CompressedSize = %d, want > 0", res.CompressedSize)
		}
		if res.User != "" {
			t.Errorf("User = %q, want root", res.User)
		}
	})

	t.Run("multi-stage", func(t *testing.T) {
		dir := writeContext(t, map[string]string{
			"Dockerfile": "" +
				"FROM golang:1.23 AS build\n" +
				"WORKDIR /src\n" +
				"COPY main.txt .\n" +
				"RUN cp main.txt app && echo built >> app\n" +
				"\n" +
				"FROM gcr.io/distroless/static-debian12:nonroot\n" +
				"COPY --from=build /src/app /app\n",
			"main.txt": "source\n",
		})
		final := mustBuild(t, Request{ContextDir: dir})
		if final.User != "65532" {
			t.Errorf("User = %q, want the distroless base's 65532", final.User)
		}
		if final.Layers != 2 {
			t.Errorf("Layers = %d, want the base layer and the COPY --from layer", final.Layers)
		}
		// The build stage alone carries the WORKDIR, COPY and RUN layers
		// that the final image leaves behind.
		stage := mustBuild(t, Request{ContextDir: dir, Target: "build"})
		if stage.Layers <= final.Layers {
			t.Errorf("build stage has %d layers, final image %d; want the stage to have more", stage.Layers, final.Layers)
		}
	})

	t.Run("user", func(t *testing.T) {
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nRUN id nobody\nUSER nobody\n"})
		if res := mustBuild(t, Request{ContextDir: dir}); res.User != "nobody" {
			t.Errorf("User = %q, want nobody", res.User)
		}
	})

	t.Run("created user", func(t *testing.T) {
		dir := writeContext(t, map[string]string{"Dockerfile": "" +
			"FROM node:20-alpine\n" +
			"RUN addgroup -S app && adduser -S -G app app && id app\n" +
			"RUN mkdir /data && chown app:app /data\n" +
			"USER app\n" +
			"RUN touch /data/ok\n"})
		if res := mustBuild(t, Request{ContextDir: dir}); res.User != "app" {
			t.Errorf("User = %q, want app", res.User)
		}
	})

	t.Run("failing run", func(t *testing.T) {
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nRUN echo about to fail && false\n"})
		res := build(t, Request{ContextDir: dir})
		if res.OK {
			t.Fatal("OK = true for a Dockerfile whose RUN exits 1")
		}
		for _, want := range []string{"RUN echo about to fail && false", "about to fail", "exit code: 1"} {
			if !strings.Contains(res.Error, want) {
				t.Errorf("Error does not mention %q:\n%s", want, res.Error)
			}
		}
	})

	t.Run("missing base image", func(t *testing.T) {
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM 127.0.0.1:1/nothing/here:1\nRUN true\n"})
		res := build(t, Request{ContextDir: dir})
		if res.OK || !strings.Contains(res.Error, "nothing/here") {
			t.Errorf("want a failure naming the image, got OK=%v Error=%q", res.OK, res.Error)
		}
	})

	t.Run("cache mount", func(t *testing.T) {
		// A cache mount outlives the build that filled it: a second build
		// finds what the first left there.
		marker := fmt.Sprintf("/root/.cache/marker-%d", time.Now().UnixNano())
		write := writeContext(t, map[string]string{"Dockerfile": "" +
			"# syntax=docker/dockerfile:1\n" +
			"FROM python:3.12-slim\n" +
			"RUN --mount=type=cache,target=/root/.cache echo cached > " + marker + "\n"})
		mustBuild(t, Request{ContextDir: write})
		read := writeContext(t, map[string]string{"Dockerfile": "" +
			"FROM python:3.12-slim\n" +
			"RUN --mount=type=cache,target=/root/.cache grep cached " + marker + "\n" +
			"RUN test ! -e " + marker + "\n"})
		mustBuild(t, Request{ContextDir: read})
	})

	t.Run("cleanup shrinks the image", func(t *testing.T) {
		// What the patcher's apt fixes claim, measured: the test images'
		// apt-get leaves package lists and archives behind like the real one.
		before := writeContext(t, map[string]string{"Dockerfile": "" +
			"FROM debian:bookworm-slim\n" +
			"RUN apt-get update && apt-get install -y curl\n"})
		after := writeContext(t, map[string]string{"Dockerfile": "" +
			"FROM debian:bookworm-slim\n" +
			"RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n" +
			"    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb\n"})
		orig, opt := mustBuild(t, Request{ContextDir: before}), mustBuild(t, Request{ContextDir: after})
		if opt.CompressedSize >= orig.CompressedSize {
			t.Errorf("cleaned image is %d bytes, original %d; want smaller", opt.CompressedSize, orig.CompressedSize)
		}
	})

	t.Run("dockerfile in a subdirectory", func(t *testing.T) {
		dir := writeContext(t, map[string]string{
			"docker/app.Dockerfile": "FROM debian:bookworm-slim\nCOPY hello.txt /\nRUN test -f /hello.txt\n",
			"hello.txt":             "hello\n",
		})
		mustBuild(t, Request{ContextDir: dir, Dockerfile: "docker/app.Dockerfile"})
	})

	// The frontend converts in dockopt's process, where BuildKit reads the
	// host key of a git repository an ADD names over SSH. Only x/crypto/ssh
	// (that scan) says "SSH-2.0-Go"; a git fetch by the daemon would be
	// OpenSSH.
	t.Run("no connection to a git host from dockopt", func(t *testing.T) {
		// Only x/crypto/ssh's clients say "SSH-2.0-Go" first.
		host := githost.Start(t, func(c net.Conn) bool {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			return strings.HasPrefix(line, "SSH-2.0-Go")
		})
		addr, scans := host.Addr, host.Connections
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nADD ssh://git@" + addr + "/org/repo.git /src\n"})
		res := build(t, Request{ContextDir: dir})
		if n := scans(); n != 0 {
			t.Errorf("dockopt's process connected to the git host %d times (build OK=%v, error %q)", n, res.OK, res.Error)
		}
		if res.OK || !strings.Contains(res.Error, "not built: an ADD may name a git repository over SSH") {
			t.Errorf("want the build refused with the reason, got OK=%v Error=%q", res.OK, res.Error)
		}
		// A variable may expand to such a remote, in the base image's
		// environment too, which only the frontend knows.
		dir = writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nARG SRC=app.txt\nADD ${SRC} /src\n", "app.txt": "x\n"})
		if res := build(t, Request{ContextDir: dir}); res.OK || !strings.Contains(res.Error, "not built") {
			t.Errorf("ADD ${SRC}: want the build refused, got OK=%v Error=%q", res.OK, res.Error)
		}
		dir = writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nADD app.txt /src\n", "app.txt": "x\n"})
		if res := build(t, Request{ContextDir: dir}); !res.OK {
			t.Errorf("ADD of a local file: want it built, got %q", res.Error)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nRUN sleep 60\n"})
		short := &Builder{Addr: env.Addr, Timeout: 3 * time.Second}
		res, err := short.Build(ctx, Request{ContextDir: dir, NoCache: true})
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		if res.OK || !strings.Contains(res.Error, "did not finish within 3s") {
			t.Errorf("want a timed-out failure, got OK=%v Error=%q", res.OK, res.Error)
		}
	})
}

func TestBuildUnreachable(t *testing.T) {
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\n"})
	b := &Builder{Addr: "unix://" + filepath.Join(t.TempDir(), "none.sock")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.Build(ctx, Request{ContextDir: dir}); err == nil {
		t.Fatal("Build with no daemon returned no error")
	}
}

func BenchmarkSmallBuild(b *testing.B) {
	env := buildkittest.Start(b)
	bk := &Builder{Addr: env.Addr}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM alpine:3.20\nRUN echo hi > /x\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := bk.Build(context.Background(), Request{ContextDir: dir, NoCache: true})
		if err != nil || !res.OK {
			b.Fatalf("build: %v %s", err, res.Error)
		}
	}
}
