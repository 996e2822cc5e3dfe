// Package sandbox runs the analysis of an untrusted checkout in a child
// process of the same binary, under a memory limit (a cgroup of its own
// where the host lets dockopt make one, cgroup.go; its resident memory,
// watched by the child itself, with RLIMIT_AS as the hard stop, as the
// backstop; all in force before it reads anything of the checkout) and a
// wall-time limit, so that a repository whose analysis would exhaust the
// server's memory or never end kills only the child. The parent survives
// the child's death and says why it died.
//
// The data flow is one way: the parent names the folder and writes the
// Request (the effective configuration, what to judge against) as JSON on
// the child's stdin; the child analyzes, patches and, with a builder,
// builds it, renders what the worker publishes and writes that Result as
// one JSON document on stdout. The parent never analyzes the checkout
// itself.
package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dockopt/dockopt/internal/nonet"
	"github.com/dockopt/dockopt/internal/rootfs"
	"github.com/dockopt/dockopt/patcher/build"
)

// Subcommand is the hidden subcommand of the dockopt binary that runs
// Main. Test binaries that start children dispatch it in TestMain.
const Subcommand = "__analyze-checkout"

// Defaults of Limits.
const (
	DefaultMemoryMiB = 512
	DefaultTimeout   = 2 * time.Minute
)

// Limits bound one analysis.
type Limits struct {
	// MemoryMiB is the child's memory budget (DefaultMemoryMiB): its
	// resident memory, and what it may add to its address space.
	MemoryMiB int
	// Timeout is the child's wall time (DefaultTimeout).
	Timeout time.Duration
}

func (l Limits) memoryMiB() int {
	if l.MemoryMiB > 0 {
		return l.MemoryMiB
	}
	return DefaultMemoryMiB
}

func (l Limits) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return DefaultTimeout
}

// Exceeded says the child died for going over a limit, or wrote a
// result larger than the parent reads.
type Exceeded struct {
	// Memory is true for the memory limit, false for the time limit.
	Memory bool
	// Output, when not 0, is the bound of the result the child went over.
	Output int64
	Limits Limits
	// Detail is the end of what the child wrote on stderr.
	Detail string
	// StoppedBy names what stopped a child over the memory budget: "cgroup
	// v2" or "cgroup v1" (the kernel killed it), "RLIMIT_AS", or
	// "resident-memory watch".
	StoppedBy string
	// Working names the files the child was working on when it was
	// stopped.
	Working []Work
}

func (e *Exceeded) Error() string {
	if e.Output > 0 {
		return fmt.Sprintf("the analysis's result was larger than %d MiB", e.Output>>20)
	}
	if e.Memory {
		return fmt.Sprintf("the analysis needed more than %d MiB (stopped by the %s limit)", e.Limits.memoryMiB(), e.StoppedBy)
	}
	return fmt.Sprintf("the analysis took longer than %s", e.Limits.timeout())
}

// Crashed says the child died for another reason (a panic the engine did
// not catch, a signal).
type Crashed struct {
	State  string // "exit status 2", "signal: killed"
	Detail string
	// Working names the files the child was working on when it died.
	Working []Work
}

func (e *Crashed) Error() string {
	return "the analysis process died (" + e.State + "): " + e.Detail
}

// Runner starts analysis children.
type Runner struct {
	// Command starts the binary holding Subcommand; default: this
	// executable.
	Command string
	Limits  Limits
	// Env is added to the child's environment (tests).
	Env []string
	// NoCgroup leaves the child's memory to RLIMIT_AS and its watch of
	// its resident memory, as where no cgroup can be made.
	NoCgroup bool
}

