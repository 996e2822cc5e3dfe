package offlineresolver

import (
	"encoding/json"
	"testing"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The resolver answers each platform with a config of that platform:
// BuildKit compares it with the platform a stage asked for
// (InvalidBaseImagePlatform), so the shared linux/amd64 answer must not
// leak to another platform.
func TestResolverAnswersThePlatformAsked(t *testing.T) {
	for _, p := range []*ocispecs.Platform{nil, {OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}, {OS: "windows", Architecture: "amd64"}} {
		opt := sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: p}}
		ref, dgst, dt, err := Resolver{}.ResolveImageConfig(t.Context(), "docker.io/library/alpine:3.20", opt)
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
