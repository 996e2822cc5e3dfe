package rules

import (
	"path"
	"slices"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
)

// npmCommands returns the npm commands of a RUN.
func npmCommands(in *analyzer.Instruction) []analyzer.Command {
	if in.Script == nil {
		return nil
	}
	return in.Script.CommandsNamed(analyzer.Npm.Commands...)
}

// contextLockfiles returns the package manager's lockfiles anywhere in
// the context, split into those the build can see, those .dockerignore
// hides, and those behind a .dockerignore that could not be read, which
// may be either.
func contextLockfiles(bc *analyzer.BuildContext, pm *analyzer.PackageManager) (sent, ignored, unknown []string) {
	for _, f := range bc.Files {
		if !slices.Contains(pm.Lockfiles, path.Base(f)) || strings.Contains(f, "node_modules/") {
			continue
		}
		switch {
		case bc.IgnoreUnread():
			unknown = append(unknown, f)
		case bc.DockerIgnore.Excludes(f):
			ignored = append(ignored, f)
		default:
			sent = append(sent, f)
		}
	}
	return sent, ignored, unknown
}