// childEnv is all the analysis child needs of the environment.
func childEnv() []string {
	env := []string{"GOTRACEBACK=none"}
	for _, k := range []string{"PATH", "TMPDIR", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// cgroup makes the child's cgroup, if it can, and says what will bound
// the child's memory.
func (r *Runner) cgroup(lim Limits) (*runCgroup, string) {
	backstop := mechanismRlimit + " and resident-memory watch"
	if r.NoCgroup {
		return nil, backstop
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	cg, err := newRunCgroup(cgroupParents(defaultCgroupRoot, self), uint64(lim.memoryMiB())<<20)
	if cg == nil {
		if err != nil {
			return nil, backstop + " (no cgroup: " + err.Error() + ")"
		}
		return nil, backstop + " (no cgroup with a memory controller)"
	}
	return cg, cg.describe()
}

// maxOutput bounds what is kept of the child's stderr.
const maxOutput = 64 << 10

// maxRequest bounds the request a child reads: a configuration and a pull
// request's diff of at most 3,000 files.
const maxRequest = 64 << 20

// MaxResult is the bound of the result of a repository of at most
// repoBytes (the clone's limit): the result holds the changed files (the
// Dockerfiles and the few files the fixes generate, a small part of a
// repository) and text rendered within GitHub's limits, so a sixteenth
// of the repository's limit plus 8 MiB is room enough, and a child that
// writes more is stopped, not believed.
func MaxResult(repoBytes int64) int64 { return repoBytes/16 + 8<<20 }

// Analyze analyzes dir in a child as req says and returns its result, or
// *Exceeded when the child went over its limits or wrote more than
// maxResult bytes, *Crashed when it died, or ctx's error.
func (r *Runner) Analyze(ctx context.Context, dir string, req *Request, maxResult int64) (*Result, error) {
	exe := r.Command
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	lim := Limits{MemoryMiB: r.Limits.memoryMiB(), Timeout: r.Limits.timeout()}
	// Builds run in the child after the analysis (a narrowed fix is
	// analyzed again), each within the builder's own timeout: the
	// budget of wall time grows by one build of each kind.
	timeout := lim.timeout()
	if req.BuildKitAddr != "" {
		timeout += 2 * req.BuildTimeout
	}
	// The child stops itself at the timeout; the parent kills it a little
	// later, should it not.
	cctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	args := []string{Subcommand, "-memory-mib", strconv.Itoa(lim.memoryMiB()), "-timeout", timeout.String(), "-progress"}
	cg, memoryLimit := r.cgroup(lim)
	if cg != nil {
		// Removed once the child is gone, whatever ended it (ctx too).
		defer cg.remove()
		args = append(args, "-cgroup", cg.dir)
	}
	cmd := exec.CommandContext(cctx, exe, append(args, dir)...)
	// The child reads hostile content: it gets none of the server's
	// environment (the App's private key, the webhook secret); what it
	// needs to know comes on its stdin.
	cmd.Env = append(childEnv(), r.Env...)
	cmd.Stdin = bytes.NewReader(in)
	cmd.WaitDelay = time.Second
	stdout := &bounded{max: maxResult}
	stderr := &tail{max: maxOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// The child says on a pipe of its own (its fd 3) which files it
	// starts and ends, so that a child stopped half way can be said to
	// have been working on them.
	progressR, progressW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer progressR.Close()
	cmd.ExtraFiles = []*os.File{progressW}
	working := &workingOn{files: map[string]string{}}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		working.read(progressR)
	}()
	started := time.Now()
	// A child outlives a parent killed with SIGKILL (a crash, the OOM
	// killer, a deploy) and would go on analyzing, and holding memory,
	// until its timeout: the kernel kills it with its parent instead.
	// Pdeathsig follows the thread that started the child, so this
	// goroutine keeps that thread until the child is gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	err = cmd.Start()
	progressW.Close()
	if err == nil {
		err = cmd.Wait()
	}
	runtime.UnlockOSThread()
	select {
	case <-readDone:
	case <-time.After(time.Second):
		// A grandchild holding the pipe open must not hold up the
		// answer; what was read so far stands.
	}
	elapsed := time.Since(started)
	var peak int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = ru.Maxrss // KiB on Linux
		}
	}
	detail := strings.TrimSpace(stderr.String())
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case cg != nil && cg.oomKilled():
		return nil, &Exceeded{Memory: true, Limits: lim, Detail: detail, StoppedBy: cg.mechanism, Working: working.list()}
	case cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == exitTimeout, cctx.Err() != nil:
		return nil, &Exceeded{Limits: Limits{MemoryMiB: lim.MemoryMiB, Timeout: timeout}, Detail: detail, Working: working.list()}
	case cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == exitMemory:
		return nil, &Exceeded{Memory: true, Limits: lim, Detail: detail, StoppedBy: "resident-memory watch", Working: working.list()}
	case strings.Contains(detail, "out of memory"), strings.Contains(detail, "cannot allocate memory"):
		return nil, &Exceeded{Memory: true, Limits: lim, Detail: detail, StoppedBy: mechanismRlimit, Working: working.list()}
	default:
		state := err.Error()
		if cmd.ProcessState != nil {
			state = cmd.ProcessState.String()
		}
		return nil, &Crashed{State: state, Detail: lastLines(detail, 5), Working: working.list()}
	}
	if stdout.over {
		return nil, &Exceeded{Output: maxResult, Limits: lim, Detail: detail}
	}
	var res Result
	if err := json.Unmarshal(stdout.b.Bytes(), &res); err != nil {
		return nil, &Crashed{State: "unreadable result", Detail: err.Error()}
	}
	if res.Version != Version {
		return nil, &Crashed{State: "unreadable result", Detail: fmt.Sprintf("result version %d, want %d", res.Version, Version)}
	}
	res.Elapsed, res.PeakRSSKiB, res.MemoryLimit = elapsed, peak, memoryLimit
	return &res, nil
}

