package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The memory limit of an analysis child is, by preference:
//   - a cgroup v2 of its own (memory.max, memory.swap.max 0), when a
//     cgroup2 hierarchy offers the memory controller and lets dockopt make
//     a cgroup in it;
//   - else a cgroup v1 of its own under the memory controller
//     (memory.limit_in_bytes, and memory.memsw.limit_in_bytes so that it
//     cannot swap instead);
//   - else RLIMIT_AS and the child's watch of its resident memory alone.
//
// The kernel counts what a cgroup uses exactly (page cache and kernel
// memory included) and kills the child at the limit however fast it
// allocates, which the resident-memory watch, a poll, cannot promise.
// RLIMIT_AS and the watch stay as the backstop in every case.

// Mechanisms, as the Report and Exceeded name them.
const (
	mechanismV2     = "cgroup v2"
	mechanismV1     = "cgroup v1"
	mechanismRlimit = "RLIMIT_AS"
)

// defaultCgroupRoot is where cgroup hierarchies are mounted.
const defaultCgroupRoot = "/sys/fs/cgroup"

// cgroupPrefix starts the name of every cgroup the sandbox makes; the
// parent's pid follows, so that leftovers of a dead process can be told.
const cgroupPrefix = "dockopt-sandbox-"

// cgroupParent is a cgroup under which run cgroups can be made.
type cgroupParent struct {
	mechanism string // mechanismV2 or mechanismV1
	dir       string
}

// cgroupParents lists, best first, the cgroups of this process under which
// a run cgroup with a memory limit may be made: the process's own cgroup in
// the cgroup2 hierarchy when memory is among its controllers, then its own
// cgroup in the v1 memory hierarchy. root is where the hierarchies are
// mounted (/sys/fs/cgroup, holding either cgroup2 itself or a v1 hierarchy
// per controller and cgroup2 in "unified"); self is /proc/self/cgroup.
// Whether the kernel lets dockopt write there is learnt by trying.
func cgroupParents(root string, self []byte) []cgroupParent {
	var out []cgroupParent
	v2path, v1path := "", ""
	for _, line := range strings.Split(string(self), "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2path = parts[2]
		case hasField(strings.Split(parts[1], ","), "memory"):
			v1path = parts[2]
		}
	}
	for _, mount := range []string{root, filepath.Join(root, "unified")} {
		if _, err := os.Stat(filepath.Join(mount, "cgroup.controllers")); err != nil {
			continue
		}
		dir := within(mount, v2path)
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers")); err == nil && hasField(strings.Fields(string(b)), "memory") {
			out = append(out, cgroupParent{mechanismV2, dir})
		}
		break
	}
	mount := filepath.Join(root, "memory")
	if _, err := os.Stat(filepath.Join(mount, "memory.limit_in_bytes")); err == nil {
		out = append(out, cgroupParent{mechanismV1, within(mount, v1path)})
	}
	return out
}

// within is the directory of cgroup path p under a hierarchy's mount, or
// the mount itself when p is not visible there (a container sees its own
// cgroup as the root of the mount).
func within(mount, p string) string {
	if p == "" || p == "/" {
		return mount
	}
	dir := filepath.Join(mount, filepath.Clean("/"+p))
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir
	}
	return mount
}

func hasField(fields []string, want string) bool {
	for _, f := range fields {
		if f == want {
			return true
		}
	}
	return false
}

// runCgroup is the cgroup of one analysis child.
type runCgroup struct {
	mechanism string
	dir       string
	limit     uint64 // bytes
}

var runSeq atomic.Int64

// newRunCgroup makes a cgroup for one child under the first parent that
// accepts it, with a memory limit of limit bytes and no swap; it returns
// nil when none does, with the reasons.
func newRunCgroup(parents []cgroupParent, limit uint64) (*runCgroup, error) {
	var errs []error
	for _, p := range parents {
		removeLeftovers(p.dir)
		cg := &runCgroup{mechanism: p.mechanism, limit: limit,
			dir: filepath.Join(p.dir, fmt.Sprintf("%s%d-%d", cgroupPrefix, os.Getpid(), runSeq.Add(1)))}
		err := cg.create()
		if err == nil {
			return cg, nil
		}
		cg.remove()
		errs = append(errs, fmt.Errorf("%s in %s: %w", p.mechanism, p.dir, err))
	}
	return nil, errors.Join(errs...)
}

