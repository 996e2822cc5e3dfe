// Package build runs real BuildKit builds of a Dockerfile, so the patcher
// can prove an optimized Dockerfile still builds and measure what changed.
//
// The Dockerfile frontend runs inside this process through BuildKit's
// gateway (the same code as docker/dockerfile, at go.mod's version): the
// daemon never has to pull a frontend image, which keeps builds working on
// a daemon with no internet. A "# syntax=" line is honoured as a comment
// for the same reason.
//
// Sizes are measured by exporting the built image as an OCI tarball
// streamed back to this process and reading its manifest: it works with
// any daemon, needs no registry to push to, and stores nothing. Layer
// bytes are counted as they stream past, never kept. Sizes are of gzip
// layers, the form registries store and `docker images` users compare.
package build

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/internal/nonet"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerfile/builder"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/grpcerrors"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"google.golang.org/grpc/codes"
)

// DefaultTimeout bounds a build when Builder.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// errorLines is how many lines of the failing step's output Result.Error keeps.
const errorLines = 20

// Builder builds Dockerfiles on one buildkitd. It holds no connection
// between builds and is safe for concurrent use.
type Builder struct {
	// Addr is the daemon's address: "unix:///run/buildkit/buildkitd.sock",
	// "tcp://buildkitd:1234", or any address buildkit's client accepts.
	Addr string
	// ClientOpts are passed to buildkit's client.New, for TLS credentials
	// (client.WithCredentials, client.WithServerConfig) and the like.
	ClientOpts []client.ClientOpt
	// Timeout bounds each build, export included; zero means DefaultTimeout.
	// A build that runs out of time is a failed build (Result.OK false),
	// not an error. It covers a smoke run too.
	Timeout time.Duration
	// Smoke bounds the smoke runs of requests that ask for one.
	Smoke SmokeOptions
}

// Request is one build.
type Request struct {
	// ContextDir is the build context on local disk.
	ContextDir string
	// Dockerfile is the Dockerfile's path relative to ContextDir;
	// "" means "Dockerfile".
	Dockerfile string
	// Target is the stage to build; "" builds the last one.
	Target string
	// BuildArgs are passed as --build-arg.
	BuildArgs map[string]string
	// NoCache rebuilds every step, for timings that do not depend on what
	// an earlier build left in the daemon's cache. BuildKit then also
	// starts RUN --mount=type=cache directories empty.
	NoCache bool
	// Smoke also starts the built image and runs its HEALTHCHECK, in the
	// same session, within Builder.Smoke's limits (see smoke.go).
	Smoke bool
}

// Result is what a build produced. A Dockerfile that does not build is
// a Result with OK false, not an error.
type Result struct {
	OK bool
	// Duration is the wall time of the build and of the export that
	// measures it; a smoke run's time is not part of it.
	Duration time.Duration
	// CompressedSize is the sum of the final image's compressed (gzip)
	// layer sizes, in bytes.
	CompressedSize int64
	// Layers is the number of layers of the final image.
	Layers int
	// User is the final image's configured user; "" means root.
	User string
	// Error says why the build failed: the failing step, the last lines
	// of its output, and BuildKit's message.
	Error string
	// Smoke is what starting the image showed, when the request asked
	// for it and the image built.
	Smoke Smoke
}

