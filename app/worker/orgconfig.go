package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/dockopt/dockopt/app/publish"
	"github.com/dockopt/dockopt/app/review"
)

// OrgConfigRepo is the repository of an organization whose
// .github/dockopt.yml holds the defaults of all its repositories, as
// GitHub's community health files and Dependabot's and Renovate's shared
// presets live there.
const OrgConfigRepo = ".github"

// orgConfigPaths are read in that repository, first found wins.
var orgConfigPaths = []string{".github/dockopt.yml", ".github/dockopt.yaml"}

// orgConfigTTL is how long an organization's defaults are reused before
// they are read again: one read serves a burst of jobs, and a change
// reaches every repository within minutes.
const orgConfigTTL = 5 * time.Minute

// orgConfigs caches each owner's defaults in this process.
type orgConfigs struct {
	mu sync.Mutex
	m  map[string]orgEntry
}

type orgEntry struct {
	cfg     *analyzer.Config // nil: the owner has none
	err     error
	expires time.Time
}

// orgDefaults returns the configuration an owner's .github repository
// gives its repositories, nil when there is none or the installation
// cannot see it.
func (w *Worker) orgDefaults(ctx context.Context, gh *github.Client, owner string) (*analyzer.Config, error) {
	key := strings.ToLower(owner)
	// Held across the read: the jobs of one installation start together,
	// and one read serves them all.
	w.orgs.mu.Lock()
	defer w.orgs.mu.Unlock()
	if e, ok := w.orgs.m[key]; ok && time.Now().Before(e.expires) {
		return e.cfg, e.err
	}
	cfg, err := readOrgDefaults(ctx, gh, owner)
	var perm *permanentError
	if err != nil && !errors.As(err, &perm) {
		return nil, err
	}
	if w.orgs.m == nil {
		w.orgs.m = map[string]orgEntry{}
	}
	w.orgs.m[key] = orgEntry{cfg: cfg, err: err, expires: time.Now().Add(orgConfigTTL)}
	return cfg, err
}

func readOrgDefaults(ctx context.Context, gh *github.Client, owner string) (*analyzer.Config, error) {
	for _, p := range orgConfigPaths {
		fc, _, _, err := gh.Repositories.GetContents(ctx, owner, OrgConfigRepo, p, nil)
		if publish.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s/%s %s: %w", owner, OrgConfigRepo, p, err)
		}
		if fc == nil {
			continue // a folder of that name
		}
		text, err := fc.GetContent()
		if err != nil {
			return nil, fmt.Errorf("decoding %s/%s %s: %w", owner, OrgConfigRepo, p, err)
		}
		name := owner + "/" + OrgConfigRepo + ":" + p
		cfg, err := analyzer.ParseConfig(name, []byte(text))
		if err != nil {
			return nil, &permanentError{"Configuration error", "dockopt could not use the organization's default configuration:\n\n" + review.Fence(err.Error()) + "\n" + err.Error() +
				"\n" + review.Fence(err.Error()) + "\n\nEvery repository of " + owner + " starts from that file; fix it in `" + owner + "/" + OrgConfigRepo + "` and push again."}
		}
		return cfg, nil
	}
	return nil, nil
}

// layered lays a repository's configuration over its owner's defaults.
func (w *Worker) layered(ctx context.Context, gh *github.Client, owner string, cfg *analyzer.Config) (*analyzer.Config, error) {
	org, err := w.orgDefaults(ctx, gh, owner)
	if err != nil || org == nil {
		return cfg, err
	}
	return analyzer.Merge(org, cfg), nil
}
