package analyzer

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// ComposeService is a compose service that builds the file, and the
// command it runs the image with ("" when it keeps the image's).
type ComposeService struct {
	File, Name string
	Command    string
	// Env names the variables its environment sets or passes through;
	// EnvUnknown is set when more may be set: by an env_file, or in an
	// environment too large to read.
	Env        []string
	EnvUnknown bool
}

// MaySetEnv reports whether the service's container may have the
// variable set, whatever the image's ENV says.
func (s ComposeService) MaySetEnv(name string) bool {
	return s.EnvUnknown || slices.Contains(s.Env, name)
}

// maxComposeFiles bounds how many compose files one Dockerfile's
// services are looked up in.
const maxComposeFiles = 8

// ComposeServices returns the services of the repository's compose files
// that build this Dockerfile, read from its folder up to the analyzed
// root (bounded: a few files of at most 1 MiB each, as Discover reads
// them). A compose file that does not parse is skipped.
func (f *Facts) ComposeServices() []ComposeService {
	fsys := f.ctx.fsys
	if fsys == nil || f.file.Path == "" {
		return nil
	}
	ev := f.ctx.repo
	if ev == nil {
		ev = newRepoEvidence()
	}
	var out []ComposeService
	read := 0
	dir := path.Dir(f.file.Path)
	for depth := 0; depth < maxAncestorDirs && read < maxComposeFiles; depth++ {
		// The folder's listing is read once per analysis: listing the
		// root for each Dockerfile (and each candidate of its patch) was a
		// tenth of a corpus run's instructions.
		for _, p := range ev.dir(fsys, dir).composes {
			if read >= maxComposeFiles {
				break
			}
			read++
			out = append(out, composeServicesBuilding(fsys, ev, p, f.file.Path)...)
		}
		if dir == "." || dir == "/" || dir == "" {
			break
		}
		dir = path.Dir(dir)
	}
	return out
}

// composeServicesBuilding lists the services of the compose file at p
// that build the Dockerfile at df, with their commands. Each compose file
// is read once per analysis (ev caches it): a repository of many
// Dockerfiles next to one large compose file parses it once, not once a
// Dockerfile.
func composeServicesBuilding(fsys fs.FS, ev *repoEvidence, p, df string) []ComposeService {
	var out []ComposeService
	for _, s := range ev.compose(fsys, p) {
		if s.dockerfile == df {
			out = append(out, s.ComposeService)
		}
	}
	return out
}

// composeBuild is a compose service that builds a Dockerfile.
type composeBuild struct {
	ComposeService
	dockerfile string
}

// composeEvidence is one compose file's building services, read once.
type composeEvidence struct {
	once     sync.Once
	services []composeBuild
}

// compose returns the services of the compose file at p that build a
// Dockerfile, read once for all the Dockerfiles of an analysis.
func (r *repoEvidence) compose(fsys fs.FS, p string) []composeBuild {
	r.mu.Lock()
	if r.composes == nil {
		r.composes = map[string]*composeEvidence{}
	}
	ev, ok := r.composes[p]
	if !ok {
		ev = &composeEvidence{}
		r.composes[p] = ev
	}
	r.mu.Unlock()
	ev.once.Do(func() { ev.services = readComposeBuilds(fsys, p) })
	return ev.services
}

// readComposeBuilds reads the services of the compose file at p that
// build a Dockerfile, with their commands.
func readComposeBuilds(fsys fs.FS, p string) []composeBuild {
	targets := composeBuilds(fsys, p)
	if len(targets) == 0 {
		return nil
	}
	b, err := readBounded(fsys, p, 1<<20)
	if err != nil {
		return nil
	}
	var cf struct {
		Services map[string]struct {
			Command     yaml.Node `yaml:"command"`
			Entrypoint  yaml.Node `yaml:"entrypoint"`
			Environment yaml.Node `yaml:"environment"`
			EnvFile     yaml.Node `yaml:"env_file"`
		} `yaml:"services"`
	}
	if yaml.Unmarshal(b, &cf) != nil {
		return nil
	}
	var out []composeBuild
	for _, t := range targets {
		s, ok := cf.Services[t.Service]
		if !ok {
			continue
		}
		cmd := composeWords(s.Command)
		if ep := composeWords(s.Entrypoint); ep != "" {
			cmd = strings.TrimSpace(fmt.Sprintf("[entrypoint %s] %s", ep, cmd))
		}
		env, all := composeEnvNames(s.Environment)
		svc := ComposeService{File: p, Name: t.Service, Command: cmd, Env: env, EnvUnknown: !all || s.EnvFile.Kind != 0}
		out = append(out, composeBuild{svc, t.Path})
	}
	return out
}

// composeWords is a compose command or entrypoint as one string: a
// string as written, a list joined with spaces.
func composeWords(n yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.SequenceNode:
		var words []string
		for _, c := range n.Content {
			words = append(words, c.Value)
		}
		return strings.Join(words, " ")
	}
	return ""
}

// maxComposeEnvNodes bounds the YAML nodes read for one service's
// environment.
const maxComposeEnvNodes = 512

// composeEnvNames are the variables a service's environment names, as a
// map (PORT: 4000) or a list (PORT=4000, or PORT to pass the host's on),
// through YAML aliases and merge keys (<<: *common-env), a few deep and
// a bounded number of nodes (aliases of aliases multiply): all is false
// when those bounds left some unread.
func composeEnvNames(n yaml.Node) (names []string, all bool) {
	visits := 0
	all = true
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if visits++; depth > 4 || visits > maxComposeEnvNodes {
			all = false
			return
		}
		if n == nil {
			return
		}
		switch n.Kind {
		case yaml.AliasNode:
			walk(n.Alias, depth+1)
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "<<" {
					walk(n.Content[i+1], depth+1)
					continue
				}
				// Each key counts: a map of many keys merged through
				// hundreds of aliases would otherwise be copied whole
				// each time.
				if visits++; visits > maxComposeEnvNodes {
					all = false
					return
				}
				names = append(names, n.Content[i].Value)
			}
		case yaml.SequenceNode:
			// A list of NAME=value, or a merge of several maps (<<: [*a, *b]).
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		case yaml.ScalarNode:
			name, _, _ := strings.Cut(n.Value, "=")
			names = append(names, name)
		}
	}
	walk(&n, 0)
	return names, all
}
