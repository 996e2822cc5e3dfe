package patcher

import (
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/patcher/compose"
)

// hardenCompose proposes the compose hardening for every compose file that
// builds a patched Dockerfile, from the facts of the optimized images.
func hardenCompose(fsys fs.FS, files []*File) []Change {
	byCompose := map[string]map[string]compose.ServiceFacts{}
	for _, f := range files {
		fr := f.Before
		if fr == nil || fr.Compose == "" || fr.Service == "" {
			continue
		}
		res := f.After
		if res == nil || res.Dockerfile == nil {
			res = f.Before
		}
		if byCompose[fr.Compose] == nil {
			byCompose[fr.Compose] = map[string]compose.ServiceFacts{}
		}
		byCompose[fr.Compose][fr.Service] = serviceFacts(res)
	}
	var out []Change
	paths := make([]string, 0, len(byCompose))
	for p := range byCompose {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			continue
		}
		hardened, _, err := compose.Harden(p, src, byCompose[p])
		if err != nil || string(hardened) == string(src) {
			continue
		}
		out = append(out, Change{Path: p, Action: "modify", Content: hardened, Original: src, For: p,
			Why: "compose services hardened: capabilities dropped, read-only root file system, no-new-privileges, health checks, memory limits (review)"})
	}
	return out
}

func serviceFacts(fr *analyzer.FileResult) compose.ServiceFacts {
	d := fr.Dockerfile
	sf := compose.ServiceFacts{Kind: fr.Kind}
	u := analyzer.FinalUser(d)
	sf.NonRoot = u != "" && !analyzer.IsRootUser(u)
	final := d.FinalStage()
	for s := final; s != nil; s = s.BaseStage {
		for _, in := range s.Instructions {
			switch c := in.Command.(type) {
			case *instructions.ExposeCommand:
				// The lowest port decides whether binding needs
				// NET_BIND_SERVICE; BuildKit lists the ports sorted as
				// text, so the first is not the lowest ("10000" < "80").
				for _, p := range c.Ports {
					p, _, _ = strings.Cut(p, "/")
					p, _, _ = strings.Cut(p, "-")
					if port, err := strconv.Atoi(p); err == nil && port > 0 && (sf.Port == 0 || port < sf.Port) {
						sf.Port = port
					}
				}
			case *instructions.HealthCheckCommand:
				if sf.HealthCmd == nil && c.Health != nil && len(c.Health.Test) > 1 && c.Health.Test[0] == "CMD" {
					sf.HealthCmd = c.Health.Test[1:]
				}
			}
		}
	}
	if sf.Port > 0 && sf.Port < 1024 {
		// EXPOSE may still name the port the configuration moved the
		// server off (EXPOSE 80 over a default.conf that listens on
		// 8080): where the facts say exactly which ports it binds, those
		// decide whether it needs NET_BIND_SERVICE.
		if f := fr.Facts(); f != nil {
			if ports, ok := f.Stage(final).ListenPorts(); ok && slices.Min(ports) >= 1024 {
				sf.Port = slices.Min(ports)
			}
		}
	}
	return sf
}
