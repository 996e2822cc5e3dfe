package buildkittest

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
)

// run executes script in image on the daemon and returns the files it
// wrote under /out.
func run(t *testing.T, e *Env, image, script string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(ctx, e.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	st := llb.Image(image).
		Run(llb.Args([]string{"/bin/sh", "-ec", "mkdir -p /out\n" + script}), llb.IgnoreCache).
		AddMount("/out", llb.Scratch())
	def, err := st.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	var log strings.Builder
	ch := make(chan *client.SolveStatus)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range ch {
			for _, l := range s.Logs {
				log.Write(l.Data)
			}
		}
	}()
	_, err = c.Solve(ctx, def, client.SolveOpt{
		Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: outDir}},
	}, ch)
	<-done
	if err != nil {
		t.Fatalf("running in %s: %v\noutput:\n%s", image, err, log.String())
	}
	out := map[string]string{}
	entries, _ := os.ReadDir(outDir)
	for _, ent := range entries {
		data, err := os.ReadFile(filepath.Join(outDir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[ent.Name()] = string(data)
	}
	return out
}

func TestStart(t *testing.T) {
	e := Start(t)

	t.Run("default images", func(t *testing.T) {
		// llb.Image alone does not apply the image config (a Dockerfile
		// build does), so each case names the account the image must have.
		cases := []struct{ image, user, want string }{
			{"alpine:3.20", "nobody", "uid=65534(nobody) gid=65534(nogroup)"},
			{"docker.io/library/debian:bookworm-slim", "root", "uid=0(root) gid=0(root)"},
			{"node:20-alpine", "node", "uid=1000(node) gid=1000(node)"},
			{"nginxinc/nginx-unprivileged:1.27-alpine", "nginx", "uid=101(nginx) gid=101(nginx)"},
			{"gcr.io/distroless/static-debian12:nonroot", "nonroot", "uid=65532(nonroot) gid=65532(nonroot)"},
		}
		for _, c := range cases {
			out := run(t, e, c.image, "id "+c.user+" > /out/id; ls /bin/sh /usr/bin/wget >> /out/id")
			if !strings.HasPrefix(out["id"], c.want) {
				t.Errorf("%s: id says %q, want %q", c.image, out["id"], c.want)
			}
		}
	})

	t.Run("added image", func(t *testing.T) {
		im := Image{Env: []string{"GREETING=hello"}, Files: map[string]string{"/usr/local/bin/greet": "#!/bin/sh\necho \"$GREETING from greet\"\n"}}
		if err := e.AddImage("quay.io/example/greeter:1", im); err != nil {
			t.Fatal(err)
		}
		out := run(t, e, "quay.io/example/greeter:1", "GREETING=hello greet > /out/greeting")
		if out["greeting"] != "hello from greet\n" {
			t.Errorf("greet printed %q", out["greeting"])
		}
		ref, err := e.mirrorRef("quay.io/example/greeter:1")
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(ref)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if env := strings.Join(cf.Config.Env, " "); !strings.Contains(env, "GREETING=hello") {
			t.Errorf("pushed config Env = %s", env)
		}
		if err := e.AddImage("example.com/not/mirrored:1", Image{}); err == nil {
			t.Error("AddImage accepted a host the daemon does not mirror")
		}
	})

	t.Run("accounts", func(t *testing.T) {
		out := run(t, e, "alpine:3.20", `
addgroup -S app
adduser -S -D -H -G app app
addgroup -g 2000 team
adduser -D -u 1500 dev
addgroup dev team
groupadd -r svc
useradd -r -g svc -s /sbin/nologin svc
useradd -m -u 1600 --no-log-init deb
groupadd -f svc
if useradd deb 2>/dev/null; then echo "duplicate accepted"; exit 1; fi
cp /etc/passwd /etc/group /out/
stat -c '%n %u:%g' /home/dev /home/deb > /out/homes
test ! -e /home/app
`)
		for _, want := range []string{
			// users has gid 100, so the first system group is 101.
			"app:x:100:101:", "dev:x:1500:1500:", "svc:x:101:102:", "deb:x:1600:1600::/home/deb:/bin/sh",
		} {
			if !strings.Contains(out["passwd"], "\n"+want) {
				t.Errorf("/etc/passwd lacks %q:\n%s", want, out["passwd"])
			}
		}
		for _, want := range []string{"app:x:101:", "team:x:2000:dev", "dev:x:1500:", "svc:x:102:", "deb:x:1600:"} {
			if !strings.Contains(out["group"], "\n"+want) {
				t.Errorf("/etc/group lacks %q:\n%s", want, out["group"])
			}
		}
		if out["homes"] != "/home/dev 1500:1500\n/home/deb 1600:1600\n" {
			t.Errorf("home directories not owned by their users:\n%s", out["homes"])
		}
	})

	t.Run("package stand-ins", func(t *testing.T) {
		out := run(t, e, "debian:bookworm", `
if apt-get install -y curl 2>/out/noupdate; then echo "install without update succeeded"; exit 1; fi
apt-get update
apt-get install -y --no-install-recommends curl ca-certificates
ls /var/lib/apt/lists /usr/share/doc > /out/files
`)
		if !strings.Contains(out["noupdate"], "Unable to locate package") {
			t.Errorf("apt-get install before update said %q", out["noupdate"])
		}
		for _, want := range []string{"curl", "ca-certificates", "Packages"} {
			if !strings.Contains(out["files"], want) {
				t.Errorf("apt-get left no %s:\n%s", want, out["files"])
			}
		}
	})
}

func TestImageLayer(t *testing.T) {
	if err := checkBusybox(); err != nil {
		t.Skip(err)
	}
	img, err := Image{Users: []User{{"node", 1000}}, User: "node", WorkingDir: "/app"}.Build()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "node" || cf.Config.WorkingDir != "/app" || !strings.HasPrefix(cf.Config.Env[0], "PATH=") {
		t.Errorf("config = %+v", cf.Config)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	entries := map[string]*tar.Header{}
	var passwd []byte
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
		if h.Name == "etc/passwd" {
			passwd, _ = io.ReadAll(tr)
		}
	}
	for name, target := range map[string]string{"bin/sh": "/bin/busybox", "usr/bin/wget": "/bin/busybox", "usr/sbin/adduser": "/usr/lib/dockopt-test/accounts"} {
		if h := entries[name]; h == nil || h.Linkname != target {
			t.Errorf("%s: want a link to %s, got %+v", name, target, h)
		}
	}
	if h := entries["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp/ = %+v, want mode 1777", h)
	}
	if h := entries["home/node/"]; h == nil || h.Uid != 1000 {
		t.Errorf("home/node/ = %+v, want owned by 1000", h)
	}
	if !strings.Contains(string(passwd), "node:x:1000:1000:") || !strings.Contains(string(passwd), "nobody:x:65534:") {
		t.Errorf("/etc/passwd =\n%s", passwd)
	}
}
