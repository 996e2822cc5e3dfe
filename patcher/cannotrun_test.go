package patcher_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/analyzer/rules"
)

// A RUN that calls a package manager the base image does not have is left
// as it is, in every pass: apt-no-install-recommends and apt-lists-not-removed
// would polish a line that fails, and after mysql:8.0 moves to 8.0-debian
// their fixes would be right only if the reviewer takes that move.
func TestALineThatCannotRunIsLeftAsItIs(t *testing.T) {
	const run = "RUN apt-get update && apt-get install -y curl\n"
	cases := []struct {
		from, wantFrom string
	}{
		{"FROM alpine:3.20\n", "FROM alpine:3.20\n"},
		{"FROM node:20-alpine\n", "FROM node:20-alpine\n"},
		{"FROM mysql:8.0\n", "FROM mysql:8.0-debian\n"},
	}
	a := analyzer.New(rules.All())
	for _, tc := range cases {
		t.Run(strings.TrimSpace(tc.from), func(t *testing.T) {
			fsys := fstest.MapFS{"Dockerfile": &fstest.MapFile{Data: []byte(tc.from + run)}, ".dockerignore": &fstest.MapFile{Data: []byte(".git\n")}}
			pr := analyzeAndPatch(t, a, fsys)
			f := pr.Files[0]
			if !strings.HasPrefix(string(f.Patched), tc.wantFrom+run) {
				t.Errorf("patched:\n%s\nwant it to start with:\n%s%s", f.Patched, tc.wantFrom, run)
			}
			for _, ap := range f.Applied {
				if ap.Rule != "package-manager-missing" && ap.Line == 2 {
					t.Errorf("applied %s to line 2: %s", ap.Rule, ap.Message)
				}
			}
			for _, fd := range f.Before.Findings {
				if fd.Line == 2 && fd.Rule != "package-manager-missing" && fd.Fix != nil {
					t.Errorf("%s offers a fix of line 2: %s", fd.Rule, fd.Fix.Message)
				}
			}
			if tc.from != tc.wantFrom {
				held := 0
				for _, d := range f.Dropped {
					if d.Line == 2 && strings.Contains(d.Reason, "line 2 cannot run as written in the original (package-manager-missing)") {
						held++
					}
				}
				if held == 0 {
					t.Errorf("dropped %+v, want the later passes' fixes of line 2 listed with the reason", f.Dropped)
				}
			}
		})
	}
}