func (cg *runCgroup) create() error {
	if cg.mechanism == mechanismV2 {
		// The parent hands the memory controller down to its children
		// only if asked; a parent that holds processes itself refuses
		// (EBUSY), unless it is the root, and then no limit is possible.
		parent := filepath.Dir(cg.dir)
		if b, err := os.ReadFile(filepath.Join(parent, "cgroup.subtree_control")); err != nil || !hasField(strings.Fields(string(b)), "memory") {
			if err := os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+memory"), 0); err != nil {
				return fmt.Errorf("enabling the memory controller: %w", err)
			}
		}
	}
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		return err
	}
	limit := strconv.FormatUint(cg.limit, 10)
	if cg.mechanism == mechanismV2 {
		if err := cg.write("memory.max", limit); err != nil {
			return err
		}
		if cg.exists("memory.swap.max") {
			return cg.write("memory.swap.max", "0")
		}
		return nil
	}
	if err := cg.write("memory.limit_in_bytes", limit); err != nil {
		return err
	}
	if cg.exists("memory.memsw.limit_in_bytes") {
		// Memory plus swap may be no more than memory: no swap. It is set
		// after memory.limit_in_bytes, which it may not be below.
		return cg.write("memory.memsw.limit_in_bytes", limit)
	}
	return nil
}

func (cg *runCgroup) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(cg.dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}

func (cg *runCgroup) exists(file string) bool {
	_, err := os.Stat(filepath.Join(cg.dir, file))
	return err == nil
}

// describe says what bounds the child's memory, for the Report and logs.
func (cg *runCgroup) describe() string {
	file := "memory.limit_in_bytes"
	if cg.mechanism == mechanismV2 {
		file = "memory.max"
	}
	return fmt.Sprintf("%s (%s %d MiB), RLIMIT_AS and resident-memory watch as backstop", cg.mechanism, file, cg.limit>>20)
}

// oomKilled reports whether the kernel killed a process of the cgroup for
// going over its limit: memory.events' oom_kill (v2), memory.oom_control's
// oom_kill (v1; failcnt, the times the limit was hit, on kernels without
// it).
func (cg *runCgroup) oomKilled() bool {
	if cg.mechanism == mechanismV2 {
		return counter(filepath.Join(cg.dir, "memory.events"), "oom_kill") > 0
	}
	if n := counter(filepath.Join(cg.dir, "memory.oom_control"), "oom_kill"); n >= 0 {
		return n > 0
	}
	return counter(filepath.Join(cg.dir, "memory.failcnt"), "") > 0
}

// counter reads "key value" from a cgroup file of such lines, or the
// file's single number when key is empty; -1 when absent.
func counter(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case key == "" && len(f) == 1:
		case len(f) == 2 && f[0] == key:
			f = f[1:]
		default:
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			return n
		}
	}
	return -1
}

// remove kills whatever is left in the cgroup and removes it. The child
// has been waited for, but a cgroup whose last process is still exiting
// refuses removal (EBUSY) for a moment.
func (cg *runCgroup) remove() {
	if cg.exists("cgroup.kill") {
		_ = cg.write("cgroup.kill", "1")
	}
	for try := 0; ; try++ {
		if b, err := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		err := os.Remove(cg.dir)
		if err == nil || errors.Is(err, os.ErrNotExist) || try == 100 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeLeftovers removes the run cgroups of dockopt processes that died
// without removing theirs (killed themselves), under parent.
func removeLeftovers(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), cgroupPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		(&runCgroup{dir: filepath.Join(parent, e.Name())}).remove()
	}
}

// joinCgroup moves this process into the cgroup at dir: the child's first
// act, before it reads anything of the checkout.
func joinCgroup(dir string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0)
}
