package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dockopt/dockopt/analyzer"
)

// scanCreatorOf is the definition createdIndex.creatorOf answers faster:
// the latest earlier instruction with a path that the target covers (its
// first such path), unless that RUN removes the path itself.
func scanCreatorOf(earlier []*analyzer.Instruction, target string) (*analyzer.Instruction, string) {
	for i := len(earlier) - 1; i >= 0; i-- {
		in := earlier[i]
		paths, what := createdPaths(in)
		for j, c := range paths {
			if !covers(target, c, createsWhole(in, what[j])) {
				continue
			}
			if in.Keyword == "RUN" && removesInSameRun(in, c) {
				return nil, ""
			}
			return in, what[j]
		}
	}
	return nil, ""
}

// TestCreatedIndexMatchesScan: on random mixes of instructions that create
// and remove nested paths, globs included, the index finds the creator the
// scan over every earlier instruction finds.
func TestCreatedIndexMatchesScan(t *testing.T) {
	creators := []string{
		"COPY app /srv/app", "COPY . .", "ADD x.tgz /opt/x", "WORKDIR /srv", "WORKDIR app",
		"RUN apt-get update", "RUN apt-get install -y curl", "RUN pip install flask", "RUN npm install",
		"RUN curl -o /tmp/x.tgz https://e.x/x.tgz", "RUN wget -O data.bin https://e.x/d", "RUN git clone https://e.x/r.git",
		"RUN git clone https://e.x/r.git /opt/r", "RUN apt-get update && rm -rf /var/lib/apt/lists/*",
		"RUN curl -o /srv/app/cache/f https://e.x/f && rm -f /srv/app/cache/f",
		"RUN apt-get update && apt-get install -y curl", "RUN wget -O /srv/b https://e.x/b && curl -o /srv/a https://e.x/a",
	}
	targets := []string{"/srv", "/srv/app", "/srv/app/cache", "/srv/app/*", "/srv/*.tmp", "/opt", "/opt/x/*",
		"/opt/r/.git", "r", "app/cache", "/var/lib/apt/lists/*", "/var/lib/apt", "/var/cache/apt/*", "/root/.cache",
		"/root/.cache/pip", "/root/.npm/_cacache", "/tmp/x.tgz", "/tmp/*", "data.bin", "/", "/*", "/srv/ap?/x", "/var", "/var/*"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var b strings.Builder
		b.WriteString("FROM debian:12\n")
		for range 2 + rng.IntN(12) {
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&b, "RUN rm -rf %s %s\n", targets[rng.IntN(len(targets))], targets[rng.IntN(len(targets))])
			} else {
				b.WriteString(creators[rng.IntN(len(creators))] + "\n")
			}
		}
		d, err := analyzer.Parse("Dockerfile", []byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		all := d.FinalStage().LineageInstructions()
		idx := &createdIndex{}
		for i, in := range all {
			for _, target := range targets {
				for _, wd := range []string{"/", in.WorkdirBefore()} {
					abs := analyzer.ResolvePath(wd, target)
					wantIn, wantWhat := scanCreatorOf(all[:i], abs)
					gotIn, gotWhat := idx.creatorOf(abs)
					if gotIn != wantIn || gotWhat != wantWhat {
						t.Fatalf("round %d, before line %d, rm %s:\n%s\nindex: %v %q\nscan:  %v %q", round, in.StartLine, abs, b.String(), line(gotIn), gotWhat, line(wantIn), wantWhat)
					}
				}
			}
			idx.add(in)
		}
	}
}

func line(in *analyzer.Instruction) int {
	if in == nil {
		return 0
	}
	return in.StartLine
}
