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
// the context, split into those the build can see and those
// .dockerignore hides.
func contextLockfiles(bc *analyzer.BuildContext, pm *analyzer.PackageManager) (sent, ignored []string) {
	for _, f := range bc.Files {
		if !slices.Contains(pm.Lockfiles, path.Base(f)) || strings.Contains(f, "node_modules/") {
			continue
		}
		if bc.DockerIgnore.Excludes(f) {
			ignored = append(ignored, f)
		} else {
			sent = append(sent, f)
		}
	}
	return sent, ignored
}