// Build builds req. The error is for a daemon that cannot be reached or
// a ctx that ended; everything the Dockerfile can cause is in Result.
func (b *Builder) Build(ctx context.Context, req Request) (Result, error) {
	dockerfile := req.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	contextFS, err := fsutil.NewFS(req.ContextDir)
	if err != nil {
		return Result{}, fmt.Errorf("build context: %w", err)
	}
	dockerfilePath := dockerfile
	if !filepath.IsAbs(dockerfilePath) {
		dockerfilePath = filepath.Join(req.ContextDir, dockerfile)
	}
	if _, err := os.Stat(dockerfilePath); err != nil {
		return Result{}, fmt.Errorf("dockerfile: %w", err)
	}
	dockerfileFS, err := fsutil.NewFS(filepath.Dir(dockerfilePath))
	if err != nil {
		return Result{}, fmt.Errorf("dockerfile: %w", err)
	}

	frontend, refused := offlineFrontend(dockerfilePath)
	if refused != "" {
		return Result{Error: refused}, nil
	}

	// Ask before building, so an unreachable daemon is an error rather
	// than a failed build.
	c, err := b.connect(ctx)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()

	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	buildCtx, cancel := context.WithTimeoutCause(ctx, timeout, errTimeout)
	defer cancel()

	attrs := map[string]string{
		"filename": filepath.Base(dockerfile),
		// Any "cmdline" tells the frontend it is already the one to run,
		// so it ignores "# syntax=" instead of pulling that image.
		"cmdline": "dockopt",
	}
	if req.Target != "" {
		attrs["target"] = req.Target
	}
	if req.NoCache {
		attrs["no-cache"] = ""
	}
	for k, v := range req.BuildArgs {
		attrs["build-arg:"+k] = v
	}

	pr, pw := io.Pipe()
	var (
		img     imageInfo
		readErr error
		readers sync.WaitGroup
	)
	readers.Go(func() {
		img, readErr = readOCIArchive(pr)
		// Keep draining so the exporter never blocks on a reader that
		// gave up.
		io.Copy(io.Discard, pr)
		pr.CloseWithError(readErr)
	})

	progress := newProgress()
	statusCh := make(chan *client.SolveStatus)
	readers.Go(func() { progress.consume(statusCh) })

	var smokeRun Smoke
	buildFunc := frontend
	if req.Smoke && !b.Smoke.Off {
		opts := b.Smoke.WithDefaults()
		buildFunc = func(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
			res, err := frontend(ctx, c)
			if err != nil {
				return nil, err
			}
			// The frontend's result is lazy: build it now, so that a
			// failing step fails the build rather than the smoke run.
			if ref, _, err := imageResult(res); err == nil && ref != nil {
				if err := ref.Evaluate(ctx); err != nil {
					return nil, err
				}
			}
			smokeRun = smoke(ctx, c, res, opts)
			return res, nil
		}
	}

	start := time.Now()
	_, buildErr := c.Build(buildCtx, client.SolveOpt{
		FrontendAttrs: attrs,
		LocalMounts: map[string]fsutil.FS{
			"context":    contextFS,
			"dockerfile": dockerfileFS,
		},
		Exports: []client.ExportEntry{{
			Type:   client.ExporterOCI,
			Attrs:  map[string]string{"tar": "true"},
			Output: func(map[string]string) (io.WriteCloser, error) { return pw, nil },
		}},
	}, "", buildFunc, statusCh)
	res := Result{Duration: time.Since(start) - smokeRun.Duration, Smoke: smokeRun}
	// A failed build may never open the output; close it so the reader ends.
	pw.Close()
	readers.Wait()

	switch {
	case buildErr == nil && readErr == nil:
		res.OK = true
		res.CompressedSize = img.size
		res.Layers = img.layers
		res.User = img.user
		return res, nil
	case buildErr == nil:
		return res, fmt.Errorf("reading the exported image: %w", readErr)
	case ctx.Err() != nil:
		return res, context.Cause(ctx)
	case errors.Is(context.Cause(buildCtx), errTimeout):
		res.Error = fmt.Sprintf("build did not finish within %s", timeout)
		if step := progress.failure(""); step != "" {
			res.Error = step + "\n" + res.Error
		}
		return res, nil
	case grpcerrors.Code(buildErr) == codes.Unavailable:
		return res, fmt.Errorf("buildkit at %s: %w", b.Addr, buildErr)
	}
	res.Error = progress.failure(errorMessage(buildErr))
	return res, nil
}

var errTimeout = errors.New("build timeout")

// pingTimeout bounds the question "is the daemon there?".
const pingTimeout = 15 * time.Second

// Ping checks that the daemon answers and has a worker to build on, for a
// service to check its configuration at startup.
func (b *Builder) Ping(ctx context.Context) error {
	c, err := b.connect(ctx)
	if err != nil {
		return err
	}
	return c.Close()
}

