package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// A smoke run starts the image just built, in the same BuildKit session,
// the way `docker run -d` would: its ENTRYPOINT and CMD, as its USER, in
// its WORKDIR, with its ENV, stdin closed, and no network but loopback.
// Then, if the image declares a HEALTHCHECK, it runs that command in the
// same container, the way Docker's health monitor execs it, until it
// passes or time runs out.
//
// The processes run in a BuildKit gateway container (what `buildx debug`
// uses), started by dockopt from outside: the image's own process needs
// no shell. BuildKit ends the whole container when any process in it
// exits non-zero, so a failing probe would kill the application it
// probes. Each probe therefore runs under a static busybox, mounted
// read-only at a fresh top-level path the image does not have, whose
// shell runs the probe under `timeout`, prints its status and always
// exits 0. The probe itself still runs exactly as Docker would run it:
// a shell-form HEALTHCHECK in an image without a shell fails here as it
// fails under Docker.

// Default smoke limits; see SmokeOptions.
const (
	DefaultSmokeTimeout       = 20 * time.Second
	DefaultSmokeGrace         = 3 * time.Second
	DefaultSmokeProbeInterval = time.Second
	DefaultSmokeProbeTimeout  = 5 * time.Second
	DefaultSmokePerFile       = 2 * time.Minute
	// DefaultSmokeBusybox is the static (musl) busybox that drives health
	// probes, pulled by the builder like any base image.
	DefaultSmokeBusybox = "docker.io/library/busybox:1.37.0-musl"
)

// SmokeOptions bound smoke runs. Zero fields take the defaults, so the
// CLI and the App, which both leave them zero, run under the same limits.
type SmokeOptions struct {
	// Off turns smoke runs off: a Request asking for one only builds.
	Off bool
	// Timeout bounds one run, start and health probes together.
	Timeout time.Duration
	// Grace is how long the process must stay up to count as started.
	// Without a HEALTHCHECK that is all "starts" can mean: a process that
	// cannot read its files, bind its port or find its user dies at
	// once, in well under a second for a native binary and one or two
	// for an interpreter loading its code. Three seconds catches those
	// without making every run slow; a JVM that fails after ten seconds
	// of startup is not caught.
	Grace time.Duration
	// ProbeInterval caps the time between health probes. An image's own
	// interval (30 s by default) is meant for a long-running container;
	// probing more often can only let it pass sooner.
	ProbeInterval time.Duration
	// ProbeTimeout caps one health probe, below the image's own timeout
	// when that is longer.
	ProbeTimeout time.Duration
	// PerFile bounds the smoke runs spent on one Dockerfile, its
	// original, optimized and narrowed variants together. It is read by
	// the patcher, which decides how many variants to try.
	PerFile time.Duration
	// Busybox is the image whose static /bin/busybox drives health
	// probes; a mirror or a pinned digest can be given here.
	Busybox string
}

// WithDefaults fills the zero fields.
func (o SmokeOptions) WithDefaults() SmokeOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, DefaultSmokeTimeout)
	def(&o.Grace, DefaultSmokeGrace)
	def(&o.ProbeInterval, DefaultSmokeProbeInterval)
	def(&o.ProbeTimeout, DefaultSmokeProbeTimeout)
	def(&o.PerFile, DefaultSmokePerFile)
	if o.Busybox == "" {
		o.Busybox = DefaultSmokeBusybox
	}
	if o.Grace > o.Timeout {
		o.Grace = o.Timeout
	}
	return o
}

