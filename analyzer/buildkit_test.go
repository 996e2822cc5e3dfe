package analyzer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
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

// The offline resolver answers each platform with a config of that
// platform: BuildKit compares it with the platform a stage asked for
// (InvalidBaseImagePlatform), so the shared linux/amd64 answer must not
// leak to another platform.
func TestOfflineResolverAnswersThePlatformAsked(t *testing.T) {
	for _, p := range []*ocispecs.Platform{nil, {OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}, {OS: "windows", Architecture: "amd64"}} {
		opt := sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: p}}
		ref, dgst, dt, err := offlineResolver{}.ResolveImageConfig(t.Context(), "docker.io/library/alpine:3.20", opt)
		if err != nil {
			t.Fatal(err)
		}
		var img ocispecs.Image
		if err := json.Unmarshal(dt, &img); err != nil {
			t.Fatal(err)
		}
		want := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
		if p != nil {
			want = *p
		}
		if ref != "docker.io/library/alpine:3.20" || img.OS != want.OS || img.Architecture != want.Architecture || dgst != digest.FromBytes(dt) {
			t.Errorf("platform %v: got %s %s/%s %s", p, ref, img.OS, img.Architecture, dgst)
		}
		if len(img.Config.Env) == 0 {
			t.Errorf("platform %v: no PATH in the config", p)
		}
	}
}