func (b *Builder) connect(ctx context.Context) (*client.Client, error) {
	c, err := client.New(ctx, b.Addr, b.ClientOpts...)
	if err != nil {
		return nil, fmt.Errorf("buildkit at %s: %w", b.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	workers, err := c.ListWorkers(ctx)
	if err == nil && len(workers) == 0 {
		err = errors.New("no workers")
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("buildkit at %s: %w", b.Addr, err)
	}
	return c, nil
}

// errorMessage is BuildKit's message without the gRPC wrapping.
func errorMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"failed to solve: ", "rpc error: code = Unknown desc = "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// progress keeps, from the status stream, each step's name, error and
// last lines of output.
type progress struct {
	mu    sync.Mutex
	names map[string]string
	errs  map[string]string
	order []string // steps in the order they failed
	logs  map[string]*tail
}

func newProgress() *progress {
	return &progress{names: map[string]string{}, errs: map[string]string{}, logs: map[string]*tail{}}
}

func (p *progress) consume(ch <-chan *client.SolveStatus) {
	for s := range ch {
		p.mu.Lock()
		for _, v := range s.Vertexes {
			d := v.Digest.String()
			p.names[d] = v.Name
			if v.Error != "" && p.errs[d] == "" {
				p.errs[d] = v.Error
				p.order = append(p.order, d)
			}
		}
		for _, l := range s.Logs {
			d := l.Vertex.String()
			if p.logs[d] == nil {
				p.logs[d] = &tail{max: errorLines}
			}
			p.logs[d].write(l.Data)
		}
		p.mu.Unlock()
	}
}

// failure describes the step that failed first (later ones are usually
// cancelled because of it), followed by msg; with no failed step, the
// last step that printed anything.
func (p *progress) failure(msg string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var step string
	for _, d := range p.order {
		if !strings.Contains(p.errs[d], "context canceled") {
			step = d
			break
		}
	}
	if step == "" && len(p.order) > 0 {
		step = p.order[0]
	}
	var b strings.Builder
	if step != "" {
		b.WriteString(p.names[step])
		b.WriteString("\n")
		if t := p.logs[step]; t != nil {
			b.WriteString(t.String())
		}
	}
	b.WriteString(msg)
	return strings.TrimSpace(b.String())
}

// maxLine bounds the unfinished line a tail keeps.
const maxLine = 4096

// tail keeps the last max lines written to it.
type tail struct {
	max     int
	lines   []string
	partial string
}

func (t *tail) write(data []byte) {
	s := t.partial + string(data)
	parts := strings.Split(s, "\n")
	t.partial = parts[len(parts)-1]
	// A process may write without newlines: keep a bounded end of it.
	if len(t.partial) > maxLine {
		t.partial = t.partial[len(t.partial)-maxLine:]
	}
	for _, line := range parts[:len(parts)-1] {
		if len(line) > maxLine {
			line = line[len(line)-maxLine:]
		}
		t.lines = append(t.lines, strings.TrimRight(line, "\r"))
	}
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tail) String() string {
	lines := t.lines
	if t.partial != "" {
		lines = append(lines[:len(lines):len(lines)], t.partial)
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// imageInfo is what Result reports of an exported image.
type imageInfo struct {
	size   int64
	layers int
	user   string
}

// maxMetadataBlob caps the blobs kept in memory while reading the
// archive: manifests, indexes and configs are a few KiB; layers are never
// kept.
const maxMetadataBlob = 4 << 20

// readOCIArchive reads an OCI image layout tarball (as BuildKit's oci
// exporter writes it) and reports the image in it. Blob order in the tar
// is not fixed, so JSON blobs are kept until the end.
func readOCIArchive(r io.Reader) (imageInfo, error) {
	tr := tar.NewReader(r)
	var index []byte
	blobs := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return imageInfo{}, err
		}
		switch {
		case h.Name == "index.json":
			if index, err = io.ReadAll(io.LimitReader(tr, maxMetadataBlob)); err != nil {
				return imageInfo{}, err
			}
		case strings.HasPrefix(h.Name, "blobs/") && h.Size <= maxMetadataBlob:
			// Only JSON is kept; a layer is recognised by its first byte
			// and skipped without being read into memory.
			first := make([]byte, 1)
			if _, err := io.ReadFull(tr, first); err != nil || first[0] != '{' {
				continue
			}
			rest, err := io.ReadAll(tr)
			if err != nil {
				return imageInfo{}, err
			}
			blobs[strings.TrimPrefix(h.Name, "blobs/")] = append(first, rest...)
		}
	}
	if index == nil {
		return imageInfo{}, errors.New("no index.json in the exported image")
	}
	manifest, err := findManifest(index, blobs, 0)
	if err != nil {
		return imageInfo{}, err
	}
	var info imageInfo
	for _, l := range manifest.Layers {
		info.size += l.Size
	}
	info.layers = len(manifest.Layers)
	configData, ok := blobs[blobPath(manifest.Config)]
	if !ok {
		return imageInfo{}, fmt.Errorf("image config %s missing from the export", manifest.Config.Digest)
	}
	var config ocispec.Image
	if err := json.Unmarshal(configData, &config); err != nil {
		return imageInfo{}, fmt.Errorf("image config: %w", err)
	}
	info.user = config.Config.User
	return info, nil
}

// findManifest follows an index down to the image manifest, skipping
// attestation manifests.
func findManifest(data []byte, blobs map[string][]byte, depth int) (ocispec.Manifest, error) {
	if depth > 4 {
		return ocispec.Manifest{}, errors.New("image index nested too deep")
	}
	var probe struct {
		MediaType string               `json:"mediaType"`
		Manifests []ocispec.Descriptor `json:"manifests"`
		Layers    []ocispec.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return ocispec.Manifest{}, err
	}
	if probe.Manifests == nil {
		var m ocispec.Manifest
		err := json.Unmarshal(data, &m)
		return m, err
	}
	for _, d := range probe.Manifests {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		child, ok := blobs[blobPath(d)]
		if !ok {
			return ocispec.Manifest{}, fmt.Errorf("manifest %s missing from the export", d.Digest)
		}
		return findManifest(child, blobs, depth+1)
	}
	return ocispec.Manifest{}, errors.New("no image manifest in the export")
}

func blobPath(d ocispec.Descriptor) string {
	return d.Digest.Algorithm().String() + "/" + d.Digest.Encoded()
}

// NeedsInternet reports whether a client of the BuildKit at addr needs
// internet sockets: any address but a unix socket (tcp://, and schemes
// such as docker-container:// that run other programs, which would inherit
// a restriction).
func NeedsInternet(addr string) bool {
	return addr != "" && !strings.HasPrefix(strings.ToLower(addr), "unix://")
}

// offlineFrontend returns BuildKit's Dockerfile frontend, which runs in
// this process, or why it may not run. Converting an ADD of a git
// repository over SSH connects to that host to read its key, from this
// process, to a host the repository chose. In a process without internet
// sockets (nonet.RestrictProcess: `dockopt analyze` and the App's analysis
// child, with a unix-socket builder) that cannot happen, whatever the
// frontend does. Elsewhere no thread filter reaches the goroutines the
// frontend converts on, and it converts with the base images' real
// environments, which the analyzer's offline check does not know; so a
// Dockerfile whose ADD may name such a repository is not built. Building
// one needs an SSH agent, which dockopt does not forward, so that loses
// little.
func offlineFrontend(dockerfilePath string) (frontend gwclient.BuildFunc, refused string) {
	if nonet.ProcessRestricted() {
		return builder.Build, ""
	}
	src, err := readBounded(dockerfilePath, analyzer.MaxDockerfileSize)
	if err != nil {
		return nil, "not built: reading the Dockerfile to check its ADD sources: " + err.Error()
	}
	if analyzer.MayScanGitHostSource(src) {
		return nil, "not built: an ADD may name a git repository over SSH (its source has a variable, quotes, or an ssh:// or user@host: remote), whose host BuildKit's frontend would connect to from dockopt's process, and building that needs an SSH agent dockopt does not forward"
	}
	return builder.Build, ""
}

// readBounded reads at most limit bytes of a file; a longer file is an error.
func readBounded(name string, limit int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err == nil && len(b) > limit {
		err = fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, err
}
