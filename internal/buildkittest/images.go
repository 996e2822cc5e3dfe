package buildkittest

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BusyboxPath is the static busybox every test image is made of: the
// first busybox on PATH that is statically linked (scripts/install-
// buildkit.sh unpacks Debian's busybox-static into bin/ rather than
// replace the system's busybox package), else /bin/busybox, which is
// static when the busybox-static package is installed.
var BusyboxPath = findStaticBusybox()

func findStaticBusybox() string {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "busybox")
		if dir != "" && staticELF(p) == nil {
			return p
		}
	}
	return "/bin/busybox"
}

// staticELF reports why the binary at p is not a static ELF executable.
func staticELF(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return errors.New("dynamically linked")
		}
	}
	return nil
}

//go:embed rootfs/accounts.sh
var accountsScript []byte

//go:embed rootfs/pkg.sh
var pkgScript []byte

// Image describes one test base image. The zero value is a plain
// busybox image with root and nobody.
type Image struct {
	// Users are extra accounts in /etc/passwd and /etc/group, each with
	// a group of the same name and id and a home directory it owns.
	Users []User
	// User is the config's default user ("" runs as root).
	User string
	// Env is added to the config after PATH, as KEY=VALUE.
	Env []string
	// WorkingDir is the config's working directory.
	WorkingDir string
	// Files are extra regular files (path → content, mode 0755), for
	// stand-ins of tools a test needs.
	Files map[string]string
}

// User is an account of a test image.
type User struct {
	Name string
	ID   int
}

// DefaultImages are the images Start pushes, under the names real
// Dockerfiles use. A name without a registry host is a Docker Hub name.
// The few differences between them are the ones Dockerfiles depend on:
// the node and nginx images' own users, golang's GOPATH, distroless'
// non-root default user.
func DefaultImages() map[string]Image {
	plain := Image{}
	node := Image{Users: []User{{"node", 1000}}, Env: []string{"NODE_VERSION=20.18.0", "YARN_VERSION=1.22.22"}}
	nginx := Image{Users: []User{{"nginx", 101}}, Env: []string{"NGINX_VERSION=1.27.3"}}
	python := Image{Env: []string{"PYTHON_VERSION=3.12.8", "LANG=C.UTF-8"}}
	golang := Image{Env: []string{"GOLANG_VERSION=1.23.4", "GOPATH=/go"}, WorkingDir: "/go"}
	distroless := Image{Users: []User{{"nonroot", 65532}}}
	distrolessNonroot := distroless
	distrolessNonroot.User = "65532"
	return map[string]Image{
		"library/alpine:3.20":                              plain,
		"library/alpine:3.21":                              plain,
		"library/alpine:latest":                            plain,
		"library/busybox:latest":                           plain,
		"library/busybox:1.37.0-musl":                      plain,
		"library/debian:bookworm":                          plain,
		"library/debian:bookworm-slim":                     plain,
		"library/debian:12":                                plain,
		"library/debian:12-slim":                           plain,
		"library/ubuntu:22.04":                             plain,
		"library/ubuntu:24.04":                             plain,
		"library/node:20":                                  node,
		"library/node:20-alpine":                           node,
		"library/node:20-slim":                             node,
		"library/node:22":                                  node,
		"library/node:22-alpine":                           node,
		"library/node:22-slim":                             node,
		"library/python:3.12":                              python,
		"library/python:3.12-slim":                         python,
		"library/python:3.12-alpine":                       python,
		"library/golang:1.23":                              golang,
		"library/golang:1.23-alpine":                       golang,
		"library/nginx:1.27-alpine":                        nginx,
		"library/nginx:alpine":                             nginx,
		"nginxinc/nginx-unprivileged:1.27-alpine":          Image{Users: []User{{"nginx", 101}}, User: "101", Env: nginx.Env},
		"gcr.io/distroless/static-debian12:latest":         distroless,
		"gcr.io/distroless/static-debian12:nonroot":        distrolessNonroot,
		"gcr.io/distroless/base-debian12:nonroot":          distrolessNonroot,
		"gcr.io/distroless/nodejs20-debian12:nonroot":      distrolessNonroot,
		"gcr.io/distroless/python3-debian12:nonroot":       distrolessNonroot,
		"cgr.dev/chainguard/static:latest":                 distrolessNonroot,
		"ghcr.io/dockopt/test-base:latest":                 plain,
		"mcr.microsoft.com/dotnet/runtime-deps:8.0-alpine": plain,
	}
}

// mirroredHosts are the registry hosts buildkitd is told to fetch from
// the test registry. docker.io maps to the registry's root; every other
// host to a path prefix named after it, so "gcr.io/distroless/static"
// lives at "<registry>/gcr.io/distroless/static".
var mirroredHosts = []string{"docker.io", "gcr.io", "ghcr.io", "quay.io", "mcr.microsoft.com", "public.ecr.aws", "registry.k8s.io", "cgr.dev"}

