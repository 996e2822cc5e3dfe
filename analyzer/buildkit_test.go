package analyzer

import (
	"strings"
	"testing"
)

func TestBuildKitLintOffline(t *testing.T) {
	src := []byte("FROM node:20 as Build\nMAINTAINER someone\nRUN --mount=type=cache,target=/root/.npm npm ci\nCMD node server.js\n")
	ws, err := BuildKitLint(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.Rule)
	}
	want := []string{"FromAsCasing", "StageNameCasing", "MaintainerDeprecated", "JSONArgsRecommended"}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, ","), w) {
			t.Errorf("BuildKit warnings %v lack %s", got, w)
		}
	}
}

func TestConvertLLB(t *testing.T) {
	// Without a capability set, RUN --mount panics inside BuildKit.
	if err := ConvertLLB(t.Context(), []byte("FROM alpine:3.20\nRUN --mount=type=cache,target=/x true\n")); err != nil {
		t.Fatalf("valid Dockerfile refused: %v", err)
	}
	if err := ConvertLLB(t.Context(), []byte("FROM alpine:3.20\nCOPY --chmod=abc a b\n")); err == nil {
		t.Errorf("an invalid --chmod should fail conversion")
	}
	if err := ConvertLLB(t.Context(), []byte("FROM alpine:3.20\nHEALTHCHECK --interval=often CMD true\n")); err == nil {
		t.Errorf("an invalid HEALTHCHECK interval should fail conversion")
	}
}
