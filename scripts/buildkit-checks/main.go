// Command buildkit-checks is the peer dockopt's speed is measured against:
// BuildKit's own Dockerfile checks alone (what `docker build --check` runs,
// dockerfile2llb.DockerfileLint) over every Dockerfile under the given
// folders, with the same offline image resolver, capabilities and platform
// dockopt's analyzer uses, printing one line per warning. Of dockopt it
// imports only that resolver (internal/offlineresolver, which imports
// BuildKit's types alone), so its start-up and work are BuildKit's.
//
//	go build -o /tmp/buildkit-checks ./scripts/buildkit-checks
//	/tmp/buildkit-checks /tmp/corpus
package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockopt/dockopt/internal/offlineresolver"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

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
				MetaResolver:   offlineresolver.Resolver{},
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