// busyboxApplets lists the paths busybox installs itself under
// ("bin/sh", "usr/bin/wget", …), asked of the binary itself.
var busyboxApplets = sync.OnceValues(func() ([]string, error) {
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	return strings.Fields(string(out)), nil
})

// checkBusybox reports why BusyboxPath cannot be used in an image.
func checkBusybox() error {
	if err := staticELF(BusyboxPath); err != nil {
		return fmt.Errorf("%s: %w; the test images have no libc (scripts/install-buildkit.sh puts a static busybox in bin/)", BusyboxPath, err)
	}
	return nil
}

// Build makes the image: one layer holding busybox with its applet links,
// the account and package-manager stand-ins, /etc/passwd and /etc/group.
func (im Image) Build() (v1.Image, error) {
	layer, err := im.layer()
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{CreatedBy: "dockopt buildkittest: busybox base", Created: v1.Time{Time: epoch}},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = runtime.GOARCH
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, im.Env...)
	cf.Config.Cmd = []string{"sh"}
	cf.Config.User = im.User
	cf.Config.WorkingDir = im.WorkingDir
	return mutate.ConfigFile(img, cf)
}

// epoch keeps the images' digests stable from run to run, so buildkitd's
// cache and any digest a test pins keep meaning the same image.
var epoch = time.Unix(0, 0).UTC()

func (im Image) layer() (v1.Layer, error) {
	if err := checkBusybox(); err != nil {
		return nil, err
	}
	applets, err := busyboxApplets()
	if err != nil {
		return nil, err
	}
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, err
	}

	users := append([]User{{"root", 0}}, im.Users...)
	var passwd, group strings.Builder
	for _, u := range users {
		home := "/home/" + u.Name
		if u.Name == "root" {
			home = "/root"
		}
		fmt.Fprintf(&passwd, "%s:x:%d:%d:%s:%s:/bin/sh\n", u.Name, u.ID, u.ID, u.Name, home)
		fmt.Fprintf(&group, "%s:x:%d:\n", u.Name, u.ID)
	}
	passwd.WriteString("nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
	group.WriteString("users:x:100:\nnogroup:x:65534:\n")

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	w := &tarWriter{tw: tw}
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "root", "sbin", "sys", "usr", "usr/bin", "usr/sbin", "usr/local", "usr/local/bin", "usr/lib", "var", "var/cache", "var/lib", "var/log", "run"} {
		w.dir(d, 0o755, 0)
	}
	w.dir("tmp", 0o1777, 0)
	w.file("bin/busybox", bb, 0o755)
	w.file("etc/passwd", []byte(passwd.String()), 0o644)
	w.file("etc/group", []byte(group.String()), 0o644)
	w.file("etc/hostname", []byte("buildkittest\n"), 0o644)
	w.file("usr/lib/dockopt-test/accounts", accountsScript, 0o755)
	w.file("usr/lib/dockopt-test/pkg", pkgScript, 0o755)
	for _, u := range im.Users {
		w.dir("home/"+u.Name, 0o755, u.ID)
	}

	links := map[string]string{}
	for _, a := range applets {
		if a != "bin/busybox" {
			links[a] = "/bin/busybox"
		}
	}
	for _, name := range []string{"usr/sbin/adduser", "usr/sbin/addgroup", "usr/sbin/useradd", "usr/sbin/groupadd"} {
		links[name] = "/usr/lib/dockopt-test/accounts"
	}
	for _, name := range []string{"usr/bin/apt-get", "usr/bin/apt", "sbin/apk"} {
		links[name] = "/usr/lib/dockopt-test/pkg"
	}
	for path, content := range im.Files {
		path = strings.TrimPrefix(path, "/")
		delete(links, path)
		w.file(path, []byte(content), 0o755)
	}
	names := make([]string, 0, len(links))
	for n := range links {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w.symlink(n, links[n])
	}
	if w.err != nil {
		return nil, w.err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithCompressedCaching)
}

// tarWriter writes entries, creating parent directories on the way and
// keeping the first error.
type tarWriter struct {
	tw   *tar.Writer
	dirs map[string]bool
	err  error
}

func (w *tarWriter) parents(name string) {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		w.dir(strings.Join(parts[:i], "/"), 0o755, 0)
	}
}

func (w *tarWriter) dir(name string, mode int64, owner int) {
	if w.dirs == nil {
		w.dirs = map[string]bool{}
	}
	if w.dirs[name] {
		return
	}
	w.parents(name)
	w.dirs[name] = true
	w.header(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: owner, Gid: owner})
}

func (w *tarWriter) file(name string, data []byte, mode int64) {
	w.parents(name)
	w.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))})
	if w.err == nil {
		_, w.err = w.tw.Write(data)
	}
}

func (w *tarWriter) symlink(name, target string) {
	w.parents(name)
	w.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777})
}

func (w *tarWriter) header(h *tar.Header) {
	if w.err == nil {
		h.ModTime = epoch
		h.Format = tar.FormatPAX
		w.err = w.tw.WriteHeader(h)
	}
}
