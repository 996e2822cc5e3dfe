package rules

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// buildkitMayWarn skips the conversion only where no mirrored check can
// report: every warning a mirror rule keeps must come from a file it lets
// through.
func TestBuildKitMayWarnKeepsEveryWarning(t *testing.T) {
	sources := map[string][]byte{
		"invalid-constant-base": []byte("FROM Builder\nRUN true\n"),
		"two-colons":            []byte("FROM debian:buildpack-deps:bookworm\n"),
		"image-id":              []byte("FROM 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"),
		"host-underscore":       []byte("FROM my_registry.example.com/app:1\n"),
		"const-platform":        []byte("FROM --platform=linux/arm64 alpine:3.20\n"),
		"target-platform":       []byte("FROM --platform=$TARGETPLATFORM alpine:3.20\n"),
		"undefined-from-arg":    []byte("ARG VERSION=1\nFROM alpine:$VERSIN\n"),
		"expose":                []byte("FROM alpine:3.20\nEXPOSE 80:80 443/TCP\n"),
		"workdir":               []byte("FROM alpine:3.20\nWORKDIR app\n"),
		"typo":                  []byte("FROM alpine:3.20\nENV APP_HOME=/app\nCOPY . ${APP_HOEM}\n"),
		"typo-continued":        []byte("FROM alpine:3.20\nENV APP_HOME=/app\nENV A=1 \\\n  B=$APP_HOEM\n"),
		"typo-heredoc":          []byte("FROM alpine:3.20\nARG RELEASE=1\nCOPY <<EOF /etc/release\n$RELAESE\nEOF\n"),
		"scratch":               []byte("FROM scratch\nCOPY app /app\nENV X=$UNSET\n"),
		"onbuild":               []byte("FROM alpine:3.20 AS base\nONBUILD WORKDIR app\nFROM base\n"),
	}
	err := filepath.WalkDir("../testdata", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasPrefix(e.Name(), "Dockerfile") {
			return err
		}
		src, err := os.ReadFile(path)
		sources[path] = src
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mirrored := map[string]bool{"UndefinedArgInFrom": true, "RedundantTargetPlatform": true, "FromPlatformFlagConstDisallowed": true,
		"InvalidBaseImagePlatform": true, "InvalidDefaultArgInFrom": true, "ExposeInvalidFormat": true, "ExposeProtoCasing": true,
		"WorkdirRelativePath": true}
	for name, src := range sources {
		d, err := analyzer.Parse(name, src)
		if err != nil {
			continue
		}
		warnings, _ := analyzer.BuildKitLint(context.Background(), src)
		declared := declaredNames(d)
		for _, w := range warnings {
			keeps := mirrored[w.Rule]
			if w.Rule == "UndefinedVar" {
				// What undefined-variable keeps of it.
				used, s := strings.TrimPrefix(quotedValue(w.Message), "$"), suggestion(w.Message)
				in := instructionOnLine(d, w.StartLine)
				keeps = s != "" && declared[s] && likelyTypo(used, s) || in != nil && in.Stage != nil && in.Stage.Root().Base.IsScratch()
			}
			if keeps && !buildkitMayWarn(d, w.Rule) {
				t.Errorf("%s: %s warns %q on line %d, but buildkitMayWarn skips the conversion", name, w.Rule, w.Message, w.StartLine)
			}
		}
	}
}

func TestVariableNames(t *testing.T) {
	var got []string
	variableNames("a $FOO ${BAR:-x} $1abc $$BAZ é$ÉTÉ€ ${} $", func(name string) bool {
		got = append(got, name)
		return false
	})
	if want := "FOO BAR 1 BAZ ÉTÉ"; strings.Join(got, " ") != want {
		t.Errorf("variableNames read %q, want %q", strings.Join(got, " "), want)
	}
}
