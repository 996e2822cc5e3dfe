package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args               []string
		code               int
		done               bool
		stdout, stderr     string
		noStdout, noStderr bool
	}{
		{args: []string{"-h"}, code: 0, done: true, stdout: "usage: x [--n N]\n\nflags:\n  -n int", noStderr: true},
		{args: []string{"--help"}, code: 0, done: true, stdout: "usage: x", noStderr: true},
		{args: []string{"-nope"}, code: 2, done: true, stderr: "flag provided but not defined: -nope\nusage: x", noStdout: true},
		{args: []string{"-n", "x"}, code: 2, done: true, stderr: "invalid value", noStdout: true},
		{args: []string{"-n", "3", "arg"}, code: 0, done: false, noStdout: true, noStderr: true},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.Int("n", 0, "a number")
		var stdout, stderr bytes.Buffer
		code, done := Parse(fs, "usage: x [--n N]\n", tc.args, &stdout, &stderr)
		if code != tc.code || done != tc.done {
			t.Errorf("%q: code %d done %v, want %d %v", tc.args, code, done, tc.code, tc.done)
		}
		if !strings.Contains(stdout.String(), tc.stdout) || (tc.noStdout && stdout.Len() > 0) {
			t.Errorf("%q: stdout %q, want %q", tc.args, stdout.String(), tc.stdout)
		}
		if !strings.Contains(stderr.String(), tc.stderr) || (tc.noStderr && stderr.Len() > 0) {
			t.Errorf("%q: stderr %q, want %q", tc.args, stderr.String(), tc.stderr)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		word string
		irr  []string
		want string
	}{
		{0, "Dockerfile", nil, "0 Dockerfiles"},
		{1, "Dockerfile", nil, "1 Dockerfile"},
		{2, "finding", nil, "2 findings"},
		{1, "child", []string{"children"}, "1 child"},
		{3, "child", []string{"children"}, "3 children"},
	} {
		if got := Plural(tc.n, tc.word, tc.irr...); got != tc.want {
			t.Errorf("Plural(%d, %q) = %q, want %q", tc.n, tc.word, got, tc.want)
		}
	}
}
