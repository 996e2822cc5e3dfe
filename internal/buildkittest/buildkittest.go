// Package buildkittest runs a real buildkitd for tests, the way
// net/http/httptest runs a real server: Start gives a test a private
// daemon whose base images come from an in-process registry, so
// "FROM alpine:3.20" builds with no network at all.
//
// What it needs on the machine (scripts/install-buildkit.sh installs all
// of it): root, runc, a static busybox (BusyboxPath), and a buildkitd binary in
// <repo>/bin, $DOCKOPT_BUILDKITD or PATH. When something is missing the
// test is skipped, unless $CI is set: CI must really build.
package buildkittest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
)

// Env is one running buildkitd and the registry it pulls base images from.
type Env struct {
	// Addr is the daemon's address for buildkit's client.New, "unix:///…".
	Addr string
	// Registry is the in-process registry's host:port. Docker Hub names
	// live at its root (Registry+"/library/alpine:3.20"); other mirrored
	// hosts under a prefix (Registry+"/gcr.io/distroless/…").
	Registry string

	logPath string
}

// readyTimeout bounds how long a daemon may take to answer; a cold start
// here takes well under a second, so this only guards against hangs.
const readyTimeout = 60 * time.Second

// Start runs a registry holding DefaultImages and a buildkitd that
// mirrors Docker Hub and the other well-known hosts to it. Both stop when
// the test ends; the daemon's log is shown if the test failed.
func Start(t testing.TB) *Env {
	t.Helper()
	buildkitd, runc := requirements(t)

	reg := StartRegistry(t, "127.0.0.1:0")
	e := &Env{Registry: reg}

	root := t.TempDir()
	// A unix socket path must fit in 108 bytes; t.TempDir's paths carry
	// the test name and can be longer.
	sockDir, err := os.MkdirTemp("", "bk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	e.Addr = "unix://" + filepath.Join(sockDir, "buildkitd.sock")
	e.logPath = filepath.Join(root, "buildkitd.log")

	cfgPath := filepath.Join(root, "buildkitd.toml")
	if err := os.WriteFile(cfgPath, []byte(daemonConfig(runc, reg)), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(e.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	cmd := exec.Command(buildkitd,
		"--config", cfgPath,
		"--root", filepath.Join(root, "state"),
		"--addr", e.Addr,
		"--debug",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Its own process group, so a signal to the test's group (^C) does not
	// race with the orderly stop below.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("buildkittest: starting %s: %v", buildkitd, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	t.Cleanup(func() {
		stop(cmd, exited)
		if t.Failed() {
			t.Logf("buildkitd log (last lines):\n%s", e.LogTail(80))
		}
	})

	if err := waitReady(e.Addr, exited); err != nil {
		t.Fatalf("buildkittest: %v\nbuildkitd log:\n%s", err, e.LogTail(80))
	}
	return e
}

// AddImage builds im and pushes it to the test registry as ref, a
// reference as written in a Dockerfile ("alpine:3.20", "gcr.io/x/y:tag").
// Its host must be one the daemon mirrors (see DefaultImages).
func (e *Env) AddImage(ref string, im Image) error {
	dst, err := e.mirrorRef(ref)
	if err != nil {
		return err
	}
	img, err := cachedBuild(im)
	if err != nil {
		return err
	}
	return remote.Write(dst, img)
}

// LogTail returns the last n lines of the daemon's log.
func (e *Env) LogTail(n int) string {
	data, _ := os.ReadFile(e.logPath)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// mirrorRef maps a Dockerfile's image reference to where the daemon will
// look for it in the test registry.
func (e *Env) mirrorRef(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	host := r.Context().RegistryStr()
	if host == name.DefaultRegistry {
		host = "docker.io"
	}
	prefix, ok := mirrorPrefix(host)
	if !ok {
		return nil, fmt.Errorf("%s: registry host %s is not mirrored by the test daemon (have %s)", ref, host, strings.Join(mirroredHosts, ", "))
	}
	return name.ParseReference(e.Registry+prefix+"/"+r.Context().RepositoryStr()+":"+r.Identifier(), name.Insecure)
}

func mirrorPrefix(host string) (string, bool) {
	for _, h := range mirroredHosts {
		if h == host {
			if host == "docker.io" {
				return "", true
			}
			return "/" + host, true
		}
	}
	return "", false
}

// daemonConfig is buildkitd.toml for a test daemon.
//
// Choices that make a rootful daemon work on a bare Debian machine:
//   - the OCI worker with runc, no containerd;
//   - the native snapshotter: plain copies, no overlayfs mounts to set up
//     or leak between tests, and nothing kernel-specific;
//   - host networking: RUN steps need no CNI plugins, bridges or iptables
//     (and reach nothing here but loopback anyway);
//   - no garbage collection: a test daemon lives for seconds.
//
// Rootful runc 1.1 from Debian needs no extra flags in this sandbox (a VM
// with cgroup v1 controllers mounted and no user namespace): pivot_root
// works on the native snapshotter's plain directories, and runc makes
// its cgroups under buildkit/ in each hierarchy. If a machine refuses
// pivot_root (a rootfs on ramfs), buildkitd would need runc's
// --no-pivot, which BuildKit does not expose; that is not the case here.
func daemonConfig(runc, reg string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "debug = true\n\n")
	fmt.Fprintf(&b, "[worker.oci]\n  enabled = true\n  snapshotter = \"native\"\n  binary = %q\n  networkMode = \"host\"\n  gc = false\n\n", runc)
	fmt.Fprintf(&b, "[worker.containerd]\n  enabled = false\n\n")
	for _, h := range mirroredHosts {
		prefix, _ := mirrorPrefix(h)
		fmt.Fprintf(&b, "[registry.%q]\n  mirrors = [%q]\n\n", h, reg+prefix)
	}
	fmt.Fprintf(&b, "[registry.%q]\n  http = true\n  insecure = true\n", reg)
	return b.String()
}

// requirements finds buildkitd and runc, or ends the test saying what is
// missing. With DOCKOPT_TEST_WITHOUT_BUILDKIT set it skips, in CI too:
// scripts/test.sh's race step sets it, because BuildKit's Dockerfile
// frontend, which a build runs in the test's process, writes a field on
// every image lookup from several goroutines (frontend/dockerfile/builder,
// resolvecache.go, v0.34.2), and -race fails the test for that.
func requirements(t testing.TB) (buildkitd, runc string) {
	t.Helper()
	if os.Getenv("DOCKOPT_TEST_WITHOUT_BUILDKIT") != "" {
		t.Skip("buildkittest: DOCKOPT_TEST_WITHOUT_BUILDKIT is set; the builds run in go test's main step")
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (a rootful buildkitd; rootless needs rootlesskit)")
	}
	buildkitd = findBuildkitd()
	if buildkitd == "" {
		missing = append(missing, "buildkitd (run scripts/install-buildkit.sh, or set DOCKOPT_BUILDKITD)")
	}
	runc = findRunc()
	if runc == "" {
		missing = append(missing, "runc (apt-get install runc)")
	}
	if err := checkBusybox(); err != nil {
		missing = append(missing, err.Error())
	}
	if len(missing) > 0 {
		msg := "buildkittest: a real BuildKit needs: " + strings.Join(missing, "; ")
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return buildkitd, runc
}

func findBuildkitd() string {
	if p := os.Getenv("DOCKOPT_BUILDKITD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	if dir, err := os.Getwd(); err == nil {
		for ; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, "bin", "buildkitd")
				if _, err := os.Stat(p); err == nil {
					return p
				}
				break
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	p, _ := exec.LookPath("buildkitd")
	return p
}

func findRunc() string {
	for _, name := range []string{"buildkit-runc", "runc", "/usr/sbin/runc", "/usr/bin/runc"} {
		if p, err := exec.LookPath(name); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
		}
	}
	return ""
}

// StartRegistry serves DefaultImages from an in-process registry on
// listenAddr until the test ends and returns its host:port. Docker Hub
// names live at its root, every other mirrored host under a prefix named
// after it (see mirroredHosts). Start uses it on loopback; a test whose
// builder runs elsewhere (in a container, say) listens where that builder
// can reach it.
func StartRegistry(t testing.TB, listenAddr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	reg := ln.Addr().String()
	if addr := ln.Addr().(*net.TCPAddr); addr.IP.IsUnspecified() {
		// Listening everywhere: this process reaches it on loopback.
		reg = net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
	}
	e := &Env{Registry: reg}
	for ref, im := range DefaultImages() {
		if err := e.AddImage(ref, im); err != nil {
			t.Fatalf("buildkittest: pushing %s: %v", ref, err)
		}
	}
	return reg
}

var buildCache sync.Map // fmt.Sprint(Image) → v1.Image

// cachedBuild builds each distinct Image once per process: most default
// images are the same, and compressing busybox is the slow part.
func cachedBuild(im Image) (v1.Image, error) {
	key := fmt.Sprintf("%#v", im)
	if img, ok := buildCache.Load(key); ok {
		return img.(v1.Image), nil
	}
	img, err := im.Build()
	if err != nil {
		return nil, err
	}
	// Digest the layer now, so the cached value is complete and later
	// pushes only stream it.
	if _, err := img.Digest(); err != nil {
		return nil, err
	}
	buildCache.Store(key, img)
	return img, nil
}

func waitReady(addr string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	var last error
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("buildkitd exited before it was ready: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("buildkitd not ready after %s: %v", readyTimeout, last)
		case <-time.After(100 * time.Millisecond):
		}
		last = ping(ctx, addr)
		if last == nil {
			return nil
		}
	}
}

// ping asks the daemon for its workers: it answers only once the OCI
// worker is set up, which is what a build needs.
func ping(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return errors.New("no workers")
	}
	return nil
}

// stop ends the daemon: SIGTERM lets it unmount and release its lock,
// SIGKILL if it hangs.
func stop(cmd *exec.Cmd, exited <-chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}
