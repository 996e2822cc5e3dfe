// Package offlineresolver answers BuildKit's image-config lookups without a
// registry. The analyzer converts Dockerfiles with it, and
// scripts/buildkit-checks, the peer dockopt's speed is measured against,
// lints with it too: one resolver for both keeps the comparison fair (a
// copy in the peer once fell behind the analyzer's and made it slower by
// exactly what the analyzer had saved). It imports BuildKit's types
// alone, so the peer's start-up and work stay BuildKit's.
package offlineresolver

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Resolver answers every image-config lookup with a minimal Linux config
// of the platform asked for, so conversion never dials a registry. It
// knows nothing of the real image's environment, which is why
// UndefinedVar needs care.
type Resolver struct{}

func (Resolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	c := defaultImageConfig()
	if p := opt.ImageOpt; p != nil && p.Platform != nil && (p.Platform.OS != "linux" || p.Platform.Architecture != "amd64") {
		c = imageConfigFor(*p.Platform)
	}
	return ref, c.digest, c.config, c.err
}

// imageConfig is the config the resolver answers with, and its digest.
type imageConfig struct {
	config []byte
	digest digest.Digest
	err    error
}

// defaultImageConfig is the answer for linux/amd64, made once: nearly
// every base image is looked up for that platform, and encoding it anew
// for each was a fiftieth of a patched corpus's CPU time. BuildKit only
// decodes the bytes it is given.
var defaultImageConfig = sync.OnceValue(func() imageConfig {
	return imageConfigFor(ocispecs.Platform{OS: "linux", Architecture: "amd64"})
})

func imageConfigFor(platform ocispecs.Platform) imageConfig {
	cfg := map[string]any{
		"architecture": platform.Architecture,
		"os":           platform.OS,
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{}},
	}
	dt, err := json.Marshal(cfg)
	if err != nil {
		return imageConfig{err: err}
	}
	return imageConfig{config: dt, digest: digest.FromBytes(dt)}
}