// Exit codes of the child. The Go runtime exits with 2 when it runs out
// of memory ("fatal error: out of memory"), which is told by its message.
const (
	exitTimeout = 3
	exitMemory  = 4
	exitFailed  = 5
	exitUsage   = 64
)

// Main is the child: dockopt __analyze-checkout -memory-mib N -timeout D DIR,
// with a Request on stdin. It limits itself before it opens DIR.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(Subcommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	memory := fs.Int("memory-mib", DefaultMemoryMiB, "memory budget")
	timeout := fs.Duration("timeout", DefaultTimeout, "wall-time limit")
	cgroup := fs.String("cgroup", "", "cgroup directory to join first")
	progress := fs.Bool("progress", false, "say on fd 3 which files the analysis starts and ends")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || *memory <= 0 || *timeout <= 0 {
		fmt.Fprintln(stderr, "usage: dockopt-app "+Subcommand+" -memory-mib N [-cgroup DIR] [-progress] -timeout D DIR")
		return exitUsage
	}
	budget := uint64(*memory) << 20
	resident, space := budget, budget
	if *cgroup != "" {
		if err := joinCgroup(*cgroup); err != nil {
			fmt.Fprintln(stderr, "joining the memory cgroup:", err)
			return exitFailed
		}
		// The kernel holds the child to the budget; the backstops stand
		// above it, so that they stop only a child that escaped it.
		// Resident memory counts pages the cgroup does not (the binary's,
		// cached and charged before the child ran), and the heap's address
		// space grows in 64 MiB arenas ahead of its use: hence the margins.
		resident, space = 2*budget+64<<20, 4*budget
	}
	// The Go runtime reserves address space it never touches (hundreds
	// of MiB at start); the budget is what the analysis may add to it.
	limit := space + addressSpace()
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		fmt.Fprintln(stderr, "setting the memory limit:", err)
		return exitFailed
	}
	// The collector works harder as the heap nears the limit, so a run
	// that fits does not fail for garbage it could have collected.
	debug.SetMemoryLimit(int64(*memory) << 20)
	// The address-space limit alone lets the heap fill the space the
	// runtime reserved at start before it bites, so the resident memory
	// the budget names is watched too.
	go watchResident(resident, stderr)
	var req Request
	if err := json.NewDecoder(io.LimitReader(os.Stdin, maxRequest)).Decode(&req); err != nil {
		fmt.Fprintln(stderr, "reading the request:", err)
		return exitUsage
	}
	if !build.NeedsInternet(req.BuildKitAddr) {
		// The child needs no internet: the parent cloned the checkout, and
		// BuildKit's conversion would connect to the git hosts an ADD
		// names (analyzer/gitscan.go). Where this cannot be done,
		// conversions that could connect run on a restricted thread.
		if err := nonet.RestrictProcess(); err != nil {
			fmt.Fprintln(stderr, "network left on:", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *progress {
		ctx = withProgressTo(ctx, os.NewFile(3, "progress"))
	}
	res, err := analyze(ctx, fs.Arg(0), &req)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "the analysis took longer than", *timeout)
		return exitTimeout
	case err != nil:
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return exitFailed
	}
	return 0
}

// addressSpace is the process's virtual size now (VmSize), 0 if unknown.
func addressSpace() uint64 { return selfStatus("VmSize:") }

// selfStatus is a size field of /proc/self/status in bytes, 0 if unknown.
func selfStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kib, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kib << 10
			}
		}
	}
	return 0
}

// watchResident ends the process with exitMemory once its resident memory
// passes budget bytes.
func watchResident(budget uint64, stderr io.Writer) {
	for range time.Tick(10 * time.Millisecond) {
		if rss := selfStatus("VmRSS:"); rss > budget {
			fmt.Fprintf(stderr, "out of memory: the analysis needed more than %d MiB\n", budget>>20)
			os.Exit(exitMemory)
		}
	}
}

// analyze runs Analyze over dir, read only through an os.Root.
func analyze(ctx context.Context, dir string, req *Request) (*Result, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fsys := rootfs.New(root)
	defer fsys.Close()
	return Analyze(ctx, dir, fsys, req)
}

// bounded keeps up to max bytes and notes that more came: a result cut
// short is no result.
type bounded struct {
	b    bytes.Buffer
	max  int64
	over bool
}

func (w *bounded) Write(p []byte) (int, error) {
	if room := w.max - int64(w.b.Len()); int64(len(p)) > room {
		w.over = true
		return len(p), nil
	}
	return w.b.Write(p)
}

// tail keeps the last max bytes written.
type tail struct {
	b   []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.b) }

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
