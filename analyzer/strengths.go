package analyzer

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// DetectStrengths lists what a Dockerfile already does well. The report
// shows them before the problems, because a reviewer trusts a tool that
// sees what is right as well as what is wrong.
func DetectStrengths(d *Dockerfile, bc *BuildContext) []Strength {
	var out []Strength
	add := func(id, format string, args ...any) {
		out = append(out, Strength{ID: id, Message: fmt.Sprintf(format, args...)})
	}
	final := d.FinalStage()
	if final == nil {
		return nil
	}
	if len(d.Stages) > 1 && usesCopyFrom(d) {
		add("multi-stage", "multi-stage build: %d stages, only the last ships", len(d.Stages))
	}
	if u := FinalUser(d); u != "" && !IsRootUser(u) {
		add("non-root-user", "runs as the unprivileged user %q", u)
	}
	for _, s := range stageChain(final) {
		for _, in := range s.Instructions {
			if in.Keyword == "HEALTHCHECK" && !(len(in.Args) > 0 && strings.EqualFold(in.Args[0], "NONE")) {
				add("healthcheck", "declares a HEALTHCHECK so orchestrators can tell a hung container from a healthy one")
			}
		}
	}
	if c := lastOf(final, "CMD", "ENTRYPOINT"); c != nil && c.JSON {
		add("exec-form-cmd", "%s uses the exec form, so signals reach the process directly", c.Keyword)
	}
	if hasInit(d) {
		add("init-process", "runs an init process that forwards signals and reaps zombies")
	}
	pinned := 0
	external := 0
	for _, s := range d.Stages {
		if s.BaseStage != nil || s.Base.IsScratch() {
			continue
		}
		external++
		if s.Base.Pinned() {
			pinned++
		}
	}
	if external > 0 && pinned == external {
		add("pinned-base", "every base image is pinned by digest, so builds are reproducible")
	}
	if usesCacheMounts(d) {
		add("cache-mounts", "uses BuildKit cache mounts for package downloads")
	}
	if bc != nil && bc.DockerIgnore != nil && bc.DockerIgnore.Compiles() {
		add("dockerignore", "has a .dockerignore (%s) that keeps the build context small", bc.DockerIgnore.Path)
	}
	if slim := final.Root().Base; isSlimImage(slim) {
		add("slim-base", "the final image is based on a small image (%s)", slim.Raw)
	}
	if cleansAptLists(d) {
		add("apt-lists-cleaned", "removes apt package lists in the same layer that downloads them")
	}
	if usesCopyChown(d) {
		add("copy-chown", "sets file ownership with COPY --chown instead of a separate chown layer")
	}
	if hasWorkdir(final) {
		add("workdir", "uses WORKDIR with an absolute path instead of cd in RUN")
	}
	return out
}

func stageChain(s *Stage) []*Stage {
	var chain []*Stage
	for ; s != nil && len(chain) < 100; s = s.BaseStage {
		chain = append([]*Stage{s}, chain...)
	}
	return chain
}

func lastOf(s *Stage, keywords ...string) *Instruction {
	var last *Instruction
	for _, st := range stageChain(s) {
		for _, in := range st.Instructions {
			for _, k := range keywords {
				if in.Keyword == k {
					last = in
				}
			}
		}
	}
	return last
}

func usesCopyFrom(d *Dockerfile) bool {
	for in := range d.Each("COPY") {
		if _, ok := in.Flag("from"); ok {
			return true
		}
	}
	return false
}

// FinalUser returns the user the final stage runs as, "" when no USER is
// set anywhere in its chain (which means root, unless the base image sets
// one; see BaseImageUser).
func FinalUser(d *Dockerfile) string {
	final := d.FinalStage()
	if final == nil {
		return ""
	}
	if u := lastOf(final, "USER"); u != nil && len(u.Args) > 0 {
		return u.Args[0]
	}
	return BaseImageUser(final.Root().Base)
}

// BaseImageUser is the user well-known images set in their own config.
func BaseImageUser(r ImageRef) string {
	name, tag := r.Name(), r.Tag
	switch {
	case r.IsDistroless() && (strings.Contains(tag, "nonroot") || r.Registry == "cgr.dev" && name != "wolfi-base"):
		// wolfi-base, Chainguard's image to apk add in, runs as root.
		return "nonroot"
	case name == "nginx-unprivileged" || strings.Contains(r.Repository, "nginx-unprivileged"):
		return "nginx"
	case isBitnami(r) && !bitnamiRootImages[strings.ToLower(name)]:
		return "1001"
	}
	return ""
}

// bitnamiRootImages are Bitnami images that, unlike its server images,
// set no USER and run as root: the minideb base (a debootstrap root
// filesystem, bitnami/minideb's mkimage), the language runtimes built on
// it and its git image (bitnami/containers python/3.12, node/22,
// golang/1.24, ruby/3.3, java/21, php-fpm/8.3 and git/2 debian-12
// Dockerfiles end with a WORKDIR, ENTRYPOINT or CMD and no USER).
var bitnamiRootImages = map[string]bool{"minideb": true, "python": true, "node": true, "golang": true, "ruby": true,
	"java": true, "php-fpm": true, "git": true}

// IsRootUser reports the names and IDs of root.
func IsRootUser(u string) bool {
	user, _, _ := strings.Cut(u, ":")
	return user == "root" || user == "0"
}

func hasInit(d *Dockerfile) bool {
	for _, w := range StartCommand(d) {
		switch path.Base(w) {
		case "tini", "dumb-init", "s6-svscan", "catatonit", "init":
			return true
		}
		if w == "--init" {
			return true
		}
	}
	return false
}

func usesCacheMounts(d *Dockerfile) bool {
	for in := range d.Each("RUN") {
		for _, f := range in.Flags {
			if strings.Contains(f, "type=cache") {
				return true
			}
		}
	}
	return false
}

func isSlimImage(r ImageRef) bool {
	t := strings.ToLower(r.Tag)
	return r.IsDistroless() || r.IsScratch() || strings.Contains(t, "slim") || strings.Contains(t, "alpine") ||
		r.Name() == "alpine" || strings.Contains(t, "minimal") || strings.Contains(t, "micro") || r.Name() == "busybox"
}

// IsSlimImage reports small base images (slim, alpine, distroless, scratch).
func IsSlimImage(r ImageRef) bool { return isSlimImage(r) }

func cleansAptLists(d *Dockerfile) bool {
	for in := range d.Each("RUN") {
		if in.Script == nil {
			continue
		}
		installs, cleans := false, false
		for _, c := range in.Script.Commands() {
			if (c.Name == "apt-get" || c.Name == "apt") && c.Subcommand() == "install" {
				installs = true
			}
			if c.Name == "rm" {
				for _, a := range c.Args {
					if strings.HasPrefix(a.Value, "/var/lib/apt/lists") {
						cleans = true
					}
				}
			}
		}
		if installs && cleans {
			return true
		}
	}
	return false
}

func usesCopyChown(d *Dockerfile) bool {
	for in := range d.Each("COPY") {
		if _, ok := in.Flag("chown"); ok {
			return true
		}
	}
	return false
}

func hasWorkdir(s *Stage) bool {
	for _, st := range stageChain(s) {
		for _, in := range st.Instructions {
			if c, ok := in.Command.(*instructions.WorkdirCommand); ok && strings.HasPrefix(c.Path, "/") {
				return true
			}
		}
	}
	return false
}