// Smoke is what a smoke run of an image found.
type Smoke struct {
	// Ran is true when the image's process was started; when it was not
	// checked, Skipped says why.
	Ran     bool
	Skipped string
	// Started is true when the process was still running at the end of
	// the run: after the grace period and, with a HEALTHCHECK, once it
	// passed or time ran out.
	Started bool
	// Healthcheck is true when the image declares a HEALTHCHECK; Healthy
	// when one of its probes passed while the process ran.
	Healthcheck bool
	Healthy     bool
	// HealthSkipped says why a HEALTHCHECK was not probed (no busybox
	// to drive it); starting was still checked.
	HealthSkipped string
	// ExitCode is the process's exit status when it exited during the
	// run, -1 otherwise (still running, or it never ran).
	ExitCode int
	// Reason says why it did not start or did not become healthy: the
	// exit code and when, or the last probe's exit code and output.
	Reason string
	// Output is the last lines the process wrote (stdout and stderr).
	Output string
	// Probes is the number of health probes run.
	Probes   int
	Duration time.Duration
}

// Proven reports whether the run shows the image working: it started
// and, if it has a HEALTHCHECK, became healthy.
func (s Smoke) Proven() bool {
	return s.Ran && s.Started && (!s.Healthcheck || s.Healthy)
}

// imageConfig is what a smoke run needs of the built image's config.
type imageConfig struct {
	OS          string
	Args        []string
	Env         []string
	User        string
	WorkingDir  string
	Healthcheck []string
	Interval    time.Duration
	Timeout     time.Duration
}

// parseImageConfig reads the image config the Dockerfile frontend
// returns with its result.
func parseImageConfig(data []byte) (imageConfig, error) {
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(data, &img); err != nil {
		return imageConfig{}, fmt.Errorf("image config: %w", err)
	}
	c := img.Config
	ic := imageConfig{
		OS:         img.OS,
		Args:       append(append([]string{}, c.Entrypoint...), c.Cmd...),
		Env:        c.Env,
		User:       c.User,
		WorkingDir: c.WorkingDir,
	}
	if hc := c.Healthcheck; hc != nil && len(hc.Test) > 0 {
		switch hc.Test[0] {
		case "CMD":
			ic.Healthcheck = hc.Test[1:]
		case "CMD-SHELL":
			shell := c.Shell
			if len(shell) == 0 {
				shell = []string{"/bin/sh", "-c"}
			}
			ic.Healthcheck = append(append([]string{}, shell...), strings.Join(hc.Test[1:], " "))
		}
		ic.Interval, ic.Timeout = hc.Interval, hc.Timeout
		if hc.StartInterval > 0 && (ic.Interval <= 0 || hc.StartInterval < ic.Interval) {
			ic.Interval = hc.StartInterval
		}
	}
	return ic, nil
}

// imageResult picks the single image of a frontend result and its config.
func imageResult(res *gwclient.Result) (gwclient.Reference, []byte, error) {
	if res.Ref != nil {
		return res.Ref, res.Metadata["containerimage.config"], nil
	}
	if len(res.Refs) == 1 {
		for p, ref := range res.Refs {
			return ref, res.Metadata["containerimage.config/"+p], nil
		}
	}
	return nil, nil, fmt.Errorf("the build produced %d images; a smoke run needs one", len(res.Refs))
}

// smoke starts the image of res and probes it, within o's limits.
func smoke(ctx context.Context, c gwclient.Client, res *gwclient.Result, o SmokeOptions) Smoke {
	start := time.Now()
	s := runSmoke(ctx, c, res, o)
	s.Duration = time.Since(start)
	return s
}

