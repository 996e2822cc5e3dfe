package sandbox

import (
	"path/filepath"
	"testing"

	"github.com/dockopt/dockopt/internal/testfiles"
)

// The hierarchies of three kinds of hosts, as files under a temporary
// root: which cgroup a run cgroup is made under, and with what.
func TestCgroupParents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		self  string
		want  []cgroupParent // dirs relative to the root
	}{{
		name: "hybrid host, cgroup2 without memory (this machine)",
		files: map[string]string{
			"unified/cgroup.controllers":                   "hugetlb\n",
			"memory/memory.limit_in_bytes":                 "9223372036854771712\n",
			"memory/process_api/abc/memory.limit_in_bytes": "9223372036854771712\n",
		},
		self: "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n",
		want: []cgroupParent{{mechanismV1, "memory/process_api/abc"}},
	}, {
		name: "unified host with the memory controller",
		files: map[string]string{
			"cgroup.controllers":                              "cpuset cpu io memory pids\n",
			"system.slice/dockopt.service/cgroup.controllers": "cpu io memory pids\n",
		},
		self: "0::/system.slice/dockopt.service\n",
		want: []cgroupParent{{mechanismV2, "system.slice/dockopt.service"}},
	}, {
		name: "unified host whose cgroup was not given memory",
		files: map[string]string{
			"cgroup.controllers":              "cpuset cpu io memory pids\n",
			"user.slice/u/cgroup.controllers": "cpu pids\n",
		},
		self: "0::/user.slice/u\n",
		want: nil,
	}, {
		name: "container: its own cgroup is the mount's root",
		files: map[string]string{
			"cgroup.controllers": "cpu memory pids\n",
		},
		self: "0::/docker/0123abcd\n",
		want: []cgroupParent{{mechanismV2, ""}},
	}, {
		name: "hybrid host with memory in both",
		files: map[string]string{
			"unified/cgroup.controllers":   "memory\n",
			"memory/memory.limit_in_bytes": "9223372036854771712\n",
		},
		self: "4:memory:/\n0::/\n",
		want: []cgroupParent{{mechanismV2, "unified"}, {mechanismV1, "memory"}},
	}, {
		name:  "no cgroup filesystem",
		files: map[string]string{"README": "not a cgroup mount\n"},
		self:  "",
		want:  nil,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			root := testfiles.Dir(t, tc.files)
			got := cgroupParents(root, []byte(tc.self))
			var want []cgroupParent
			for _, p := range tc.want {
				want = append(want, cgroupParent{p.mechanism, filepath.Join(root, p.dir)})
			}
			if len(got) != len(want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("parent %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}

// The OOM counters of both versions, as the kernel writes them.
func TestOOMKilledReadsTheKernelsCounters(t *testing.T) {
	for _, tc := range []struct {
		mechanism string
		files     map[string]string
		want      bool
	}{
		{mechanismV1, map[string]string{"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", "memory.failcnt": "3\n"}, false},
		{mechanismV1, map[string]string{"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"}, true},
		// A kernel without oom_kill in memory.oom_control: the limit was hit.
		{mechanismV1, map[string]string{"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n", "memory.failcnt": "3\n"}, true},
		{mechanismV2, map[string]string{"memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"}, true},
		{mechanismV2, map[string]string{"memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"}, false},
	} {
		cg := &runCgroup{mechanism: tc.mechanism, dir: testfiles.Dir(t, tc.files)}
		if got := cg.oomKilled(); got != tc.want {
			t.Errorf("%s %v: oomKilled %v, want %v", tc.mechanism, tc.files, got, tc.want)
		}
	}
}
