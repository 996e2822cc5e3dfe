package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionString(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "04411e4abcdef0123456789"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name    string
		release string
		bi      *debug.BuildInfo
		want    string
	}{
		{"no build info", "", nil, "devel"},
		{"go build in a clone", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: rev},
			"devel (revision 04411e4abcde, modified, go1.26.8)"},
		{"go install at a tag", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0 (go1.26.8)"},
		{"release build", "v1.0.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: rev[:1]},
			"v1.0.0 (revision 04411e4abcde, go1.26.8)"},
	} {
		if got := VersionString(tc.release, tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
