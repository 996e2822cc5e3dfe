// Command buildkit-checks is the peer dockopt's speed is measured against:
// BuildKit's own Dockerfile checks alone (what `docker build --check` runs,
// dockerfile2llb.DockerfileLint) over every Dockerfile under the given
// folders, with the same offline image resolver, capabilities and platform
// dockopt's analyzer uses, printing one line per warning. It imports nothing
// from dockopt, so its start-up and work are BuildKit's alone.
//
//	go build -o /tmp/buildkit-checks ./scripts/buildkit-checks
//	/tmp/buildkit-checks /tmp/corpus
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// offlineResolver answers every image lookup with a minimal Linux config,
// as dockopt's analyzer does, so no registry is dialed; like the
// analyzer's, it encodes the linux/amd64 answer once.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	c := defaultImageConfig()
	if p := opt.ImageOpt; p != nil && p.Platform != nil && (p.Platform.OS != "linux" || p.Platform.Architecture != "amd64") {
		c = imageConfigFor(*p.Platform)
	}
	return ref, c.digest, c.config, c.err
}

type imageConfig struct {
	config []byte
	digest digest.Digest
	err    error
}

var defaultImageConfig = sync.OnceValue(func() imageConfig {
	return imageConfigFor(ocispecs.Platform{OS: "linux", Architecture: "amd64"})
})

func imageConfigFor(platform ocispecs.Platform) imageConfig {
	dt, err := json.Marshal(map[string]any{
		"architecture": platform.Architecture,
		"os":           platform.OS,
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{}},
	})
	if err != nil {
		return imageConfig{err: err}
	}
	return imageConfig{config: dt, digest: digest.FromBytes(dt)}
}

func main() {
	ctx := context.Background()
	caps := pb.Caps.CapSet(pb.Caps.All())
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	files, warnings := 0, 0
	for _, root := range os.Args[1:] {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "Dockerfile" {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files++
			// The lint result records its source with a definition, as the
			// frontend's own source map carries one.
			sm := llb.NewSourceMap(nil, p, "Dockerfile", src)
			sm.Definition = &llb.Definition{}
			res, err := dockerfile2llb.DockerfileLint(ctx, src, dockerfile2llb.ConvertOpt{
				Config:         dockerui.Config{},
				MetaResolver:   offlineResolver{},
				LLBCaps:        &caps,
				TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: "amd64"},
				SourceMap:      sm,
			})
			if err != nil {
				fmt.Fprintf(out, "%s: %v\n", p, err)
				return nil
			}
			for _, w := range res.Warnings {
				warnings++
				line := 0
				if w.Location != nil && len(w.Location.Ranges) > 0 {
					line = int(w.Location.Ranges[0].Start.Line)
				}
				fmt.Fprintf(out, "%s:%d %s: %s\n", p, line, w.RuleName, strings.TrimSpace(w.Detail))
			}
			if res.Error != nil {
				fmt.Fprintf(out, "%s: error: %s\n", p, res.Error.Message)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	fmt.Fprintf(out, "%d Dockerfiles, %d warnings\n", files, warnings)
}
