package rules

import (
	"path"
	"strings"

	"github.com/dockopt/dockopt/analyzer"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// Helpers shared by the theme-B rules (secrets, npm, nginx, Python
// runtime settings, base images). Names end in B where a generic name
// could clash with another group's helpers.

// chainB returns the stages s is built on, root first, ending with s.
func chainB(s *analyzer.Stage) []*analyzer.Stage {
	var out []*analyzer.Stage
	for ; s != nil && len(out) < 100; s = s.BaseStage {
		out = append([]*analyzer.Stage{s}, out...)
	}
	return out
}

// chainInstructionsB returns the instructions of s and the stages it is
// built on, in build order.
func chainInstructionsB(s *analyzer.Stage) []*analyzer.Instruction {
	var out []*analyzer.Instruction
	for _, st := range chainB(s) {
		out = append(out, st.Instructions...)
	}
	return out
}

// beforeB reports whether instruction a comes before b in the file.
func beforeB(a, b *analyzer.Instruction) bool { return a.Index < b.Index }

// npmCommandsB returns the npm commands of a RUN with their subcommand.
func npmCommandsB(in *analyzer.Instruction) []analyzer.Command {
	if in.Script == nil {
		return nil
	}
	return in.Script.CommandsNamed("npm")
}

// npmValuedB are npm options that take a separate value.
var npmValuedB = []string{"--prefix", "-w", "--workspace", "--cache", "--registry", "--loglevel", "--omit", "--include", "--userconfig", "-C"}

func npmSubcommandB(c analyzer.Command) string { return c.Subcommand(npmValuedB...) }

func isNpmInstallB(sub string) bool {
	switch sub {
	case "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall":
		return true
	}
	return false
}

func isNpmCIB(sub string) bool {
	switch sub {
	case "ci", "clean-install", "ic", "install-clean", "isntall-clean":
		return true
	}
	return false
}

// npmLockfileNames are the files `npm ci` installs from.
var npmLockfileNames = []string{"package-lock.json", "npm-shrinkwrap.json"}

// contextLockfilesB returns the npm lockfiles anywhere in the context,
// split into those the build can see and those .dockerignore hides.
func contextLockfilesB(bc *analyzer.BuildContext) (sent, ignored []string) {
	for _, f := range bc.Files {
		base := path.Base(f)
		if base != npmLockfileNames[0] && base != npmLockfileNames[1] {
			continue
		}
		if strings.Contains(f, "node_modules/") {
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

// contextCopiedB reports whether some COPY or ADD from the build context
// before in (in its stage chain) sends the context file f into the image.
func contextCopiedB(in *analyzer.Instruction, bc *analyzer.BuildContext, f string) bool {
	if in.Stage == nil {
		return false
	}
	for _, i := range chainInstructionsB(in.Stage) {
		if !beforeB(i, in) {
			break
		}
		c, ok := copyOf(i)
		if !ok {
			continue
		}
		for _, src := range c.contextSources() {
			if sourceCoversB(src, f) && !bc.DockerIgnore.Excludes(f) {
				return true
			}
		}
	}
	return false
}

// sourceCoversB reports whether a COPY source (a path, a folder or a
// pattern, relative to the context) includes the context file f.
func sourceCoversB(src, f string) bool {
	src = path.Clean(strings.TrimPrefix(src, "/"))
	if isWholeContextA(src) {
		return true
	}
	if ok, _ := path.Match(src, f); ok {
		return true
	}
	if strings.HasPrefix(f, src+"/") {
		return true
	}
	// A pattern naming a folder: `COPY app* /srv` copies app/ whole.
	for dir := path.Dir(f); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if ok, _ := path.Match(src, dir); ok {
			return true
		}
	}
	return false
}

// envSetInChainB returns the last value the stage chain of s gives an ENV
// variable, and whether it is set at all.
func envSetInChainB(s *analyzer.Stage, name string) (string, bool) {
	val, found := "", false
	for _, i := range chainInstructionsB(s) {
		if c, ok := i.Command.(*instructions.EnvCommand); ok {
			for _, kv := range c.Env {
				if kv.Key == name {
					val, found = kv.Value, true
				}
			}
		}
	}
	return val, found
}

// keywordLikeB spells keyword in the casing of an instruction the author
// wrote, so that inserted lines match the file.
func keywordLikeB(written, keyword string) string {
	if written != "" && written == strings.ToLower(written) {
		return strings.ToLower(keyword)
	}
	return strings.ToUpper(keyword)
}

// insertLineAfterB inserts a line after the last line of in.
func insertLineAfterB(d *analyzer.Dockerfile, in *analyzer.Instruction, line string) analyzer.TextEdit {
	at := d.LineEnd(in.EndLine)
	return analyzer.TextEdit{Start: at, End: at, New: d.Newline() + d.Indent(in.StartLine) + line}
}

// stmtCallNameB returns a statement's command name after wrappers
// (sudo, env …) when it is a plain call, "" otherwise.
func stmtCallNameB(s *analyzer.Script, st *syntax.Stmt) string {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 {
		return ""
	}
	for _, c := range s.Commands() {
		if c.Call == call {
			return c.Name
		}
	}
	return ""
}

// shellNamesB are the interpreters a downloaded script is piped into.
var shellNamesB = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "busybox": true}

// installedPackagesB returns the OS and language packages the RUNs of a
// stage chain install, by name.
func installedPackagesB(s *analyzer.Stage) map[string]bool {
	out := map[string]bool{}
	for _, in := range chainInstructionsB(s) {
		if in.Keyword != "RUN" || in.Script == nil {
			continue
		}
		for _, c := range in.Script.Commands() {
			switch c.Name {
			case "apt-get", "apt", "apk", "dnf", "microdnf", "yum", "zypper":
			case "npm", "pip", "pip3":
			default:
				continue
			}
			for _, a := range c.Args {
				name := a.Value
				for _, sep := range []string{"=", ">", "<", "~", "@"} {
					if i := strings.Index(name, sep); i > 0 {
						name = name[:i]
					}
				}
				out[name] = true
			}
		}
	}
	return out
}
