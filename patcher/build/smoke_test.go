package build

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockopt/dockopt/internal/buildkittest"
)

// httpdImage serves /www on :8080 with busybox httpd, the stand-in for a
// web application.
const httpdImage = "FROM alpine:3.20\n" +
	"RUN mkdir /www && echo ok > /www/index.html\n" +
	"EXPOSE 8080\n"

// noShellImage is an image with no /bin/sh: busybox under its own name
// only, as a distroless image holds only its application binary.
const noShellImage = "FROM alpine:3.20 AS tools\n" +
	"FROM scratch\n" +
	"COPY --from=tools /bin/busybox /app/httpd\n" +
	"COPY --from=tools /bin/busybox /app/wget\n" +
	"ENTRYPOINT [\"/app/httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/app\"]\n"

func TestSmoke(t *testing.T) {
	env := buildkittest.Start(t)
	limits := SmokeOptions{Grace: time.Second, Timeout: 4 * time.Second}
	b := &Builder{Addr: env.Addr, Timeout: 2 * time.Minute, Smoke: limits}
	run := func(t *testing.T, dockerfile string) Smoke {
		t.Helper()
		dir := writeContext(t, map[string]string{"Dockerfile": dockerfile})
		res, err := b.Build(context.Background(), Request{ContextDir: dir, Smoke: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			t.Fatalf("build failed:\n%s", res.Error)
		}
		t.Logf("built in %s; smoke run %s: %+v", res.Duration, res.Smoke.Duration, res.Smoke)
		return res.Smoke
	}

	t.Run("starts and becomes healthy", func(t *testing.T) {
		s := run(t, httpdImage+
			"HEALTHCHECK CMD wget -q -O- http://127.0.0.1:8080/ || exit 1\n"+
			"CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n")
		if !s.Ran || !s.Started || !s.Healthcheck || !s.Healthy || !s.Proven() || s.Reason != "" {
			t.Errorf("want started and healthy, got %+v", s)
		}
	})

	t.Run("runs as the image says, with no network", func(t *testing.T) {
		s := run(t, "FROM alpine:3.20\nUSER nobody\nWORKDIR /tmp\nENV GREETING=hello\n"+
			"ENTRYPOINT [\"sh\", \"-c\", \"ls /sys/class/net; id -u; pwd; echo $GREETING $0; exec sleep 60\"]\n"+
			"CMD [\"from-cmd\"]\n")
		if want := "lo\n65534\n/tmp\nhello from-cmd\n"; s.Output != want {
			t.Errorf("the process saw:\n%s\nwant:\n%s", s.Output, want)
		}
		if !s.Started || s.Healthcheck || !s.Proven() {
			t.Errorf("want started with no health check, got %+v", s)
		}
	})

	t.Run("writes to its root filesystem", func(t *testing.T) {
		s := run(t, "FROM alpine:3.20\nCMD [\"sh\", \"-c\", \"echo x > /etc/app.pid && exec sleep 60\"]\n")
		if !s.Proven() {
			t.Errorf("the root filesystem should be writable, as under Docker: %+v", s)
		}
	})

	t.Run("exits at once", func(t *testing.T) {
		s := run(t, "FROM alpine:3.20\nCMD [\"sh\", \"-c\", \"echo starting; echo cannot open /app/config >&2; exit 3\"]\n")
		if s.Started || s.Proven() || s.ExitCode != 3 {
			t.Errorf("want not started, exit code 3, got %+v", s)
		}
		if !strings.HasPrefix(s.Reason, "exited with code 3 after ") || !strings.Contains(s.Output, "cannot open /app/config") {
			t.Errorf("reason %q, output %q; want the exit code and the last output", s.Reason, s.Output)
		}
	})

	t.Run("a user that does not exist", func(t *testing.T) {
		s := run(t, "FROM alpine:3.20\nUSER app\nCMD [\"sleep\", \"60\"]\n")
		if s.Started || !strings.Contains(s.Reason, "app") {
			t.Errorf("want a failure naming the user, got %+v", s)
		}
	})

	t.Run("a health check that never passes", func(t *testing.T) {
		s := run(t, httpdImage+
			"HEALTHCHECK --interval=30s CMD wget -q -O- http://127.0.0.1:9999/ || exit 7\n"+
			"CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n")
		if !s.Started || s.Healthy || s.Proven() {
			t.Errorf("want started but unhealthy, got %+v", s)
		}
		// Uncapped, the first probe would come after 30 s: none within the
		// 4 s. Capped, one a second after the last ended; a loaded machine
		// makes each probe (a runc exec) slower, so two is the bound.
		if s.Probes < 2 {
			t.Errorf("%d probes in %s; want the image's 30 s interval capped to %s", s.Probes, limits.Timeout, DefaultSmokeProbeInterval)
		}
		for _, want := range []string{"no health probe passed within 4s", "probe exited with code 7", "Connection refused"} {
			if !strings.Contains(s.Reason, want) {
				t.Errorf("reason does not say %q: %s", want, s.Reason)
			}
		}
	})

	t.Run("a probe that hangs", func(t *testing.T) {
		s := run(t, "FROM alpine:3.20\nHEALTHCHECK --timeout=1s CMD sleep 30\nCMD [\"sleep\", \"60\"]\n")
		if !s.Started || s.Healthy || !strings.Contains(s.Reason, "probe did not finish within 1s") {
			t.Errorf("want a timed-out probe, got %+v", s)
		}
	})

	t.Run("an image without a shell", func(t *testing.T) {
		s := run(t, noShellImage+"HEALTHCHECK CMD [\"/app/wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/httpd\"]\n")
		if !s.Proven() {
			t.Errorf("want started and healthy, got %+v", s)
		}
		// Docker runs a shell-form probe with /bin/sh, which this image
		// lacks: it can never pass, and the harness must not pretend.
		s = run(t, noShellImage+"HEALTHCHECK CMD /app/wget -q -O /dev/null http://127.0.0.1:8080/httpd\n")
		if !s.Started || s.Healthy || !strings.Contains(s.Reason, "/bin/sh") {
			t.Errorf("want a shell-form probe to fail for want of /bin/sh, got %+v", s)
		}
	})

	t.Run("no busybox to drive the probe", func(t *testing.T) {
		nobb := &Builder{Addr: env.Addr, Smoke: limits}
		nobb.Smoke.Busybox = "busybox:no-such-tag"
		dir := writeContext(t, map[string]string{"Dockerfile": httpdImage +
			"HEALTHCHECK CMD wget -q -O- http://127.0.0.1:8080/ || exit 1\n" +
			"CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"})
		res, err := nobb.Build(context.Background(), Request{ContextDir: dir, Smoke: true})
		if err != nil || !res.OK {
			t.Fatalf("build: %v %s", err, res.Error)
		}
		s := res.Smoke
		if !s.Started || s.Healthy || s.Proven() || s.Probes != 0 || !strings.Contains(s.HealthSkipped, "busybox:no-such-tag") {
			t.Errorf("want started, health not checked for want of busybox, got %+v", s)
		}
	})

	t.Run("nothing to start", func(t *testing.T) {
		s := run(t, "FROM alpine:3.20 AS tools\nFROM scratch\nCOPY --from=tools /etc/hostname /\n")
		if s.Ran || s.Skipped != "the image has no ENTRYPOINT or CMD to start" {
			t.Errorf("want not checked, got %+v", s)
		}
	})

	t.Run("off", func(t *testing.T) {
		off := &Builder{Addr: env.Addr, Smoke: SmokeOptions{Off: true}}
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nCMD [\"sleep\", \"60\"]\n"})
		res, err := off.Build(context.Background(), Request{ContextDir: dir, Smoke: true})
		if err != nil || !res.OK || res.Smoke.Ran || res.Smoke.Skipped != "" {
			t.Errorf("want a build and no smoke run, got %v %+v", err, res)
		}
	})

	t.Run("a failing build is not started", func(t *testing.T) {
		dir := writeContext(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nRUN echo broken && false\nCMD [\"sleep\", \"60\"]\n"})
		res, err := b.Build(context.Background(), Request{ContextDir: dir, Smoke: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK || res.Smoke.Ran || !strings.Contains(res.Error, "broken") {
			t.Errorf("want a build failure with its output and no smoke run, got %+v", res)
		}
	})
}