func runSmoke(ctx context.Context, c gwclient.Client, res *gwclient.Result, o SmokeOptions) Smoke {
	s := Smoke{ExitCode: -1}
	caps := c.BuildOpts().Caps
	ref, cfgData, err := imageResult(res)
	if err != nil {
		s.Skipped = err.Error()
		return s
	}
	cfg, err := parseImageConfig(cfgData)
	switch {
	case err != nil:
		s.Skipped = err.Error()
		return s
	case cfg.OS != "" && cfg.OS != "linux":
		s.Skipped = "a " + cfg.OS + " image cannot run on this builder"
		return s
	case len(cfg.Args) == 0:
		s.Skipped = "the image has no ENTRYPOINT or CMD to start"
		return s
	case caps.Supports(gwpb.CapGatewayExec) != nil:
		s.Skipped = "this BuildKit cannot run containers for a client (gateway exec)"
		return s
	}
	s.Healthcheck = len(cfg.Healthcheck) > 0

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mounts := []gwclient.Mount{{Dest: "/", Ref: ref, MountType: pb.MountType_BIND}}
	var driver string
	if s.Healthcheck {
		bb, dir, err := probeDriver(ctx, c, ref, o.Busybox)
		if err != nil {
			s.HealthSkipped = "the probes' busybox (" + o.Busybox + ") is not available: " + errorMessage(err)
		} else {
			mounts = append(mounts, gwclient.Mount{Dest: dir, Ref: bb, Selector: "/bin", Readonly: true, MountType: pb.MountType_BIND})
			driver = dir + "/busybox"
		}
	}
	probing := driver != ""
	ctr, err := c.NewContainer(ctx, gwclient.NewContainerRequest{
		Mounts:   mounts,
		NetMode:  pb.NetMode_NONE,
		Hostname: "dockopt-smoke",
	})
	if err != nil {
		s.Skipped = "BuildKit could not create a container: " + errorMessage(err)
		return s
	}
	defer func() {
		// Release kills what still runs; it must not wait on a ctx that
		// has already ended.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer rcancel()
		ctr.Release(rctx)
	}()

	output := &syncTail{t: tail{max: errorLines}}
	proc, err := ctr.Start(ctx, gwclient.StartRequest{
		Args: cfg.Args, Env: cfg.Env, User: cfg.User, Cwd: cfg.WorkingDir,
		Stdout: output, Stderr: output,
	})
	if err != nil {
		s.Ran, s.Reason = true, "could not start: "+errorMessage(err)
		return s
	}
	s.Ran = true
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()

	started := time.Now()
	deadline := time.After(o.Timeout)
	grace := time.After(o.Grace)
	graceOver := false
	interval := o.ProbeInterval
	if cfg.Interval > 0 && cfg.Interval < interval {
		interval = cfg.Interval
	}
	probeTimeout := o.ProbeTimeout
	if cfg.Timeout > 0 && cfg.Timeout < probeTimeout {
		probeTimeout = cfg.Timeout
	}
	var nextProbe <-chan time.Time
	if probing {
		nextProbe = time.After(interval)
	}
	probed := make(chan probeResult, 1)
	var last probeResult
	for {
		select {
		case err := <-exited:
			var status string
			s.ExitCode, status = exitStatus(err)
			s.Reason = fmt.Sprintf("%s after %.1f s", status, time.Since(started).Seconds())
			s.Output = output.String()
			return s
		case <-grace:
			graceOver = true
		case <-nextProbe:
			nextProbe = nil
			s.Probes++
			go func() { probed <- probe(ctx, ctr, driver, cfg, probeTimeout) }()
			continue
		case last = <-probed:
			if last.ok {
				s.Healthy = true
			} else {
				nextProbe = time.After(interval)
			}
		case <-deadline:
			s.Started = true
			s.Output = output.String()
			if probing && !s.Healthy {
				s.Reason = fmt.Sprintf("no health probe passed within %s (%d tried)", o.Timeout, s.Probes)
				if last.detail != "" {
					s.Reason += "; the last " + last.detail
				}
			}
			return s
		case <-ctx.Done():
			s.Reason = "stopped: " + context.Cause(ctx).Error()
			return s
		}
		if graceOver && (!probing || s.Healthy) {
			s.Started = true
			s.Output = output.String()
			return s
		}
	}
}

// probeDriver solves the busybox image and picks where to mount its /bin:
// a top-level directory the image under test does not have.
func probeDriver(ctx context.Context, c gwclient.Client, image gwclient.Reference, busybox string) (gwclient.Reference, string, error) {
	def, err := llb.Image(busybox).Marshal(ctx)
	if err != nil {
		return nil, "", err
	}
	res, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return nil, "", err
	}
	bb, err := res.SingleRef()
	if err != nil {
		return nil, "", err
	}
	for range 4 {
		var b [6]byte
		rand.Read(b[:])
		dir := "/.dockopt-probe-" + hex.EncodeToString(b[:])
		if _, err := image.StatFile(ctx, gwclient.StatRequest{Path: dir}); err != nil {
			return bb, dir, nil
		}
	}
	return nil, "", errors.New("no free directory to mount it at")
}

type probeResult struct {
	ok     bool
	detail string
}

// probeStatus prefixes the line on which the probe driver reports the
// probe's exit status.
const probeStatus = "dockopt-probe-status:"

// probe runs the HEALTHCHECK command once in the running container, as
// Docker execs it: the image's user, working directory and environment.
// The busybox driver bounds it and reports its status on its last line.
func probe(ctx context.Context, ctr gwclient.Container, driver string, cfg imageConfig, timeout time.Duration) probeResult {
	secs := max(1, int(timeout.Round(time.Second)/time.Second))
	// One stream keeps the status line last: BuildKit forwards stdout
	// and stderr separately, in no fixed order between them.
	script := fmt.Sprintf(`exec 2>&1; "$0" timeout -s KILL %d "$@"; echo "
%s$?"`, secs, probeStatus)
	args := append([]string{driver, "sh", "-c", script, driver}, cfg.Healthcheck...)
	out := &syncTail{t: tail{max: 6}}
	proc, err := ctr.Start(ctx, gwclient.StartRequest{
		Args: args, Env: cfg.Env, User: cfg.User, Cwd: cfg.WorkingDir,
		Stdout: out, Stderr: out,
	})
	if err != nil {
		return probeResult{detail: "probe could not start: " + errorMessage(err)}
	}
	// The driver ends by itself; this only guards against a driver that
	// cannot (a frozen container).
	done := make(chan error, 1)
	go func() { done <- proc.Wait() }()
	select {
	case err = <-done:
	case <-time.After(timeout + 10*time.Second):
		return probeResult{detail: fmt.Sprintf("probe did not finish within %s", timeout)}
	case <-ctx.Done():
		return probeResult{detail: "probe stopped: " + context.Cause(ctx).Error()}
	}
	if err != nil {
		_, status := exitStatus(err)
		return probeResult{detail: "probe driver " + status}
	}
	text := out.String()
	i := strings.LastIndex(text, probeStatus)
	if i < 0 {
		return probeResult{detail: "probe ended without a status: " + clip(strings.Join(strings.Fields(text), " "), maxProbeOutput)}
	}
	text, status := text[:i], text[i+len(probeStatus):]
	code, err := strconv.Atoi(strings.TrimSpace(status))
	switch {
	case err != nil:
		return probeResult{detail: "probe ended with an unreadable status: " + clip(status, maxProbeOutput)}
	case code == 0:
		return probeResult{ok: true}
	}
	detail := fmt.Sprintf("probe exited with code %d", code)
	if code == 137 {
		detail = fmt.Sprintf("probe did not finish within %s", time.Duration(secs)*time.Second)
	}
	if text = strings.TrimSpace(text); text != "" {
		detail += ": " + clip(strings.Join(strings.Fields(text), " "), maxProbeOutput)
	}
	return probeResult{detail: detail}
}

// maxProbeOutput bounds the probe output a reason quotes: a probe that
// fetches a page prints the page.
const maxProbeOutput = 300

// clip keeps the end of s, where the error usually is.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// exitStatus turns a process's Wait error into its exit code and words.
func exitStatus(err error) (int, string) {
	if err == nil {
		return 0, "exited with code 0"
	}
	var ee *gwpb.ExitError
	if errors.As(err, &ee) {
		return int(ee.ExitCode), fmt.Sprintf("exited with code %d", ee.ExitCode)
	}
	return -1, "could not run (" + errorMessage(err) + ")"
}

// syncTail is a tail that two streams write to at once.
type syncTail struct {
	mu sync.Mutex
	t  tail
}

var _ io.WriteCloser = (*syncTail)(nil)

func (s *syncTail) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.write(p)
	return len(p), nil
}

func (s *syncTail) Close() error { return nil }

func (s *syncTail) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.String()
}
